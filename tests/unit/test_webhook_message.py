"""The webhook queue's message: one constructor, one parser, and a round trip between them."""

from __future__ import annotations

import json

import pytest

from tasklane.model.callbacks import Callback, CallbackDelivery
from tasklane.model.lanes import Lane
from tasklane.model.task import Task, TaskStatus
from tasklane.model.webhook_message import WebhookMessage

TASK_ID = "3f1c2a4e-8b7d-4c6e-9a1f-2b3c4d5e6f70"
URL = "https://hooks.example.com/tasklane?token=t"


def finished_task() -> Task:
    return Task(
        task_id=TASK_ID,
        task_type="compute",
        priority=Lane.HIGH,
        status=TaskStatus.COMPLETED,
        payload={"n": 3},
        result=6,
        attempts=1,
        max_attempts=3,
        timeout_seconds=30,
        created_at="2026-11-25T10:00:00.000Z",
        finished_at="2026-11-25T10:00:00.400Z",
        updated_at="2026-11-25T10:00:00.400Z",
        callback=Callback(URL, (CallbackDelivery("2026-11-25T10:00:01.000Z", 1, "completed", False, 500),)),
    )


def a_message() -> WebhookMessage:
    return WebhookMessage.for_change(
        finished_task(), event_id="e1", owner="alice", url=URL, changed_at="2026-11-25T10:00:00.400Z"
    )


def test_a_message_round_trips_through_its_queue_body():
    message = a_message()
    assert WebhookMessage.from_json(message.to_json()) == message


def test_the_message_carries_the_task_summary_as_the_posted_body_without_payload_result_or_callback():
    message = a_message()
    assert (message.status, message.priority, message.task_type) == ("completed", "high", "compute")
    posted = json.loads(message.body)
    assert posted["event"] == "Task Completed"
    assert posted["event_id"] == "e1"
    assert posted["task"]["task_id"] == TASK_ID
    assert posted["task"]["payload"] is None
    assert posted["task"]["result"] is None
    assert "callback" not in posted["task"]


def test_a_message_queued_before_priority_and_task_type_were_carried_takes_them_from_its_body():
    earlier = json.loads(a_message().to_json())
    del earlier["priority"], earlier["task_type"]
    assert WebhookMessage.from_json(json.dumps(earlier)) == a_message()


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        '"text"',
        json.dumps({**json.loads(a_message().to_json()), "task_id": 7}),
        json.dumps({k: v for k, v in json.loads(a_message().to_json()).items() if k != "url"}),
        json.dumps({k: v for k, v in json.loads(a_message().to_json()).items() if k != "priority"} | {"body": "x"}),
    ],
)
def test_a_body_that_is_not_a_message_is_none(body):
    assert WebhookMessage.from_json(body) is None
