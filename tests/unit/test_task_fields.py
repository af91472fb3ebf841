"""The task's fields are declared once (tasklane.model.task.Task): the answer, the table item, the listing's
read and the status-change event are derived from that declaration. Adding a field is its line and a value
for it in `every_field_set` below: these tests then check that it goes everywhere it is declared to."""

from __future__ import annotations

from datetime import timedelta

from tasklane.data.tasks.changes import EVENT_FIELDS, StatusChange
from tasklane.data.tasks.codec import (
    LISTED_ATTRIBUTES,
    StoredTask,
    StoredValue,
    TableLayout,
    attempt_slot,
    new_item,
    outcome_value,
    task_attributes,
    to_stored,
)
from tasklane.logic.events import detail
from tasklane.model.callbacks import Callback, CallbackDelivery
from tasklane.model.lanes import Lane
from tasklane.model.task import TASK_FIELDS, AttemptOutcome, Kept, Progress, Task, TaskError, TaskStatus, role

LAYOUT = TableLayout("tasks", timedelta(days=7), sweep_shards=4, owner_shards=4, pending_grace_seconds=60)
OWNER = "arn:aws:iam::123456789012:user/alice"


def every_field_set() -> Task:
    """A task with a value in every field (a field added to Task without one here fails the first test)."""
    return Task(
        task_id="0b0f4a7e-8d3c-4b8e-9a51-2f4c7d1e6a90",
        task_type="echo",
        priority=Lane.HIGH,
        status=TaskStatus.FAILED,
        payload={"n": 1},
        payload_size=7,
        payload_url="https://values.example/p",
        result=[1, "two"],
        result_size=10,
        result_url="https://values.example/r",
        error=TaskError("ValueError", "bad n"),
        progress=Progress(50.0, "half"),
        waiting_for="rate_limit",
        attempts=2,
        attempt_history=(AttemptOutcome(1, "failed", "2026-11-23T10:15:05.500Z", TaskError("ValueError", "bad n")),),
        max_attempts=3,
        timeout_seconds=30,
        delay_seconds=5,
        run_at="2026-11-23T10:15:05.000Z",
        created_at="2026-11-23T10:15:00.000Z",
        started_at="2026-11-23T10:15:06.000Z",
        finished_at="2026-11-23T10:15:07.000Z",
        updated_at="2026-11-23T10:15:07.000Z",
        next_attempt_at="2026-11-23T10:15:09.000Z",
        deadline="2026-11-23T10:15:36.000Z",
        schedule="nightly-report",
        workflow_id="wf-1",
        callback=Callback(
            "https://hooks.example/t", (CallbackDelivery("2026-11-23T10:15:08.000Z", 1, "failed", True, 200),)
        ),
    )


def item_of(task: Task) -> dict:
    """The item a task has once run (the writers of values and the callback are their own code)."""
    item = new_item(StoredTask(task, OWNER), None, StoredValue(7, text='{"n":1}'), LAYOUT)
    item.update(task_attributes(task))
    item["result"] = {"S": '[1,"two"]'}
    for outcome in task.attempt_history:
        item[attempt_slot(outcome.attempt)] = outcome_value(outcome)
    item["callback_deliveries"] = {
        "L": [{"M": {"at": {"S": "2026-11-23T10:15:08.000Z"}, "attempt": {"N": "1"}, "status": {"S": "failed"},
                     "delivered": {"BOOL": True}, "status_code": {"N": "200"}}}]
    }  # fmt: skip
    return item


def test_every_field_has_a_value_in_the_test_task_and_is_answered():
    task = every_field_set()
    unset = [f.name for f in TASK_FIELDS if getattr(task, f.name) is None]
    assert unset == []
    assert list(task.public()) == [f.name for f in TASK_FIELDS]
    assert task.public()["priority"] == "high"
    assert task.public()["error"] == {"type": "ValueError", "message": "bad n"}
    assert task.public()["callback"]["deliveries"][0]["status_code"] == 200


def test_every_kept_field_survives_the_table_round_trip():
    task = every_field_set()
    read = to_stored(item_of(task)).task
    for f in TASK_FIELDS:
        expected = None if role(f).kept is Kept.NOT_KEPT else getattr(task, f.name)
        assert getattr(read, f.name) == expected, f.name


def test_a_listing_reads_every_listed_field_and_never_the_values():
    listed = {f.name for f in TASK_FIELDS if role(f).listed and role(f).kept is not Kept.NOT_KEPT}
    assert listed <= set(LISTED_ATTRIBUTES)
    assert {"payload", "result", "callback_url"}.isdisjoint(LISTED_ATTRIBUTES)
    item = item_of(every_field_set())
    projected = {k: v for k, v in item.items() if k in LISTED_ATTRIBUTES}
    read = to_stored(projected).task
    assert read.payload is None
    assert read.result is None
    assert read.callback is None
    assert read.error == TaskError("ValueError", "bad n")
    assert read.attempts == 2


def test_the_event_tells_the_fields_declared_for_it_as_the_api_shows_them():
    task = every_field_set()
    change = StatusChange("ev-1", "1", item_of(task), "processing")
    told = detail(change)
    assert set(EVENT_FIELDS) == {f.name for f in TASK_FIELDS if role(f).in_event}
    for name in EVENT_FIELDS:
        assert told[name] == task.public()[name], name
    assert "payload" not in told
    assert "result" not in told
    assert told["owner"] == OWNER
    assert told["previous_status"] == "processing"
    assert told["has_callback"] is True


def test_a_fresh_item_holds_the_submitted_fields_and_none_unset():
    task = Task(
        task_id="0b0f4a7e-8d3c-4b8e-9a51-2f4c7d1e6a90",
        task_type="echo",
        priority=Lane.NORMAL,
        status=TaskStatus.PENDING,
        max_attempts=3,
        timeout_seconds=30,
        created_at="2026-11-23T10:15:00.000Z",
        updated_at="2026-11-23T10:15:00.000Z",
    )
    item = new_item(StoredTask(task, OWNER), None, StoredValue(2, text="{}"), LAYOUT)
    assert item["attempts"] == {"N": "0"}
    assert item["delay_seconds"] == {"N": "0"}
    assert item["payload"] == {"S": "{}"}
    assert item["payload_size"] == {"N": "2"}
    for unset in ("error", "progress", "waiting_for", "started_at", "finished_at", "run_at", "result"):
        assert unset not in item


def test_a_task_keeps_the_outcomes_of_its_last_ten_attempts_oldest_first():
    task = every_field_set()
    item = item_of(task)
    for attempt in range(1, 13):  # slots are reused in turn: attempts 1 and 2 give way to 11 and 12
        item[attempt_slot(attempt)] = outcome_value(
            AttemptOutcome(attempt, "failed", f"2026-11-23T10:16:{attempt:02d}Z")
        )
    history = to_stored(item).task.attempt_history
    assert [o.attempt for o in history] == list(range(3, 13))
    assert task.public()["attempt_history"] == [
        {"attempt": 1, "outcome": "failed", "at": "2026-11-23T10:15:05.500Z",
         "error": {"type": "ValueError", "message": "bad n"}}
    ]  # fmt: skip
