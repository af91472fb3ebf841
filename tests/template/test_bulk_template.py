"""template.yaml for bulk actions: each function that touches them gets their settings, and no more rights."""

from __future__ import annotations

import pytest

from tasklane.settings.bulk import BULK_REQUIRED_ENV
from tests import cfn

FUNCTIONS = cfn.resources("AWS::Serverless::Function")


def _statements(name: str) -> list[dict]:
    """A function's statements: its SAM policies, or those of the role it names."""
    properties = FUNCTIONS[name]["Properties"]
    if "Role" in properties:
        role = cfn.template()["Resources"][properties["Role"]["Fn::GetAtt"][0]]["Properties"]
        return [st for policy in role["Policies"] for st in policy["PolicyDocument"]["Statement"]]
    return [st for policy in properties.get("Policies", []) for st in policy.get("Statement", [])]


def _grants(name: str) -> dict[str, list[str]]:
    grants: dict[str, list[str]] = {}
    for statement in _statements(name):
        found = statement.get("Resource", [])
        resources = found if isinstance(found, list) else [found]
        for action in statement.get("Action", []):
            grants.setdefault(action, []).extend(str(r) for r in resources)
    return grants


@pytest.mark.parametrize("name", ["SubmitFunction", "StatusFunction", "BulkFunction"])
def test_every_function_of_bulk_actions_gets_their_settings(name):
    variables = FUNCTIONS[name]["Properties"]["Environment"]["Variables"]
    assert set(BULK_REQUIRED_ENV) <= set(variables)


def test_only_the_bulk_function_and_the_two_routes_reach_the_bulk_table():
    table = str({"Fn::GetAtt": ["BulkTable", "Arn"]})
    reaching = {name for name in FUNCTIONS for resources in _grants(name).values() if table in resources}
    assert reaching == {"SubmitFunction", "StatusFunction", "BulkFunction"}
    assert [a for a, r in _grants("StatusFunction").items() if table in r] == ["dynamodb:GetItem"]
    assert [a for a, r in _grants("SubmitFunction").items() if table in r] == ["dynamodb:PutItem"]


def test_the_bulk_function_may_read_the_listing_and_move_tasks_but_not_create_or_delete_them():
    grants = _grants("BulkFunction")
    assert set(grants) == {
        "dynamodb:GetItem",
        "dynamodb:UpdateItem",
        "dynamodb:Query",
        "dynamodb:BatchGetItem",
        "sqs:SendMessage",
        "s3:GetObject",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
    }
    queue = str({"Fn::GetAtt": ["BulkQueue", "Arn"]})
    for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"):
        assert grants[action] == [queue]
    # A bulk filter (type, priority, status) is listed through ByOwner or ByType; no schedule filter.
    assert grants["dynamodb:Query"] == [
        str({"Fn::Sub": "${TasksTable.Arn}/index/ByOwner"}),
        str({"Fn::Sub": "${TasksTable.Arn}/index/ByType"}),
    ]
    assert grants["s3:GetObject"] == [str({"Fn::Sub": "${ValuesBucket.Arn}/payloads/*"})]


def test_one_page_per_invocation_and_a_dead_letter_queue_behind_the_bulk_queue():
    events = FUNCTIONS["BulkFunction"]["Properties"]["Events"]
    assert events["Pages"]["Properties"]["BatchSize"] == 1
    queue = cfn.template()["Resources"]["BulkQueue"]["Properties"]
    timeout = FUNCTIONS["BulkFunction"]["Properties"]["Timeout"]
    assert queue["VisibilityTimeout"] >= 6 * timeout  # AWS's advice for an SQS event source
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["BulkDeadLetterQueue", "Arn"]}
