"""Waiting for a task without polling: GET /tasks/{id}?wait=N answers as soon as the task is finished
(or, with If-None-Match, as soon as it changes), or once N seconds have passed."""

from __future__ import annotations

import pytest

from tasklane.model import clock
from tests.events import ALICE, BOB, api_event


def submit(tasklane, task_type="echo", payload=None, owner=ALICE):
    body = {"task_type": task_type, "payload": payload if payload is not None else {"x": 1}}
    answer = tasklane.call(api_event("submit_task", owner=owner, body=body, headers={"Idempotency-Key": None}))
    assert answer.status == 202, answer.body
    return answer.body["task_id"]


def read(tasklane, task_id, owner=ALICE, headers=None, **query):
    event = api_event("get_task", task_id=task_id, owner=owner, query={k: str(v) for k, v in query.items()})
    event["headers"].update(headers or {})
    return tasklane.call(event)


@pytest.fixture
def waited(tasklane, monkeypatch):
    """The seconds each long poll slept, with a hook run at each sleep (e.g. a processor's work)."""
    slept: list[float] = []
    hooks: list = []

    def sleep(seconds):
        slept.append(seconds)
        tasklane.pass_time(seconds)
        for hook in hooks:
            hook()

    monkeypatch.setattr(clock, "sleep", sleep)
    return slept, hooks


def test_a_wait_answers_as_soon_as_the_task_is_finished(tasklane, waited):
    slept, hooks = waited
    task_id = submit(tasklane)
    hooks.append(lambda: tasklane.drain("normal"))  # the task runs while the caller waits
    answer = read(tasklane, task_id, wait=20)
    assert (answer.status, answer.body["status"], answer.body["result"]) == (200, "completed", {"x": 1})
    assert sum(slept) < 1, slept  # answered on the first read after it finished, not after 20 s


def test_a_wait_on_a_task_that_does_not_finish_answers_after_n_seconds_with_the_task_as_it_is(tasklane, waited):
    slept, _ = waited
    task_id = submit(tasklane)
    answer = read(tasklane, task_id, wait=3)
    assert (answer.status, answer.body["status"]) == (200, "pending")
    assert sum(slept) == pytest.approx(3, abs=0.25)
    assert max(slept) <= 1.0
    assert len(slept) <= 8


def test_a_finished_task_answers_at_once(tasklane, waited):
    slept, _ = waited
    task_id = submit(tasklane)
    tasklane.drain("normal")
    assert read(tasklane, task_id, wait=20).body["status"] == "completed"
    assert slept == []


def test_with_if_none_match_a_wait_answers_when_the_task_changes_and_304_when_it_did_not(tasklane, waited):
    _slept, hooks = waited
    task_id = submit(tasklane, "sleep", {"seconds": 0})
    first = read(tasklane, task_id)
    etag = first.headers["etag"]
    assert etag.startswith('W/"')
    unchanged = read(tasklane, task_id, headers={"If-None-Match": etag}, wait=2)
    assert (unchanged.status, unchanged.body, unchanged.headers["etag"]) == (304, None, etag)
    assert read(tasklane, task_id, headers={"If-None-Match": etag}).status == 304  # no wait: a plain conditional GET
    hooks.append(lambda: tasklane.drain("normal"))
    changed = read(tasklane, task_id, headers={"If-None-Match": etag}, wait=20)
    assert (changed.status, changed.body["status"]) == (200, "completed")
    assert changed.headers["etag"] != etag


@pytest.mark.parametrize("wait", ["0", "1", "20"])
def test_wait_takes_0_to_20_seconds(tasklane, waited, wait):
    assert read(tasklane, submit(tasklane), wait=wait).status == 200


@pytest.mark.parametrize("wait", ["21", "-1", "abc", "1.5", ""])
def test_a_wait_that_is_not_0_to_20_whole_seconds_is_a_422_naming_it(tasklane, waited, wait):
    slept, _ = waited
    answer = read(tasklane, submit(tasklane), wait=wait)
    assert answer.status == 422, answer.body
    assert [d["field"] for d in answer.body["error"]["details"]] == ["wait"]
    assert slept == []


def test_a_wait_never_outlasts_the_function(tasklane, waited):
    slept, _ = waited
    tasklane.context.remaining_ms = 10_000
    assert read(tasklane, submit(tasklane), wait=20).body["status"] == "pending"
    # 10 s left, 2 kept to answer: never more than 8 s, less by what the request itself took (on a
    # loaded machine, up to a second)
    assert 7.0 <= sum(slept) <= 8.0


def test_another_callers_task_is_unknown_without_waiting(tasklane, waited):
    slept, _ = waited
    answer = read(tasklane, submit(tasklane, owner=BOB), wait=20)
    assert answer.status == 404
    assert slept == []


def test_the_openapi_document_names_wait_and_if_none_match(tasklane):
    document = tasklane.call(api_event("openapi", owner=None)).body
    names = {p["name"]: p for p in document["paths"]["/tasks/{task_id}"]["get"]["parameters"]}
    assert names["wait"]["schema"] == {"type": "integer", "minimum": 0, "maximum": 20, "default": 0}
    assert "If-None-Match" in names
