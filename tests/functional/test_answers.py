"""Answers people can act on: ids in any UUID form, messages without library wording."""

from __future__ import annotations

import pytest

from tests.events import api_event
from tests.functional.test_api import assert_error, submit

NOT_A_BOOLEAN = "must be a whole number, not true or false"
NIL = "00000000-0000-0000-0000-000000000000"


@pytest.mark.parametrize(
    "task_id",
    [
        NIL,
        "5ebce036-f184-11f1-b3bf-02fc00000001",
        "979B03CC-69F8-4EEA-9277-4FF880C47FD5",
        "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
    ],
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


def submit_raw(tasklane, raw, name="submit_task"):
    return tasklane.call(api_event(name, raw_body=raw, headers={"Idempotency-Key": None}))


def all_messages(answer):
    details = answer.body["error"]["details"] or []
    return [answer.body["error"]["message"]] + [d["message"] for d in details if isinstance(d, dict)]


LIBRARY_WORDS = ("Value error", "Assertion failed", "SubmitRequest", "BatchRequest", "Input should", "dictionary")


def assert_plain(messages):
    for message in messages:
        for word in LIBRARY_WORDS:
            assert word not in message, message


def test_a_json_array_sent_as_a_batch_says_what_the_body_must_be(tasklane):
    answer = submit_raw(tasklane, '[{"task_type": "echo"}]', "submit_batch")
    assert_error(answer, 422, "validation_error")
    assert answer.body["error"]["details"] == [
        {"field": "body", "message": 'must be a JSON object: {"tasks": [{"task_type": ...}, ...]}'}
    ]


def test_a_batch_item_that_is_not_an_object_says_so_in_tasklane_words(tasklane):
    answer = submit_raw(tasklane, '{"tasks": [{"task_type": "echo"}, 5]}', "submit_batch")
    assert answer.status == 202
    error = answer.body["results"][1]["error"]
    assert error["details"] == [{"field": "body", "message": "must be a JSON object (one task)"}]


def test_a_number_too_large_names_its_field_inside_the_payload(tasklane):
    answer = submit_raw(tasklane, '{"task_type": "compute", "payload": {"n": 1e400}}')
    assert_error(answer, 422, "validation_error")
    assert answer.body["error"]["details"] == [
        {"field": "payload.n", "message": "number 1e400 is outside the range of a double"}
    ]


def test_validator_messages_carry_no_library_prefix(tasklane):
    for raw in (
        '{"task_type": "echo", "run_at": "2030-01-01T00:00:00Z", "delay_seconds": 1}',
        '{"task_type": "echo", "callback_url": "http://10.0.0.1/x"}',
        '{"task_type": "echo", "priority": "urgent"}',
        '{"task_type": "echo", "bogus": 1}',
        '{"task_type": ""}',
        "[1]",
    ):
        answer = submit_raw(tasklane, raw)
        assert answer.status == 422, raw
        assert_plain(all_messages(answer))
    answer = submit_raw(tasklane, '{"task_type": "echo", "run_at": "2030-01-01T00:00:00Z", "delay_seconds": 1}')
    assert answer.body["error"]["details"] == [{"field": "run_at", "message": "give run_at or delay_seconds, not both"}]
    answer = submit_raw(tasklane, '{"task_type": "echo", "priority": "urgent"}')
    assert answer.body["error"]["details"] == [{"field": "priority", "message": "must be 'high', 'normal' or 'low'"}]


@pytest.mark.parametrize("raw", ['{"n": true}', '{"n": false}'])
def test_a_boolean_is_not_a_number_in_a_payload(tasklane, raw):
    answer = submit_raw(tasklane, '{"task_type": "compute", "payload": ' + raw + "}")
    assert_error(answer, 422, "validation_error")
    assert answer.body["error"]["details"] == [{"field": "payload.n", "message": NOT_A_BOOLEAN}]


def test_a_boolean_is_not_a_number_in_the_request_either(tasklane):
    answer = submit_raw(tasklane, '{"task_type": "echo", "max_attempts": true}')
    assert_error(answer, 422, "validation_error")
    assert answer.body["error"]["details"] == [{"field": "max_attempts", "message": NOT_A_BOOLEAN}]


def test_a_boolean_in_a_batch_item_fails_that_item_alone(tasklane):
    body = (
        '{"tasks": [{"task_type": "compute", "payload": {"n": true}}, {"task_type": "compute", "payload": {"n": 3}}]}'
    )
    answer = submit_raw(tasklane, body, "submit_batch")
    assert answer.status == 202
    first, second = answer.body["results"]
    assert first["error"]["details"] == [{"field": "payload.n", "message": NOT_A_BOOLEAN}]
    assert second["task"]["status"] == "pending"


def test_a_retry_answers_a_location_that_resolves_to_the_task_from_its_own_url(tasklane):
    import urllib.parse

    task_id = submit(tasklane).body["task_id"]
    tasklane.call(api_event("cancel_task", task_id=task_id))
    answer = tasklane.call(api_event("retry_task", task_id=task_id))
    assert answer.status == 202
    own = f"http://127.0.0.1:4566/_aws/execute-api/abc/v1/tasks/{task_id}/retry"
    assert urllib.parse.urljoin(own, answer.headers["location"]) == (
        f"http://127.0.0.1:4566/_aws/execute-api/abc/v1/tasks/{task_id}"
    )


@pytest.mark.parametrize(("ahead", "status"), [(3600, "scheduled"), (20, "pending")])
def test_retrying_a_cancelled_task_whose_start_is_ahead_waits_for_it_again(tasklane, ahead, status):
    from datetime import UTC, datetime, timedelta

    run_at = (datetime.now(UTC) + timedelta(seconds=ahead)).isoformat()
    task = submit(tasklane, {"task_type": "echo", "run_at": run_at}).body
    assert tasklane.call(api_event("cancel_task", task_id=task["task_id"])).status == 200
    tasklane.receive("normal")  # the first message, if any, is taken off: only the retry's counts
    answer = tasklane.call(api_event("retry_task", task_id=task["task_id"]))
    assert answer.status == 202
    assert answer.body["status"] == status
    assert answer.body["run_at"] == task["run_at"]
    tasklane.drain("normal")  # nothing runs before its time
    assert tasklane.call(api_event("get_task", task_id=task["task_id"])).body["status"] == status


def test_retrying_a_cancelled_task_whose_start_has_passed_runs_it_now(tasklane):
    from datetime import UTC, datetime, timedelta

    run_at = (datetime.now(UTC) + timedelta(seconds=3600)).isoformat()
    task = submit(tasklane, {"task_type": "echo", "run_at": run_at}).body
    tasklane.call(api_event("cancel_task", task_id=task["task_id"]))
    tasklane.pass_time(3700)
    answer = tasklane.call(api_event("retry_task", task_id=task["task_id"]))
    assert answer.body["status"] == "pending"
    assert answer.body["run_at"] is None


def test_a_task_submitted_directly_names_no_schedule(tasklane):
    task = submit(tasklane).body
    assert task["schedule"] is None
    listed = tasklane.call(api_event("list_tasks", query={})).body["items"]
    assert listed[0]["schedule"] is None
