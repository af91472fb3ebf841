"""Completion events: the tasks table's stream (moto's) through the events function to the bus."""

from __future__ import annotations

import json
from datetime import datetime

from tests.events import ALICE, api_event, event
from tests.functional.notify import run_events, webhook_messages
from tests.functional.test_lifecycle import get, submit


def test_every_status_change_is_one_event_in_order_and_other_writes_are_none(tasklane, bus, stream):
    task_id = submit(tasklane, "generate_report", {"report": "sales", "rows": 1000}).body["task_id"]
    tasklane.drain("normal")  # pending -> processing, progress writes, -> completed
    records = stream.records()
    assert len(records) > 3  # the progress writes are on the stream too
    answer = run_events(records)
    assert answer == {"batchItemFailures": []}
    assert [e["DetailType"] for e in bus.entries] == ["Task Pending", "Task Processing", "Task Completed"]
    assert {e["Source"] for e in bus.entries} == {"tasklane"}
    details = bus.details()
    assert [d["previous_status"] for d in details] == [None, "pending", "processing"]
    done, task = details[-1], get(tasklane, task_id)
    assert done["task_id"] == task_id
    assert done["owner"] == ALICE
    assert done["task_type"] == "generate_report"
    assert done["attempts"] == 1
    assert done["priority"] == "normal"
    assert done["has_callback"] is False
    assert done["finished_at"] == task["finished_at"]
    assert done["correlation_id"]
    # Timed when the change was made, not when it was published.
    assert bus.entries[-1]["Time"] == datetime.fromisoformat(task["updated_at"])


def test_events_never_carry_the_payload_or_the_result(tasklane, bus, stream):
    submit(tasklane, "echo", {"secret_marker": "s3cr3t-payload"})
    tasklane.drain("normal")
    run_events(stream.records())
    assert len(bus.entries) == 3
    for entry in bus.entries:
        assert "s3cr3t-payload" not in entry["Detail"]
        assert not {"payload", "result", "payload_url", "result_url"} & set(json.loads(entry["Detail"]))


def test_a_failed_task_s_event_carries_its_error(tasklane, bus, stream):
    submit(tasklane, "fail", {"message": "upstream timed out"}, max_attempts=1)
    tasklane.drain("normal")
    run_events(stream.records())
    failed = bus.details()[-1]
    assert bus.entries[-1]["DetailType"] == "Task Failed"
    assert failed["status"] == "failed"
    assert failed["previous_status"] == "processing"
    assert failed["error"]["message"] == "upstream timed out"


def test_a_cancel_is_a_task_cancelled_event(tasklane, bus, stream):
    task_id = submit(tasklane).body["task_id"]
    assert tasklane.call(api_event("cancel_task", task_id=task_id)).status == 200
    run_events(stream.records())
    assert [e["DetailType"] for e in bus.entries] == ["Task Pending", "Task Cancelled"]


def test_a_put_events_entry_that_fails_fails_only_its_own_record(tasklane, bus, stream):
    ids = [submit(tasklane).body["task_id"] for _ in range(12)]
    records = stream.records()
    bus.refuse = {ids[4]}
    answer = run_events(records)
    failed = [f["itemIdentifier"] for f in answer["batchItemFailures"]]
    assert failed == [records[4]["dynamodb"]["SequenceNumber"]]
    assert {d["task_id"] for d in bus.details()} == set(ids) - {ids[4]}
    assert bus.calls == 2  # twelve entries: ten, then two
    # The stream delivers the failed record again; now the bus takes it.
    bus.refuse = set()
    assert run_events([records[4]]) == {"batchItemFailures": []}
    assert bus.details()[-1]["task_id"] == ids[4]


def test_a_put_events_request_that_fails_fails_the_records_of_its_chunk_only(tasklane, bus, stream):
    for _ in range(3):
        submit(tasklane)
    records = stream.records()
    bus.down = True
    answer = run_events(records)
    assert [f["itemIdentifier"] for f in answer["batchItemFailures"]] == [
        r["dynamodb"]["SequenceNumber"] for r in records
    ]


def test_writes_that_do_not_change_the_status_publish_nothing(tasklane, bus):
    record = event("events")["Records"][0]
    record["dynamodb"]["OldImage"]["status"] = {"S": "completed"}  # e.g. a delivery recorded on a finished task
    assert run_events([record]) == {"batchItemFailures": []}
    removal = {**event("events")["Records"][0], "eventName": "REMOVE"}  # TTL removing a finished task
    assert run_events([removal]) == {"batchItemFailures": []}
    assert bus.entries == []


def test_the_detail_type_follows_any_status_so_new_ones_need_no_code():
    from tasklane.logic.events import detail_type

    assert detail_type("completed") == "Task Completed"
    assert detail_type("scheduled") == "Task Scheduled"


def test_a_terminal_change_of_a_task_with_a_callback_queues_its_webhook(tasklane, bus, stream, resolver):
    resolver.names["hooks.example.com"] = ["93.184.215.14"]
    url = "https://hooks.example.com/tasklane?token=abc"
    with_callback = submit(tasklane, "echo", {"secret_marker": "s3cr3t"}, callback_url=url).body["task_id"]
    submit(tasklane, "echo")  # no callback: no webhook
    tasklane.drain("normal")
    run_events(stream.records())
    messages = webhook_messages(tasklane)
    assert len(messages) == 1  # the terminal change only, not pending or processing
    message = json.loads(messages[0]["Body"])
    assert message["task_id"] == with_callback
    assert message["url"] == url
    assert message["status"] == "completed"
    body = json.loads(message["body"])
    assert body["event"] == "Task Completed"
    assert body["task"]["task_id"] == with_callback
    assert body["task"]["result"] is None
    assert body["task"]["payload"] is None
    assert "s3cr3t" not in message["body"]
    assert "callback" not in body["task"]
    assert [d["has_callback"] for d in bus.details() if d["task_id"] == with_callback] == [True] * 3


def test_a_webhook_that_cannot_be_queued_fails_its_record(tasklane, bus, monkeypatch):
    from tasklane.data.webhook_queue import WebhookQueue
    from tasklane.model.errors import ServiceUnavailable

    def down(self, body):
        raise ServiceUnavailable("SendMessage failed")

    monkeypatch.setattr(WebhookQueue, "send", down)
    records = event("events")["Records"]  # a completed task with a callback
    answer = run_events(records)
    assert [f["itemIdentifier"] for f in answer["batchItemFailures"]] == [records[0]["dynamodb"]["SequenceNumber"]]


def _matches(pattern, value):
    """Lambda event filtering, as far as the template's patterns use it: lists of values, anything-but."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(_matches(p, value.get(k)) for k, p in pattern.items())
    return any(
        (value is not None and value not in p["anything-but"]) if isinstance(p, dict) else value == p for p in pattern
    )


def test_the_template_s_stream_filter_passes_exactly_the_status_changes(tasklane, stream):
    from tests import cfn

    mapping = cfn.template()["Resources"]["EventsFunction"]["Properties"]["Events"]["Changes"]["Properties"]
    patterns = [json.loads(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]]
    submit(tasklane, "generate_report", {"report": "sales", "rows": 1000})  # progress writes on the way
    cancelled = submit(tasklane).body["task_id"]
    tasklane.call(api_event("cancel_task", task_id=cancelled))
    tasklane.drain("normal")
    records = stream.records()
    passed = [r for r in records if any(_matches(p, r) for p in patterns)]
    changed = [
        r
        for r in records
        if r["eventName"] == "INSERT"
        or (r["eventName"] == "MODIFY" and r["dynamodb"]["NewImage"]["status"] != r["dynamodb"]["OldImage"]["status"])
    ]
    assert len(records) > len(passed)  # progress writes were on the stream, and stopped by the filter
    assert passed == changed
    assert len(passed) == 5  # two submits, processing, completed, cancelled
