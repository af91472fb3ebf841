"""The template as CloudFormation deploys it (Fn::ForEach expanded, SAM translated): no role grants a data
action on every resource, each event source's function may receive from its own source only, the webhook
function touches only its deliveries, and every queue is encrypted. checkov's scan of the same translated
template is a `make lint` step (scripts/checkov_scan.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tasklane.data.tasks.deliveries import DELIVERY_ATTRIBUTES
from tests import cfn, translated

IAM_KINDS = ("AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")

# The AWS managed policies a role may hold, each with why its "*" resources are acceptable.
ALLOWED_MANAGED_POLICIES = {
    # logs:CreateLogGroup/CreateLogStream/PutLogEvents: a function writing its own logs; reads no data.
    "service-role/AWSLambdaBasicExecutionRole",
    # xray:PutTraceSegments/PutTelemetryRecords/GetSampling*: X-Ray has no resource-level permissions.
    "AWSXrayWriteOnlyAccess",
    # logs:* for API Gateway's account-wide logging role (access logs); the policy AWS documents for it.
    "service-role/AmazonAPIGatewayPushToCloudWatchLogs",
}

# Actions AWS authorizes on "*" only (no resource-level permissions), each touching no task data.
WITHOUT_RESOURCES = {
    "cloudwatch:GetMetricData",  # metrics of the lanes for GET /stats
    "cloudwatch:PutMetricData",  # metrics (EMF needs none; allowed for a direct put)
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
}


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _policy_name(arn: Any) -> str:
    """The managed policy an ARN names: a plain ARN, an Fn::Sub of one, or either branch of an Fn::If."""
    if isinstance(arn, dict) and "Fn::If" in arn:
        names = [_policy_name(branch) for branch in arn["Fn::If"][1:] if branch != {"Ref": "AWS::NoValue"}]
        assert len(names) == 1, arn
        return names[0]
    text = arn["Fn::Sub"] if isinstance(arn, dict) else arn
    assert isinstance(text, str), arn
    assert ":iam::aws:policy/" in text, arn
    return text.split(":iam::aws:policy/", 1)[1]


def _documents(resource: dict[str, Any]) -> list[dict[str, Any]]:
    """A role's or a policy's documents; a conditional statement (Fn::If) given as each of its branches."""
    properties = resource["Properties"]
    if resource["Type"] == "AWS::IAM::Role":
        documents = [policy["PolicyDocument"] for policy in properties.get("Policies", [])]
    else:
        documents = [properties["PolicyDocument"]]
    return [{**document, "Statement": list(_branches(document["Statement"]))} for document in documents]


def _branches(statements: list[dict[str, Any]]) -> Any:
    for statement in statements:
        if "Fn::If" in statement:
            yield from (branch for branch in statement["Fn::If"][1:] if "Effect" in branch)
        else:
            yield statement


def _iam() -> dict[str, dict[str, Any]]:
    resources = translated.template()["Resources"]
    return {name: r for name, r in resources.items() if r["Type"] in IAM_KINDS}


def test_the_translated_template_has_the_roles_of_every_function():
    """A guard on the helpers below: SAM's own roles are there too (else the next test would check nothing)."""
    roles = translated.resources("AWS::IAM::Role")
    assert {"SubmitFunctionRole", "StatusFunctionRole", "HighProcessorRole", "WebhookRole", "EventsRole"} <= set(roles)


@pytest.mark.parametrize("name", sorted(_iam()))
def test_no_role_holds_a_managed_policy_but_logs_and_traces(name):
    """SAM gives a function it makes a role for AWSLambdaSQSQueueExecutionRole or AWSLambdaDynamoDBExecutionRole
    when an SQS queue or a stream triggers it: receive and delete on every queue of the account, read every
    stream. Those functions have roles of their own (template.yaml) that name their sources."""
    resource = _iam()[name]
    arns = resource["Properties"].get("ManagedPolicyArns", []) if resource["Type"] == "AWS::IAM::Role" else []
    assert {_policy_name(arn) for arn in arns} <= ALLOWED_MANAGED_POLICIES, name


@pytest.mark.parametrize("name", sorted(_iam()))
def test_no_role_grants_a_wildcard_action_or_a_data_action_on_every_resource(name):
    for document in _documents(_iam()[name]):
        for statement in document["Statement"]:
            if statement["Effect"] != "Allow":
                continue
            actions = _listed(statement["Action"])
            assert all("*" not in action for action in actions), (name, actions)
            if "*" in _listed(statement["Resource"]):
                assert set(actions) <= WITHOUT_RESOURCES, (name, actions)


def _function_of(mapping: dict[str, Any]) -> str:
    """The function an event source mapping invokes (through its alias, `live`)."""
    resources = translated.template()["Resources"]
    target = mapping["Properties"]["FunctionName"]["Ref"]
    if resources[target]["Type"] == "AWS::Lambda::Alias":
        target = resources[target]["Properties"]["FunctionName"]["Ref"]
    return target


def _grants_of(function: str) -> dict[str, list[str]]:
    """Action -> resources (as JSON) that a function's role allows without a condition."""
    resources = translated.template()["Resources"]
    role = resources[function]["Properties"]["Role"]["Fn::GetAtt"][0]
    grants: dict[str, list[str]] = {}
    for document in _documents(resources[role]):
        for statement in document["Statement"]:
            if statement["Effect"] == "Allow" and "Condition" not in statement:
                for action in _listed(statement["Action"]):
                    grants.setdefault(action, []).extend(json.dumps(r) for r in _listed(statement["Resource"]))
    return grants


MAPPINGS = translated.resources("AWS::Lambda::EventSourceMapping")
RECEIVE = {
    "sqs": ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"),
    "dynamodb": ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"),
}


@pytest.mark.parametrize("name", sorted(MAPPINGS))
def test_each_event_source_function_may_receive_from_its_own_source(name):
    """What the managed policy gave, narrowed to the mapping's queue or stream: without it the mapping could
    not poll on AWS (the emulator does not check)."""
    source = MAPPINGS[name]["Properties"]["EventSourceArn"]
    kind = "dynamodb" if source["Fn::GetAtt"][1] == "StreamArn" else "sqs"
    grants = _grants_of(_function_of(MAPPINGS[name]))
    for action in RECEIVE[kind]:
        assert json.dumps(source) in grants.get(action, []), (name, action)


def test_the_sqs_and_stream_functions_receive_from_nothing_else():
    sources: dict[str, set[str]] = {}
    for mapping in MAPPINGS.values():
        sources.setdefault(_function_of(mapping), set()).add(json.dumps(mapping["Properties"]["EventSourceArn"]))
    lanes = {f"{lane}ProcessorFunction" for lane in ("High", "Normal", "Low")}
    assert lanes | {"DeadLetterFunction", "EventsFunction", "WebhookFunction"} <= set(sources)
    for function, own in sources.items():
        grants = _grants_of(function)
        for action in RECEIVE["sqs"][:2] + RECEIVE["dynamodb"]:
            assert set(grants.get(action, [])) <= own, (function, action)


def test_the_webhook_function_may_touch_only_its_deliveries_on_a_task():
    """dynamodb:Attributes limits every request on the tasks table to the key and the delivery list; a read
    must ask for those attributes alone (Select) and a write may not return the item (ReturnValues). The
    emulator does not evaluate conditions: this proves the shape, tests/functional the requests."""
    resources = cfn.template()["Resources"]
    statements = [
        statement
        for policy in resources["WebhookRole"]["Properties"]["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
    ]
    on_tasks = [s for s in statements if s["Resource"] == {"Fn::GetAtt": ["TasksTable", "Arn"]}]
    assert {a for s in on_tasks for a in s["Action"]} == {"dynamodb:UpdateItem", "dynamodb:GetItem"}
    for statement in on_tasks:
        condition = statement["Condition"]
        assert condition["ForAllValues:StringEquals"] == {"dynamodb:Attributes": list(DELIVERY_ATTRIBUTES)}
        if statement["Action"] == ["dynamodb:UpdateItem"]:
            returned = ["NONE", "UPDATED_OLD", "UPDATED_NEW"]
            assert condition["StringEqualsIfExists"] == {"dynamodb:ReturnValues": returned}
        else:
            assert statement["Action"] == ["dynamodb:GetItem"]
            assert condition["StringEquals"] == {"dynamodb:Select": "SPECIFIC_ATTRIBUTES"}
    # No other statement of the role reaches the tasks table (nor its indexes).
    others = [s for s in statements if s not in on_tasks]
    assert "TasksTable" not in json.dumps(others)


@pytest.mark.parametrize("name", sorted(cfn.resources("AWS::SQS::Queue")))
def test_every_queue_is_encrypted_at_rest(name):
    properties = cfn.resources("AWS::SQS::Queue")[name]["Properties"]
    assert properties.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in properties, name
