"""Answers people can act on: ids in any UUID form, messages without library wording."""

from __future__ import annotations

import uuid

import pytest

from tests.events import api_event
from tests.functional.test_api import assert_error, submit

NIL = "00000000-0000-0000-0000-000000000000"


@pytest.mark.parametrize(
    "task_id", [NIL, str(uuid.uuid1()), str(uuid.uuid4()).upper(), "6ba7b810-9dad-11d1-80b4-00c04fd430c8"]
)
def test_any_valid_uuid_names_a_task_and_none_has_it(tasklane, task_id):
    for name in ("get_task", "get_result", "cancel_task", "retry_task"):
        answer = tasklane.call(api_event(name, task_id=task_id))
        assert_error(answer, 404, "task_not_found")
        assert task_id.lower() in answer.body["error"]["message"]
        assert task_id.upper() not in answer.body["error"]["message"] or task_id.upper() == task_id.lower()


def test_an_upper_case_id_finds_the_task_and_the_answer_uses_the_lower_case(tasklane):
    task_id = submit(tasklane).body["task_id"]
    answer = tasklane.call(api_event("get_task", task_id=task_id.upper()))
    assert answer.status == 200, answer.body
    assert answer.body["task_id"] == task_id
    cancelled = tasklane.call(api_event("cancel_task", task_id=task_id.upper()))
    assert cancelled.status == 200
    assert cancelled.body["task_id"] == task_id


@pytest.mark.parametrize("task_id", ["nope", "0b9a8c7d6e5f4a3b8c2d1e0f9a8b7c6d", "0b9a8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6"])
def test_what_is_not_a_uuid_is_refused_before_any_lookup(tasklane, task_id):
    answer = tasklane.call(api_event("get_task", task_id=task_id))
    assert_error(answer, 400, "bad_request")
    assert "expected a UUID" in answer.body["error"]["message"]


def test_the_result_of_a_cancelled_task_says_it_was_cancelled_not_yet_to_come(tasklane):
    task_id = submit(tasklane).body["task_id"]
    assert tasklane.call(api_event("cancel_task", task_id=task_id)).status == 200
    answer = tasklane.call(api_event("get_result", task_id=task_id))
    assert_error(answer, 409, "result_not_ready")
    assert answer.body["error"]["message"] == f"task {task_id} was cancelled: it has no result (retry it to run it)"
    assert "yet" not in answer.body["error"]["message"]


def test_the_result_of_a_pending_task_is_not_ready_yet(tasklane):
    task_id = submit(tasklane).body["task_id"]
    answer = tasklane.call(api_event("get_result", task_id=task_id))
    assert answer.body["error"]["message"] == f"task {task_id} is pending; it has no result yet"
