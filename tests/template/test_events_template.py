"""template.yaml: completion events read from the tasks table's stream, and webhooks, least-privilege."""

from __future__ import annotations

import json
import tomllib

from tasklane.model.task import TaskStatus
from tasklane.settings.webhooks import WEBHOOK_REQUIRED_ENV
from tests import cfn

RESOURCES = cfn.template()["Resources"]


def _grants(name):
    """Action -> the resources granted, from the function's Policies or from the role written for it."""
    properties = RESOURCES[name]["Properties"]
    statements = [s for p in properties.get("Policies", []) for s in p["Statement"]]
    if "Role" in properties:
        role = RESOURCES[properties["Role"]["Fn::GetAtt"][0]]["Properties"]
        statements += [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    grants: dict[str, list] = {}
    for statement in statements:
        for action in statement["Action"]:
            resources = statement["Resource"]
            grants.setdefault(action, []).extend(resources if isinstance(resources, list) else [resources])
    return grants


def _events_mapping():
    return RESOURCES["EventsFunction"]["Properties"]["Events"]["Changes"]["Properties"]


def test_the_tasks_table_streams_both_images_to_the_events_function():
    assert RESOURCES["TasksTable"]["Properties"]["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    mapping = RESOURCES["EventsFunction"]["Properties"]["Events"]["Changes"]
    assert mapping["Type"] == "DynamoDB"
    assert mapping["Properties"]["Stream"] == {"Fn::GetAtt": ["TasksTable", "StreamArn"]}


def test_the_stream_mapping_retries_partially_bisects_ages_out_and_keeps_what_fails():
    mapping = _events_mapping()
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert 0 < mapping["MaximumRetryAttempts"] <= 100
    # The local emulator retries a failing batch forever and sends it on only once this age passes.
    assert 60 <= mapping["MaximumRecordAgeInSeconds"] <= 86400
    assert mapping["DestinationConfig"]["OnFailure"] == {
        "Type": "SQS",
        "Destination": {"Fn::GetAtt": ["EventsDeadLetterQueue", "Arn"]},
    }


def test_the_stream_filter_lets_through_new_tasks_and_status_changes_only():
    filters = [json.loads(f["Pattern"]) for f in _events_mapping()["FilterCriteria"]["Filters"]]
    assert len(filters) <= 5  # Lambda's default quota of filters per event source mapping
    assert {"eventName": ["INSERT"]} in filters
    covered = set()
    for pattern in filters[1:]:
        assert pattern["eventName"] == ["MODIFY"]
        new = pattern["dynamodb"]["NewImage"]["status"]["S"]
        old = pattern["dynamodb"]["OldImage"]["status"]["S"]
        assert old == [{"anything-but": new}]  # the status changed: progress and deliveries do not pass
        covered.update(new)
    assert {status.value for status in TaskStatus} <= covered  # a new status needs its filter


def test_every_function_gets_the_webhook_settings():
    variables = cfn.template()["Globals"]["Function"]["Environment"]["Variables"]
    assert set(WEBHOOK_REQUIRED_ENV) <= set(variables)


def test_the_events_function_may_only_put_events_on_the_bus_and_queue_webhooks():
    stream = {"Fn::GetAtt": ["TasksTable", "StreamArn"]}
    assert _grants("EventsFunction") == {
        "dynamodb:DescribeStream": [stream],
        "dynamodb:GetRecords": [stream],
        "dynamodb:GetShardIterator": [stream],
        "dynamodb:ListStreams": [{"Fn::Sub": "${TasksTable.Arn}/stream/*"}],
        "events:PutEvents": [{"Fn::GetAtt": ["EventBus", "Arn"]}],
        "sqs:SendMessage": [{"Fn::GetAtt": ["WebhookQueue", "Arn"]}, {"Fn::GetAtt": ["EventsDeadLetterQueue", "Arn"]}],
    }


def test_the_webhook_function_reaches_only_its_queues_the_task_s_deliveries_and_the_secrets():
    queue = {"Fn::GetAtt": ["WebhookQueue", "Arn"]}
    # On the tasks table, only its deliveries' attributes (conditions: tests/template/test_security.py).
    assert _grants("WebhookFunction") == {
        "sqs:ReceiveMessage": [queue],
        "sqs:DeleteMessage": [queue],
        "sqs:GetQueueAttributes": [queue],
        "sqs:ChangeMessageVisibility": [queue],
        "sqs:SendMessage": [{"Fn::GetAtt": ["WebhookDeadLetterQueue", "Arn"]}],
        "dynamodb:UpdateItem": [{"Fn::GetAtt": ["TasksTable", "Arn"]}],
        "dynamodb:GetItem": [{"Fn::GetAtt": ["TasksTable", "Arn"]}, {"Fn::GetAtt": ["WebhookSecretsTable", "Arn"]}],
        "dynamodb:PutItem": [{"Fn::GetAtt": ["WebhookSecretsTable", "Arn"]}],
    }
    deliveries = RESOURCES["WebhookFunction"]["Properties"]["Events"]["Deliveries"]["Properties"]
    assert deliveries["BatchSize"] == 1  # a slow receiver holds up no other delivery
    assert deliveries["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_the_status_function_cannot_read_the_webhook_secrets():
    assert not [r for r in _grants("StatusFunction").values() if "WebhookSecretsTable" in json.dumps(r)]


def test_secrets_are_kept_encrypted_with_kms_and_queues_encrypted_too():
    assert RESOURCES["WebhookSecretsTable"]["Properties"]["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS"}
    for queue in ("WebhookQueue", "WebhookDeadLetterQueue", "EventsDeadLetterQueue"):
        assert RESOURCES[queue]["Properties"]["SqsManagedSseEnabled"] is True


def test_the_webhook_queue_outlives_a_day_of_retries_and_dead_letters_what_crashes():
    queue = RESOURCES["WebhookQueue"]["Properties"]
    assert queue["MessageRetentionPeriod"] > 86400
    assert queue["VisibilityTimeout"] >= 6 * RESOURCES["WebhookFunction"]["Properties"]["Timeout"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["WebhookDeadLetterQueue", "Arn"]}


def test_loopback_callbacks_are_off_on_aws_and_on_for_the_local_stack_with_a_short_backoff():
    assert cfn.parameter_default("CallbackAllowLoopback") == "false"
    local = tomllib.loads((cfn.ROOT / "samconfig.toml").read_text())["local"]["global"]["parameters"]
    overrides = local["parameter_overrides"].split()
    assert "CallbackAllowLoopback=true" in overrides
    assert "WebhookRetryBaseSeconds=2" in overrides
    assert cfn.parameter_default("WebhookRetryBaseSeconds") == 30


def test_the_webhook_secret_routes_go_to_the_submit_function_and_need_auth():
    paths = RESOURCES["TasklaneApi"]["Properties"]["DefinitionBody"]["paths"]
    for path, method in (("/webhooks/secret", "get"), ("/webhooks/secret/rotate", "post")):
        operation = paths[path][method]
        assert "security" not in operation  # the API's default: SigV4 or an API key
        uri = operation["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
        assert uri[1] == {"Alias": {"Ref": "SubmitFunction.Alias"}}  # the submit function's live alias


def test_the_outputs_name_the_bus_and_the_webhook_queues():
    assert {"EventBusName", "EventBusArn", "WebhookDeadLetterQueueUrl", "EventsDeadLetterQueueUrl"} <= set(
        cfn.template()["Outputs"]
    )


def test_the_events_and_webhook_dead_letter_queues_alarm_on_any_message():
    for alarm, queue in (
        ("WebhookDeadLetterAlarm", "WebhookDeadLetterQueue"),
        ("EventsDeadLetterAlarm", "EventsDeadLetterQueue"),
    ):
        properties = RESOURCES[alarm]["Properties"]
        assert properties["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}]
        assert properties["Threshold"] == 0
        assert properties["ComparisonOperator"] == "GreaterThanThreshold"
