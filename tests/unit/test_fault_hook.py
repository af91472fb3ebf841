"""The soak's fault hook (tasklane.data.faults), offline: the spec, and what each mode answers on a real
botocore DynamoDB client whose sends go to a stub, never to the network."""

from __future__ import annotations

import json
import random
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import ClientError

from tasklane.data import faults
from tasklane.data.faults import Fault, FaultInjector, Rule, parse, transition

TASK = "0b8a3c2e-5d1f-4e8a-9c7b-2a6d4f1e3b5c"


def test_the_spec_names_operation_transition_modes_probabilities_and_times():
    rules = parse("UpdateItem:completed=throttle:0.2,lost:0.1; UpdateItem:cancelled=lost:0.3;PutItem=throttle:1:8")
    assert rules == [
        Rule("UpdateItem", "completed", (Fault("throttle", 0.2, faults.DEFAULT_THROTTLE_TIMES), Fault("lost", 0.1))),
        Rule("UpdateItem", "cancelled", (Fault("lost", 0.3),)),
        Rule("PutItem", None, (Fault("throttle", 1.0, 8),)),
    ]
    assert faults.DEFAULT_THROTTLE_TIMES > 5  # past the SDK's max_attempts (5 retries): tasklane's own retry acts
    assert parse("") == []


@pytest.mark.parametrize(
    "spec",
    [
        "UpdateItem:completed",  # no faults
        "=lost:0.1",  # no target
        "UpdateItem=drop:0.1",  # unknown mode
        "UpdateItem=lost:0.1:3",  # times only for throttle
        "UpdateItem=throttle:x",
        "UpdateItem=throttle:1.5",
        "UpdateItem=throttle:0.5:0",
        "UpdateItem=throttle:0.6,lost:0.6",  # more than certain
        "Update Item=lost:1",
    ],
)
def test_a_malformed_spec_is_refused_with_the_variable_named(spec):
    with pytest.raises(ValueError, match="TASKLANE_FAULTS"):
        parse(spec)


def test_the_transition_is_the_status_the_update_expression_sets():
    completed = {
        "UpdateExpression": "SET #status = :completed, finished_at = :finished",
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": {":completed": {"S": "completed"}, ":processing": {"S": "processing"}},
    }
    assert transition(completed) == "completed"
    cancel = {  # the condition's :pending must not be mistaken for the status set
        "UpdateExpression": "SET #status = :cancelled, updated_at = :finished",
        "ExpressionAttributeNames": {"#status": "status", "#owner": "owner"},
        "ExpressionAttributeValues": {":pending": {"S": "pending"}, ":cancelled": {"S": "cancelled"}},
    }
    assert transition(cancel) == "cancelled"
    progress = {
        "UpdateExpression": "SET progress = :progress",
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": {":processing": {"S": "processing"}},
    }
    assert transition(progress) is None


class Table:
    """Stands for DynamoDB behind the client: counts the sends that reach it, answers 200."""

    def __init__(self) -> None:
        self.sends: list[dict[str, Any]] = []

    def send(self, request: Any) -> AWSResponse:
        self.sends.append(json.loads(request.body))
        return AWSResponse(request.url, 200, {}, faults._Raw(b"{}"))


@pytest.fixture
def client(monkeypatch):
    """A DynamoDB client with the soak's retry settings, whose network is the stub `table`, never a socket."""
    monkeypatch.setattr("time.sleep", lambda s: None)  # the SDK's backoff
    dynamodb = boto3.client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="k",
        aws_secret_access_key="s",
        config=Config(retries={"mode": "standard", "max_attempts": 5}),
    )
    table = Table()
    # What the client sends goes to the stub: its HTTP session never opens a socket.
    monkeypatch.setattr(dynamodb._endpoint.http_session, "send", table.send)
    dynamodb.table = table
    return dynamodb


def hook(client, spec: str, seed: int = 1) -> FaultInjector:
    injector = FaultInjector(parse(spec), client.table.send, random.Random(seed))
    client.meta.events.register_first("before-send", injector)
    return injector


def complete(client, task_id: str = TASK, status: str = "completed") -> None:
    client.update_item(
        TableName="tasks",
        Key={"task_id": {"S": task_id}},
        UpdateExpression=f"SET #status = :{status}",
        ConditionExpression="#status = :processing",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={f":{status}": {"S": status}, ":processing": {"S": "processing"}},
    )


def test_throttle_refuses_more_sends_than_the_sdk_makes_then_lets_the_same_write_through(client):
    hook(client, "UpdateItem:completed=throttle:1")
    with pytest.raises(ClientError) as refused:  # the SDK's 1 + 5 sends, all refused, none sent
        complete(client)
    assert refused.value.response["Error"]["Code"] == "ThrottlingException"
    assert refused.value.response["ResponseMetadata"]["RetryAttempts"] == 5
    assert client.table.sends == []
    complete(client)  # tasklane's own retry of the same logical write goes through
    assert len(client.table.sends) == 1
    with pytest.raises(ClientError):  # played out: the next write rolls anew (and, certain, is throttled)
        complete(client)
    assert len(client.table.sends) == 1


def test_throttle_counts_per_logical_write(client):
    hook(client, "UpdateItem:completed=throttle:1:2")
    complete(client, TASK)  # refused twice, then through on the SDK's third attempt
    other = "1c9b4d3f-6e2a-4f9b-8d8c-3b7e5a2f4c6d"
    complete(client, other)
    assert [s["Key"]["task_id"]["S"] for s in client.table.sends] == [TASK, other]


def test_lost_applies_the_write_then_refuses_so_the_sdk_sends_it_again(client):
    hook(client, "UpdateItem:cancelled=lost:1")
    complete(client, status="cancelled")
    # Sent for real by the fault (its answer thrown away), then again by the SDK's retry.
    assert len(client.table.sends) == 2
    assert client.table.sends[0] == client.table.sends[1]


def test_other_operations_transitions_and_unlucky_draws_pass_untouched(client):
    hook(client, "UpdateItem:completed=throttle:1;UpdateItem:failed=lost:0")
    complete(client, status="failed")  # probability 0
    complete(client, status="cancelled")  # no rule
    client.get_item(TableName="tasks", Key={"task_id": {"S": TASK}})  # another operation
    assert len(client.table.sends) == 3


def test_every_fault_is_logged_once_as_a_structured_line(client, caplog):
    hook(client, "UpdateItem:completed=throttle:1:7;UpdateItem:cancelled=lost:1")
    with pytest.raises(ClientError):
        complete(client)
    complete(client)
    complete(client, status="cancelled")
    injected = [r for r in caplog.records if r.getMessage() == "fault injected"]
    assert [(r.fault, r.transition, r.task_id) for r in injected] == [
        ("throttle", "completed", TASK),
        ("lost", "cancelled", TASK),
    ]
    assert injected[0].times == 7
    assert injected[1].applied_status == 200


def test_aws_installs_the_hook_on_the_dynamodb_client_only_when_the_environment_asks(monkeypatch):
    from tasklane.data import aws

    installed: list[str] = []
    monkeypatch.setattr(faults, "install", lambda client, spec: installed.append(spec))
    monkeypatch.delenv("TASKLANE_FAULTS", raising=False)
    aws.reset()
    try:
        aws.dynamodb()
        assert installed == []
        monkeypatch.setenv("TASKLANE_FAULTS", "UpdateItem:completed=throttle:0.5")
        aws.reset()
        aws.dynamodb()
        aws.sqs()
        assert installed == ["UpdateItem:completed=throttle:0.5"]
    finally:
        aws.reset()


def test_install_hooks_the_client_and_sends_lost_writes_through_its_own_session(client):
    faults.install(client, "UpdateItem:completed=throttle:1;UpdateItem:cancelled=lost:1")
    with pytest.raises(ClientError, match="ThrottlingException"):
        complete(client)
    assert client.table.sends == []
    complete(client, status="cancelled")
    assert len(client.table.sends) == 2  # the lost write and the SDK's retry, both on the client's session
