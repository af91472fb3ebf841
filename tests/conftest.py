"""Fixtures: a moto account holding the template's tables and queues, and the handlers wired to it."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import boto3
import pytest

# No test may reach a real account.
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="us-east-1",
    POWERTOOLS_TRACE_DISABLED="true",
    POWERTOOLS_METRICS_NAMESPACE="tasklane",
    POWERTOOLS_SERVICE_NAME="tasklane",
    LANE="normal",
)
os.environ.pop("AWS_ENDPOINT_URL", None)

# The events and webhook tests' fixtures: the table's stream, the bus, a stubbed resolver and receivers.
pytest_plugins = ["tests.functional.notify"]


@dataclass
class FakeContext:
    """A Lambda context with a settable amount of time left."""

    remaining_ms: int = 300_000
    function_name: str = "tasklane-test"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:tasklane-test"
    aws_request_id: str = "5b3f2c9e-0000-4000-8000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]


class Tasklane:
    """The deployed system as a test sees it: the API handlers, the lanes and their processors."""

    def __init__(self, stack: Any, session: Any) -> None:
        from tasklane.handlers import dead_letter, processor, reconciler, schedules, status, submit, task_types

        self.stack = stack
        self.sqs = session.client("sqs")
        self.dynamodb = session.client("dynamodb")
        self.s3 = session.client("s3")
        self.context = FakeContext()
        self.offset = timedelta()
        self._submit, self._status, self._schedules = submit, status, schedules
        self._task_types = task_types
        self._processor, self._dead_letter, self._reconciler = processor, dead_letter, reconciler

    def pass_time(self, seconds: float) -> None:
        """Move tasklane's clock forward, as if time passed (delays and backoffs end, leases expire)."""
        self.offset += timedelta(seconds=seconds)

    def call(self, event: dict[str, Any]) -> Answer:
        # As the template routes them: /schedules to the schedules function; GETs to the status
        # function, but the webhook secret's (its first read makes the secret) to the submit function,
        # with every write.
        if event["resource"].startswith("/schedules"):
            handler = self._schedules
        elif event["resource"].startswith("/task-types"):
            handler = self._task_types
        else:
            reads = event["httpMethod"] == "GET" and not event["resource"].startswith("/webhooks/")
            handler = self._status if reads else self._submit
        response = handler.lambda_handler(event, self.context)
        body = response.get("body")
        headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
        for key, values in (response.get("multiValueHeaders") or {}).items():
            headers[key.lower()] = values[-1]
        return Answer(response["statusCode"], json.loads(body) if body else None, headers)

    def use_lane(self, lane: str) -> None:
        """Be the processor of `lane` (each lane's function gets its own LANE from the template)."""
        if os.environ.get("LANE") != lane:
            os.environ["LANE"] = lane
            _reset_caches(clients=False)

    def queue_url(self, lane: str, dead: bool = False) -> str:
        return self.stack.names[f"{lane.capitalize()}{'DeadLetter' if dead else ''}Queue"]

    def receive(self, lane: str, dead: bool = False, max_messages: int = 10) -> list[dict[str, Any]]:
        return self.sqs.receive_message(
            QueueUrl=self.queue_url(lane, dead),
            MaxNumberOfMessages=max_messages,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])

    def process(self, lane: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """Invoke the lane's processor on received messages and delete the ones it acknowledged,
        as the event source mapping does."""
        from tests.events import sqs_event

        self.use_lane(lane)
        response = self._processor.lambda_handler(sqs_event(messages), self.context)
        failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
        for message in messages:
            if message["MessageId"] not in failed:
                self.sqs.delete_message(QueueUrl=self.queue_url(lane), ReceiptHandle=message["ReceiptHandle"])
        return response

    def drain(self, lane: str) -> int:
        """Process every message now visible on a lane; returns how many were delivered."""
        delivered = 0
        while messages := self.receive(lane):
            delivered += len(messages)
            self.process(lane, messages)
        return delivered

    def dead_letters(self, lane: str) -> dict[str, Any]:
        from tests.events import sqs_event

        messages = self.receive(lane, dead=True)
        return self._dead_letter.lambda_handler(sqs_event(messages, "dead_letter"), self.context)

    def reconcile(self) -> dict[str, Any]:
        from tests.events import event

        return self._reconciler.lambda_handler(event("reconciler"), self.context)

    def item(self, task_id: str) -> dict[str, Any]:
        return self.dynamodb.get_item(TableName=self.stack.names["TasksTable"], Key={"task_id": {"S": task_id}})["Item"]


def _reset_caches(clients: bool = True) -> None:
    from tasklane import coldstart, settings

    coldstart.resume_collection()  # a test process is no cold start: the collector runs between tests too
    from tasklane.data import aws, idempotency, notifications, services

    if clients:
        aws.reset()
    settings.settings.cache_clear()
    from tasklane.logic import throttling

    for memory in (throttling._AT_CAP, throttling._HELD, throttling._SHOWN):  # a processor's own memory
        memory.clear()
    from tasklane.settings import bulk, scheduler, stats, webhooks

    bulk.bulk_settings.cache_clear()
    stats.stats_settings.cache_clear()
    webhooks.webhook_settings.cache_clear()
    scheduler.scheduler_settings.cache_clear()
    services.services.cache_clear()
    notifications.notifications.cache_clear()
    idempotency._guarded.cache_clear()
    from tasklane.logic import offered_types
    from tasklane.settings import task_types as task_type_settings

    task_type_settings.task_type_settings.cache_clear()
    offered_types.forget_cached()


@pytest.fixture
def tasklane(monkeypatch: pytest.MonkeyPatch) -> Iterator[Tasklane]:
    from moto import mock_aws

    from tests import cfn

    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        stack = cfn.build(session)
        for key, value in stack.environment("StatusFunction", "SchedulesFunction").items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")  # no X-Ray daemon here
        monkeypatch.setenv("DEMO_TASK_TYPES", "true")  # as on the local stack: the tests use sleep and fail
        _reset_caches()
        system = Tasklane(stack, session)
        from tasklane.model import clock

        real_now = clock.now
        monkeypatch.setattr(clock, "now", lambda: real_now() + system.offset)
        monkeypatch.setattr(clock, "sleep", system.pass_time)  # waiting moves tasklane's clock only
        yield system
    _reset_caches()


@pytest.fixture
def visibility_calls(monkeypatch):
    """Every visibility timeout the processor sets, in order."""
    from tasklane.data.queues import LaneQueues

    calls: list[int] = []
    original = LaneQueues.set_visibility_many

    def spy(self, lane, changes):
        calls.extend(seconds for _, seconds in changes)
        return original(self, lane, changes)

    monkeypatch.setattr(LaneQueues, "set_visibility_many", spy)
    return calls


def pytest_configure(config: pytest.Config) -> None:
    """The main process names the run before it starts any pytest-xdist worker (they inherit it), so
    that the e2e tests of every worker share one local stack (tests/e2e/run.py)."""
    if not hasattr(config, "workerinput"):
        os.environ.setdefault("TASKLANE_E2E_RUN", uuid.uuid4().hex)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The main process, once every worker is done, stops the emulator that the run's e2e tests started."""
    if not hasattr(session.config, "workerinput"):
        from tests.e2e import run

        run.finish()
