"""Retries are visible: a task waiting for its next attempt shows the last error and when the next one
may start; a running task shows its deadline; every attempt's outcome is kept (the last ten)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from tasklane.task_types.registry import registered
from tests.functional.test_lifecycle import get, redeliver_now, submit


def moment(text):
    return datetime.fromisoformat(text)


def test_a_task_waiting_for_its_next_attempt_shows_the_error_and_when(tasklane, visibility_calls):
    task_id = submit(tasklane, "fail", {"message": "boom"}, max_attempts=3).body["task_id"]
    messages = tasklane.receive("normal")
    tasklane.process("normal", messages)
    task = get(tasklane, task_id)
    assert task["status"] == "pending"
    assert task["error"] == {"type": "IntentionalFailure", "message": "boom"}
    # the next attempt is due when the message comes back: after the backoff the processor set
    waited = moment(task["next_attempt_at"]) - moment(task["updated_at"])
    assert waited == timedelta(seconds=visibility_calls[-1])
    assert task["deadline"] is None
    assert task["attempt_history"] == [
        {"attempt": 1, "outcome": "failed", "at": task["updated_at"],
         "error": {"type": "IntentionalFailure", "message": "boom"}}
    ]  # fmt: skip
    for _ in range(2):
        redeliver_now(tasklane, "normal", messages)
        messages = tasklane.receive("normal")
        tasklane.process("normal", messages)
    task = get(tasklane, task_id)
    assert task["status"] == "failed"
    assert task["next_attempt_at"] is None
    assert [(h["attempt"], h["outcome"]) for h in task["attempt_history"]] == [
        (1, "failed"),
        (2, "failed"),
        (3, "failed"),
    ]


def test_a_task_that_succeeds_after_a_failure_keeps_both_outcomes(tasklane):
    task_id = submit(tasklane, "fail", {"succeed_on_attempt": 2}).body["task_id"]
    messages = tasklane.receive("normal")
    tasklane.process("normal", messages)
    redeliver_now(tasklane, "normal", messages)
    tasklane.process("normal", tasklane.receive("normal"))
    task = get(tasklane, task_id)
    assert task["status"] == "completed"
    assert task["next_attempt_at"] is None
    assert task["error"] is None
    outcomes = [(h["attempt"], h["outcome"], h["error"] and h["error"]["type"]) for h in task["attempt_history"]]
    assert outcomes == [(1, "failed", "IntentionalFailure"), (2, "completed", None)]


def test_a_running_task_shows_its_deadline_and_loses_it_when_done(tasklane, monkeypatch):
    seen = {}
    echo = registered()["echo"]

    def spy(payload, ctx):
        seen.update(get(tasklane, ctx.task_id))  # the task as its owner reads it while it runs
        return echo.run(payload, ctx)

    monkeypatch.setitem(registered(), "echo", replace(echo, run=spy))
    task_id = submit(tasklane, "echo", timeout_seconds=7).body["task_id"]
    tasklane.drain("normal")
    assert seen["status"] == "processing"
    assert moment(seen["deadline"]) - moment(seen["started_at"]) == timedelta(seconds=7)
    done = get(tasklane, task_id)
    assert done["status"] == "completed"
    assert done["deadline"] is None
