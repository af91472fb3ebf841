"""What the events and webhook tests share: the tasks table's stream read back from moto, the events
the bus was given, a stubbed resolver (no name is ever looked up for real), and stubbed receivers."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.conftest import Tasklane
from tests.events import event, sqs_event


class Stream:
    """The tasks table's stream on moto: each call of `records()` answers what was written since."""

    def __init__(self, system: Tasklane) -> None:
        import boto3

        self._streams = boto3.client("dynamodbstreams", region_name="us-east-1")
        table = system.dynamodb.describe_table(TableName=system.stack.names["TasksTable"])["Table"]
        self._arn = table["LatestStreamArn"]
        self._seen: set[str] = set()

    def records(self) -> list[dict[str, Any]]:
        found = []
        for shard in self._streams.describe_stream(StreamArn=self._arn)["StreamDescription"]["Shards"]:
            iterator = self._streams.get_shard_iterator(
                StreamArn=self._arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            for record in self._streams.get_records(ShardIterator=iterator)["Records"]:
                if record["dynamodb"]["SequenceNumber"] not in self._seen:
                    self._seen.add(record["dynamodb"]["SequenceNumber"])
                    record.setdefault("eventSourceARN", self._arn)
                    found.append(_plain(record))
        return found


def _plain(record: dict[str, Any]) -> dict[str, Any]:
    """As Lambda hands it over: JSON (moto's boto3 answer carries datetimes)."""
    return json.loads(json.dumps(record, default=lambda v: int(v.timestamp())))


@dataclass
class Bus:
    """Every PutEvents entry the events function sends; `refuse` makes entries fail (by task id)."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    calls: int = 0
    refuse: set[str] = field(default_factory=set)
    down: bool = False

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        self.calls += 1
        assert len(Entries) <= 10
        if self.down:
            raise ClientError({"Error": {"Code": "InternalException", "Message": "down"}}, "PutEvents")
        results = []
        for entry in Entries:
            if json.loads(entry["Detail"]).get("task_id") in self.refuse:
                results.append({"ErrorCode": "InternalFailure", "ErrorMessage": "try again"})
            else:
                self.entries.append(entry)
                results.append({"EventId": f"e-{len(self.entries)}"})
        return {"FailedEntryCount": sum("ErrorCode" in r for r in results), "Entries": results}

    def details(self) -> list[dict[str, Any]]:
        return [json.loads(e["Detail"]) for e in self.entries]


@pytest.fixture
def bus(tasklane: Tasklane, monkeypatch: pytest.MonkeyPatch) -> Bus:
    from tasklane.data import aws

    fake = Bus()

    def client() -> Bus:
        return fake

    client.cache_clear = lambda: None  # type: ignore[attr-defined]  # aws.reset() clears it with the rest
    monkeypatch.setattr(aws, "events", client)
    return fake


@pytest.fixture
def stream(tasklane: Tasklane) -> Stream:
    return Stream(tasklane)


class Resolver:
    """getaddrinfo from a table: a name not in it does not exist (EAI_NONAME), `flaky` ones fail now."""

    def __init__(self) -> None:
        self.names: dict[str, list[str]] = {}
        self.flaky: set[str] = set()
        self.asked: list[str] = []

    def __call__(self, host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        self.asked.append(host)
        if host in self.flaky:
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        if host not in self.names:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        answers = []
        for address in self.names[host]:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            sockaddr = (address, port, 0, 0) if family == socket.AF_INET6 else (address, port)
            answers.append((family, socket.SOCK_STREAM, 6, "", sockaddr))
        return answers


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> Resolver:
    stub = Resolver()
    monkeypatch.setattr(socket, "getaddrinfo", stub)
    return stub


@dataclass
class Receivers:
    """Stands in for every webhook receiver: answers from `codes` in turn (an int, or an exception)."""

    codes: list[Any] = field(default_factory=lambda: [200])
    posts: list[Any] = field(default_factory=list)

    def __call__(self, request: Any) -> int:
        self.posts.append(request)
        answer = self.codes[min(len(self.posts), len(self.codes)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return int(answer)


@pytest.fixture
def receivers(monkeypatch: pytest.MonkeyPatch) -> Receivers:
    from tasklane.destinations import receivers as module

    stub = Receivers()
    monkeypatch.setattr(module, "post", stub)
    return stub


def run_events(records: list[dict[str, Any]]) -> dict[str, Any]:
    from tasklane.handlers import events
    from tests.conftest import FakeContext

    return events.lambda_handler({"Records": records}, FakeContext())


def webhook_messages(system: Tasklane, max_messages: int = 10) -> list[dict[str, Any]]:
    return system.sqs.receive_message(
        QueueUrl=system.stack.names["WebhookQueue"], MaxNumberOfMessages=max_messages, AttributeNames=["All"]
    ).get("Messages", [])


def run_webhooks(messages: list[dict[str, Any]]) -> dict[str, Any]:
    from tasklane.handlers import webhooks
    from tests.conftest import FakeContext

    template = event("webhook")
    return webhooks.lambda_handler(sqs_event(messages, "webhook") if messages else template, FakeContext())
