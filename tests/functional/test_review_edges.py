"""Edges a review found (issue 25, section 2) in values, schedules, firings and answers; runs and
deliveries are in test_review_runs.py. Each test fails on the code before its fix."""

from __future__ import annotations

import json
from datetime import date

import pytest
from pydantic import BaseModel

from tests.events import ALICE, api_event
from tests.functional.test_limits import submit
from tests.functional.test_schedules import create, schedule_event


def get(tasklane, task_id):
    return tasklane.call(api_event("get_task", task_id=task_id)).body


class _Empty(BaseModel):
    pass


class _BadStr:
    def __str__(self):
        raise RuntimeError("no text")


@pytest.fixture
def returning(monkeypatch):
    """A task type `returns` whose run returns the value given."""
    from tasklane.task_types.registry import _TYPES, TaskType

    def register(value):
        _TYPES["returns"] = TaskType("returns", _Empty, lambda payload, ctx: value, timeout_seconds=5, max_attempts=3)

    yield register
    _TYPES.pop("returns", None)


# Row 1: a result that cannot be encoded fails its one attempt with a typed error.
@pytest.mark.parametrize(
    "value",
    [{date(2026, 1, 1): 1}, {(1, 2): 3}, {"ok": _BadStr()}, [float("nan")]],
    ids=["date", "tuple", "str", "nan"],
)
def test_a_result_without_a_json_form_fails_its_only_run_as_not_serializable(tasklane, returning, value):
    returning(value)
    task_id = submit(tasklane, "returns").body["task_id"]
    response = tasklane.process("normal", tasklane.receive("normal"))
    assert response["batchItemFailures"] == []
    task = get(tasklane, task_id)
    assert task["status"] == "failed"
    assert task["attempts"] == 1
    assert task["error"]["type"] == "ResultNotSerializable"
    assert tasklane.receive("normal") == []  # no message left to run it again


# Row 2: a run_at outside what UTC can hold is a 422 on run_at, and fails alone in a batch.
@pytest.mark.parametrize(
    "run_at", ["0001-01-01T00:00:00+01:00", "0001-01-01T00:59:59+01:00", "9999-12-31T23:59:59-01:00"]
)
def test_a_run_at_outside_the_years_utc_holds_is_a_422_on_run_at(tasklane, run_at):
    answer = submit(tasklane, run_at=run_at)
    assert answer.status == 422
    assert answer.body["error"]["details"][0]["field"] == "run_at"


def test_the_first_moment_utc_holds_is_a_past_run_at_that_runs_now(tasklane):
    answer = submit(tasklane, run_at="0001-01-01T01:00:00+01:00")  # 0001-01-01T00:00:00Z, just in range
    assert answer.status == 202
    assert answer.body["status"] == "pending"


def test_a_run_at_outside_utc_fails_alone_in_a_batch(tasklane):
    items = [{"task_type": "echo"}, {"task_type": "echo", "run_at": "0001-01-01T00:00:00+01:00"}]
    answer = tasklane.call(api_event("submit_batch", body={"tasks": items}))
    assert answer.status == 202
    results = answer.body["results"]
    assert results[0]["task"]["status"] == "pending"
    assert results[1]["error"]["details"][0]["field"] == "run_at"


# Row 3: a time zone name that is a folder of the zone database, or too long for a file, is a 422.
@pytest.mark.parametrize("zone", ["Europe", "America", "America/Argentina", "x" * 300, "Europe/" + "P" * 300])
def test_a_time_zone_that_is_a_folder_or_too_long_is_a_422_on_timezone(tasklane, zone):
    answer = create(tasklane, timezone=zone, cron="0 9 ? * MON-FRI *", rate=None)
    assert answer.status == 422
    assert [d["field"] for d in answer.body["error"]["details"]] == ["timezone"]


# Row 4: a rate long enough to run past the last date Python holds is stored and read back.
@pytest.mark.parametrize("rate", ["999999 days", "999999 hours", "3000 days"])
def test_a_very_long_rate_is_created_and_read_back_with_the_fire_times_that_exist(tasklane, rate):
    answer = create(tasklane, rate=rate)
    assert answer.status == 201, answer.body
    read = tasklane.call(schedule_event("GET", name="nightly-report"))
    assert read.status == 200
    assert read.body["next_fire_times"] == answer.body["next_fire_times"]
    assert 1 <= len(read.body["next_fire_times"]) <= 5
    assert tasklane.call(schedule_event("GET")).status == 200


def test_the_last_fire_of_a_very_long_rate_is_none_before_its_first_period():
    from datetime import UTC, datetime

    from tasklane.model.recurrence import Recurrence

    recurrence = Recurrence(None, "999999 days", "UTC", datetime(2026, 1, 1, tzinfo=UTC))
    assert recurrence.last_fire(datetime(2026, 6, 1, tzinfo=UTC)) is None
    assert [t.year for t in recurrence.next_fires(datetime(2026, 6, 1, tzinfo=UTC))] == [4763, 7501]
    short = Recurrence(None, "3000 days", "UTC", datetime(2026, 1, 1, tzinfo=UTC))
    assert len(short.next_fires(datetime(2026, 6, 1, tzinfo=UTC))) == 5


# Row 5: a firing submits its task even when its callback's name no longer resolves.
def test_a_firing_submits_its_task_when_the_callback_name_no_longer_resolves(tasklane, resolver):
    from tests.functional.test_schedules import fire

    resolver.names["hooks.example.com"] = ["93.184.215.14"]
    task = {"task_type": "echo", "payload": {"x": 1}, "callback_url": "https://hooks.example.com/t?token=s3cret"}
    assert create(tasklane, task=task).status == 201
    del resolver.names["hooks.example.com"]  # NXDOMAIN from now on
    task_id = fire(tasklane)
    assert task_id is not None
    shown = get(tasklane, task_id)
    assert shown["status"] == "pending"
    assert shown["callback"]["url"] == task["callback_url"]


def test_a_submission_still_refuses_a_callback_name_that_does_not_resolve(tasklane, resolver):
    answer = submit(tasklane, callback_url="https://gone.example.com/hook")
    assert answer.status == 422
    assert answer.body["error"]["details"][0]["field"] == "callback_url"


# Row 15: a firing whose task is no longer valid logs where and why, never the values.
def test_a_firing_that_submits_nothing_logs_no_payload_value_or_callback_url(tasklane, resolver, caplog):
    import logging

    from tests.functional.test_schedules import fire

    resolver.names["hooks.example.com"] = ["93.184.215.14"]
    task = {
        "task_type": "compute",
        "payload": {"n": 7, "secret_note": "pa55word-in-payload"},
        "callback_url": "https://hooks.example.com/t?token=s3cret-token",
    }
    assert create(tasklane, task={**task, "payload": {"n": 7}}).status == 201
    # The stored task now holds what this deployment refuses, a secret in the refused value.
    tasklane.dynamodb.update_item(
        TableName=tasklane.stack.names["SchedulesTable"],
        Key={"owner": {"S": ALICE}, "name": {"S": "nightly-report"}},
        UpdateExpression="SET task = :t",
        ExpressionAttributeValues={":t": {"S": json.dumps({**task, "payload": {"n": "pa55word-in-payload"}})}},
    )
    caplog.clear()
    assert fire(tasklane) is None
    formatter = logging.Formatter()
    text = "\n".join(
        r.getMessage() + str(r.__dict__) + (formatter.formatException(r.exc_info) if r.exc_info else "")
        for r in caplog.records
    )
    assert "no longer valid" in text
    assert "payload.n" in text
    assert "pa55word-in-payload" not in text
    assert "s3cret-token" not in text


# Row 10: a promotion whose answer was lost is recognised as done, and its message is sent now.
def test_a_promotion_whose_answer_was_lost_still_queues_the_task_now(tasklane, monkeypatch):
    from tasklane.data import aws
    from tests.functional.test_faults import _throttle
    from tests.functional.test_scheduled import at, promote
    from tests.functional.test_scheduled import submit as submit_scheduled

    monkeypatch.setattr("time.sleep", lambda s: None)
    task = submit_scheduled(tasklane, run_at=at(3600)).body
    assert task["status"] == "scheduled"
    tasklane.pass_time(3600 + 1)  # due now: its message is sent without a delay
    lost = _throttle(aws.dynamodb(), "UpdateItem", "ThrottlingException", 1, applied=True)
    assert promote(tasklane) == {"promoted": 1, "skipped": 0, "unsent": 0, "errors": 0}
    assert lost == ["UpdateItem"]
    assert get(tasklane, task["task_id"])["status"] == "pending"
    assert [json.loads(m["Body"])["task_id"] for m in tasklane.receive("normal")] == [task["task_id"]]


def _lose_create_schedule_answers(times: list[int]) -> list[str]:
    """CreateSchedule calls reach Scheduler and their answers are lost (a 500, which the SDK
    retries) until `times[0]` have been."""
    from botocore.awsrequest import AWSResponse
    from moto.core.models import botocore_stubber

    from tasklane.data import aws
    from tests.functional.test_faults import _Raw

    lost: list[str] = []

    def answer(request, **kwargs):
        if request.method == "POST" and "/schedules/" in request.url and len(lost) < times[0]:
            lost.append(request.url)
            botocore_stubber(request=request, **kwargs)
            body = json.dumps({"Message": "internal error"}).encode()
            return AWSResponse(request.url, 500, {"x-amzn-ErrorType": "InternalServerException"}, _Raw(body))
        return None

    aws.scheduler().meta.events.register_first("before-send", answer)
    return lost


# Row 11: a CreateSchedule whose answer was lost leaves no orphan and no name that answers 503.
def test_a_create_schedule_whose_answer_was_lost_is_recognised_and_the_schedule_made(tasklane, monkeypatch):
    from tests.functional.test_schedules import aws_schedules

    monkeypatch.setattr("time.sleep", lambda s: None)
    lost = _lose_create_schedule_answers([1])
    answer = create(tasklane)
    assert len(lost) == 1
    assert answer.status == 201, answer.body
    assert tasklane.call(schedule_event("GET", name="nightly-report")).status == 200
    assert [s["Name"] for s in aws_schedules(tasklane)] == [aws_schedules(tasklane)[0]["Name"]]


def test_a_create_schedule_that_failed_after_it_was_made_leaves_no_orphan_and_the_name_free(tasklane, monkeypatch):
    from tests.functional.test_schedules import aws_schedules

    monkeypatch.setattr("time.sleep", lambda s: None)
    times = [100]
    _lose_create_schedule_answers(times)  # every retry's answer is lost too: the call fails
    answer = create(tasklane)
    assert answer.status == 503
    assert aws_schedules(tasklane) == []  # nothing fires without its record
    assert tasklane.call(schedule_event("GET", name="nightly-report")).status == 404
    times[0] = 0
    again = create(tasklane)
    assert again.status == 201, again.body
    assert len(aws_schedules(tasklane)) == 1


# Row 14: the names `.` and `..` are refused; names of three dots and more stay allowed.
@pytest.mark.parametrize(("name", "status"), [(".", 422), ("..", 422), ("...", 201), (".a", 201), ("a..", 201)])
def test_schedule_names_that_a_url_path_folds_away_are_refused(tasklane, name, status):
    answer = create(tasklane, name=name)
    assert answer.status == status
    if status == 422:
        assert [d["field"] for d in answer.body["error"]["details"]] == ["name"]
    else:
        assert tasklane.call(schedule_event("GET", name=name)).status == 200


_AWS_TEXT = (
    "User: arn:aws:sts::123456789012:assumed-role/tasklane-StatusFunctionRole-AB12/tasklane-status is not "
    "authorized to perform: dynamodb:GetItem on resource: arn:aws:dynamodb:us-east-1:123456789012:table/tasklane-Tasks"
)


def _refuse_every_call(client, code="AccessDeniedException", status=400) -> None:
    """Every call of `client` is answered with an AWS error whose text names a role, the account and a table."""
    from botocore.awsrequest import AWSResponse

    from tests.functional.test_faults import _Raw

    def answer(request, **kwargs):
        body = json.dumps({"__type": code, "message": _AWS_TEXT, "Message": _AWS_TEXT}).encode()
        return AWSResponse(request.url, status, {"x-amzn-ErrorType": code}, _Raw(body))

    client.meta.events.register_first("before-send", answer)


def _assert_names_nothing_of_aws(answer):
    text = json.dumps(answer.body)
    for secret in ("123456789012", "arn:aws", "tasklane-Tasks", "StatusFunctionRole", "An error occurred"):
        assert secret not in text, text


# Row 13: no answer carries what AWS said (roles, the account, tables).
@pytest.mark.parametrize("route", ["get_task", "list_tasks", "submit_task", "submit_batch"])
def test_a_503_names_no_role_account_or_table(tasklane, monkeypatch, route):
    from tasklane.data import aws

    monkeypatch.setattr("time.sleep", lambda s: None)
    task_id = submit(tasklane).body["task_id"]
    _refuse_every_call(aws.dynamodb(), "InternalServerError", 500)
    event = {
        "get_task": api_event("get_task", task_id=task_id),
        "list_tasks": api_event("list_tasks"),
        "submit_task": api_event("submit_task", body={"task_type": "echo"}, headers={"Idempotency-Key": None}),
        "submit_batch": api_event("submit_batch", body={"tasks": [{"task_type": "echo"}]}),
    }[route]
    answer = tasklane.call(event)
    assert answer.status == (202 if route == "submit_batch" else 503)  # a batch answers per item
    _assert_names_nothing_of_aws(answer)


def test_a_schedule_refused_by_scheduler_names_no_role_or_account(tasklane, monkeypatch):
    from tasklane.data import aws

    monkeypatch.setattr("time.sleep", lambda s: None)
    _refuse_every_call(aws.scheduler(), "ValidationException", 400)
    answer = create(tasklane)
    assert answer.status == 422
    _assert_names_nothing_of_aws(answer)
    _refuse_every_call(aws.scheduler(), "AccessDeniedException", 403)
    answer = create(tasklane, name="other")
    assert answer.status in (422, 503)
    _assert_names_nothing_of_aws(answer)


def test_a_task_whose_payload_could_not_be_read_shows_no_aws_text_in_its_error(tasklane, monkeypatch):
    from tasklane.data import aws

    monkeypatch.setattr("time.sleep", lambda s: None)
    task_id = submit(tasklane, "echo", payload={"blob": "x" * 300_000}).body["task_id"]
    _refuse_every_call(aws.s3(), "InternalError", 500)
    tasklane.process("normal", tasklane.receive("normal"))
    task = tasklane.call(api_event("get_task", task_id=task_id))
    assert task.body["error"]["type"] == "ValueUnavailable"
    _assert_names_nothing_of_aws(task)
