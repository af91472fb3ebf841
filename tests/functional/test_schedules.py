"""Recurring schedules on moto: validation (cron, rate, time zone, the task), isolation between owners,
the per-owner limit, pause and resume, and one task per firing."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.events import ALICE, BOB, api_event

NAME = "nightly-report"


def schedule_event(method, name=None, body=None, owner=ALICE):
    base = {
        ("POST", None): "create_schedule",
        ("GET", None): "list_schedules",
        ("GET", "x"): "get_schedule",
        ("PATCH", "x"): "pause_schedule",
        ("DELETE", "x"): "delete_schedule",
    }[(method, None if name is None else "x")]
    e = api_event(base, owner=owner)
    if name is not None:
        e["pathParameters"] = {"name": name}
        e["path"] = f"/schedules/{name}"
    if body is not None:
        e["body"] = json.dumps(body)
    return e


def create(tasklane, owner=ALICE, **fields):
    body = {"name": NAME, "rate": "5 minutes", "task": {"task_type": "echo", "payload": {"x": 1}}, **fields}
    return tasklane.call(schedule_event("POST", body=body, owner=owner))


def group(tasklane):
    return tasklane.stack.names["ScheduleGroup"]


def aws_schedules(tasklane):
    import boto3

    listed = boto3.client("scheduler", region_name="us-east-1").list_schedules(GroupName=group(tasklane))
    return listed["Schedules"]


def fire(tasklane, name=NAME, owner=ALICE, scheduled_time="2026-11-24T01:00:00Z", schedule_id=None):
    from tasklane.handlers import firing

    record = firing_input(tasklane, name, owner)
    record["scheduled_time"] = scheduled_time
    if schedule_id is not None:
        record["schedule_id"] = schedule_id
    return firing.lambda_handler(record, tasklane.context)["task_id"]


def firing_input(tasklane, name=NAME, owner=ALICE):
    """What EventBridge Scheduler was told to send at each firing of this schedule."""
    import boto3

    from tasklane.model.schedule import scheduler_name

    got = boto3.client("scheduler", region_name="us-east-1").get_schedule(
        Name=scheduler_name(owner, name), GroupName=group(tasklane)
    )
    return json.loads(got["Target"]["Input"])


def details(answer):
    return {d["field"]: d["message"] for d in answer.body["error"]["details"]}


def test_a_schedule_is_created_with_its_eventbridge_schedule_and_next_fire_times(tasklane):
    answer = create(tasklane, cron="0 9 ? * MON-FRI *", rate=None, timezone="Europe/Paris")
    assert answer.status == 201, answer.body
    assert answer.headers["location"] == f"schedules/{NAME}"  # relative to POST .../v1/schedules
    body = answer.body
    assert body["cron"] == "0 9 ? * MON-FRI *"
    assert body["paused"] is False
    assert len(body["next_fire_times"]) == 5
    [aws] = aws_schedules(tasklane)
    assert len(aws["Name"]) <= 64
    assert ALICE not in aws["Name"]
    import boto3

    got = boto3.client("scheduler", region_name="us-east-1").get_schedule(Name=aws["Name"], GroupName=group(tasklane))
    assert got["ScheduleExpression"] == "cron(0 9 ? * MON-FRI *)"
    assert got["ScheduleExpressionTimezone"] == "Europe/Paris"
    assert got["State"] == "ENABLED"
    assert "FiringFunction" in got["Target"]["Arn"]  # its live alias
    assert got["Target"]["DeadLetterConfig"]["Arn"].endswith("FiringDeadLetterQueue")  # never dropped
    assert json.loads(got["Target"]["Input"])["scheduled_time"] == "<aws.scheduler.scheduled-time>"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"cron": "0 9 * * *", "rate": None}, "cron"),  # five fields: EventBridge has six
        ({"cron": "0 9 * * MON *", "rate": None}, "cron"),  # no '?'
        ({"cron": "0 25 ? * * *", "rate": None}, "cron"),
        ({"cron": "0 9 ? * 8 *", "rate": None}, "cron"),
        ({"cron": "0 9 ? * * 1969", "rate": None}, "cron"),
        ({"rate": "0 minutes"}, "rate"),
        ({"rate": "5 fortnights"}, "rate"),
        ({"rate": "1 minutes"}, "rate"),
        ({"rate": "5 minute"}, "rate"),
        ({"rate": None}, "rate"),  # neither
        ({"cron": "0 9 ? * * *"}, "rate"),  # both
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"timezone": ""}, "timezone"),
        ({"name": "has space"}, "name"),
        ({"name": "x" * 65}, "name"),
        ({"task": {"task_type": "resize_image", "payload": {"source_key": "a", "width": 0, "height": 1}}}, None),
        ({"task": {"payload": {}}}, "task.task_type"),
        ({"task": {"task_type": "echo", "priority": "urgent"}}, "task.priority"),
        ({"task": {"task_type": "echo", "run_at": "2027-01-01T00:00:00Z"}}, "task.run_at"),
        ({"task": {"task_type": "nope"}}, "task.task_type"),
    ],
)
def test_invalid_schedules_are_422_naming_the_field(tasklane, fields, field):
    answer = create(tasklane, **fields)
    assert answer.status == 422, answer.body
    assert answer.body["error"]["code"] == "validation_error"
    assert (field or "task.payload.width") in details(answer)
    assert aws_schedules(tasklane) == []


@pytest.mark.parametrize("name", ["a", "x" * 64, "Nightly_report.v2-1"])
def test_names_up_to_64_characters_are_accepted(tasklane, name):
    assert create(tasklane, name=name).status == 201


@pytest.mark.parametrize("rate", ["1 minute", "rate(15 minutes)", "2 hours", "1 day"])
def test_rates_are_accepted_bare_or_wrapped(tasklane, rate):
    answer = create(tasklane, rate=rate)
    assert answer.status == 201, answer.body
    assert answer.body["rate"] == rate.removeprefix("rate(").removesuffix(")")


def test_a_duplicate_name_is_409_and_the_same_name_is_free_for_another_owner(tasklane):
    assert create(tasklane).status == 201
    answer = create(tasklane)
    assert answer.status == 409
    assert answer.body["error"]["code"] == "schedule_exists"
    assert create(tasklane, owner=BOB).status == 201
    assert len(aws_schedules(tasklane)) == 2


def test_owners_see_only_their_own_schedules(tasklane):
    create(tasklane)
    create(tasklane, owner=BOB, name="bobs")
    listed = tasklane.call(schedule_event("GET")).body["items"]
    assert [s["name"] for s in listed] == [NAME]
    assert tasklane.call(schedule_event("GET", name="bobs")).status == 404
    assert tasklane.call(schedule_event("PATCH", name="bobs", body={"paused": True})).status == 404
    assert tasklane.call(schedule_event("DELETE", name="bobs")).status == 404
    assert tasklane.call(schedule_event("GET", name="bobs", owner=BOB)).body["paused"] is False


def test_the_per_owner_limit_holds_at_and_over(tasklane, monkeypatch):
    monkeypatch.setenv("MAX_SCHEDULES_PER_OWNER", "3")
    from tasklane.settings import scheduler

    scheduler.scheduler_settings.cache_clear()
    for n in range(3):
        assert create(tasklane, name=f"s{n}").status == 201
    over = create(tasklane, name="s3")
    assert over.status == 409
    assert over.body["error"]["code"] == "schedule_limit_reached"
    assert over.body["error"]["details"] == {"limit": 3}
    assert create(tasklane, owner=BOB, name="s3").status == 201  # the limit is per owner
    assert tasklane.call(schedule_event("DELETE", name="s0")).status == 204
    assert create(tasklane, name="s3").status == 201  # a deleted schedule frees its place


def test_pause_and_resume_change_the_eventbridge_schedule_and_the_fire_times(tasklane):
    create(tasklane)
    paused = tasklane.call(schedule_event("PATCH", name=NAME, body={"paused": True}))
    assert paused.status == 200
    assert paused.body["paused"] is True
    assert paused.body["next_fire_times"] == []
    assert aws_schedules(tasklane)[0]["State"] == "DISABLED"
    assert fire(tasklane) is None  # a firing racing the pause submits nothing
    resumed = tasklane.call(schedule_event("PATCH", name=NAME, body={"paused": False}))
    assert resumed.body["paused"] is False
    assert len(resumed.body["next_fire_times"]) == 5
    assert aws_schedules(tasklane)[0]["State"] == "ENABLED"


@pytest.mark.parametrize("body", [{}, {"paused": "yes"}, {"paused": True, "name": "renamed"}])
def test_a_bad_patch_is_422(tasklane, body):
    create(tasklane)
    assert tasklane.call(schedule_event("PATCH", name=NAME, body=body)).status == 422


def test_delete_removes_the_record_and_the_eventbridge_schedule(tasklane):
    create(tasklane)
    raw = tasklane._schedules.lambda_handler(schedule_event("DELETE", name=NAME), tasklane.context)
    assert raw["statusCode"] == 204
    assert raw["body"] == ""  # not null: the local emulator's API Gateway fails on a null proxy body
    assert aws_schedules(tasklane) == []
    assert tasklane.call(schedule_event("GET", name=NAME)).status == 404
    assert tasklane.call(schedule_event("DELETE", name=NAME)).status == 404


def test_each_firing_submits_one_ordinary_task_owned_by_the_schedules_owner(tasklane):
    create(tasklane, task={"task_type": "echo", "payload": {"hello": "world"}, "priority": "high"})
    first = fire(tasklane, scheduled_time="2026-11-24T01:00:00Z")
    again = fire(tasklane, scheduled_time="2026-11-24T01:00:00Z")  # the same firing, delivered twice
    second = fire(tasklane, scheduled_time="2026-11-24T01:05:00Z")
    assert first is not None
    assert again is None
    assert second not in (None, first)
    task = tasklane.call(api_event("get_task", task_id=first)).body
    assert task["payload"] == {"hello": "world"}
    assert task["priority"] == "high"
    assert task["schedule"] == NAME  # the task says which schedule submitted it
    assert tasklane.call(api_event("get_task", owner=BOB, task_id=first)).status == 404
    assert tasklane.drain("high") == 2
    assert tasklane.call(api_event("get_task", task_id=first)).body["status"] == "completed"


def test_two_deliveries_of_one_firing_at_once_submit_one_task_and_neither_fails(tasklane, monkeypatch):
    """Both looked before either wrote: the second one's put is refused, and it finds the first's task."""
    from tasklane.data.tasks.store import TaskStore

    create(tasklane)
    first = fire(tasklane, scheduled_time="2026-11-24T01:00:00Z")
    original, looks = TaskStore.get, []

    def get(self, task_id):
        looks.append(task_id)
        return None if len(looks) == 1 else original(self, task_id)  # the first look raced the other put

    monkeypatch.setattr(TaskStore, "get", get)
    assert fire(tasklane, scheduled_time="2026-11-24T01:00:00Z") is None
    assert looks == [first, first]
    assert tasklane.drain("normal") == 1


def test_a_firing_of_a_deleted_or_replaced_schedule_submits_nothing(tasklane):
    create(tasklane)
    stale = firing_input(tasklane)
    tasklane.call(schedule_event("DELETE", name=NAME))
    from tasklane.handlers import firing

    assert (
        firing.lambda_handler({**stale, "scheduled_time": "2026-11-24T01:00:00Z"}, tasklane.context)["task_id"] is None
    )
    create(tasklane)  # a namesake: a new schedule id
    assert (
        firing.lambda_handler({**stale, "scheduled_time": "2026-11-24T01:00:00Z"}, tasklane.context)["task_id"] is None
    )
    assert tasklane.receive("normal") == []


def test_without_a_scheduled_time_a_firing_counts_as_the_latest_due_one(tasklane):
    """The local emulator passes <aws.scheduler.scheduled-time> unfilled: the firing is then named by
    the schedule's latest fire time, so that its duplicates still submit one task."""
    create(tasklane, rate="1 minute")
    tasklane.pass_time(65)
    first = fire(tasklane, scheduled_time="<aws.scheduler.scheduled-time>")
    tasklane.pass_time(5)
    assert fire(tasklane, scheduled_time="<aws.scheduler.scheduled-time>") is None
    tasklane.pass_time(60)
    assert fire(tasklane, scheduled_time="<aws.scheduler.scheduled-time>") not in (None, first)


def test_the_schedules_task_may_be_delayed_past_the_queue_horizon(tasklane):
    create(tasklane, task={"task_type": "echo", "delay_seconds": 7200})
    task_id = fire(tasklane)
    assert tasklane.call(api_event("get_task", task_id=task_id)).body["status"] == "scheduled"


def test_a_schedule_whose_task_type_went_away_fires_nothing_and_does_not_fail(tasklane, monkeypatch):
    create(tasklane, task={"task_type": "sleep", "payload": {"seconds": 1}})
    monkeypatch.setenv("DEMO_TASK_TYPES", "false")
    from tasklane import settings
    from tasklane.data import services

    settings.settings.cache_clear()
    services.services.cache_clear()
    assert fire(tasklane) is None


def test_the_openapi_document_has_the_schedule_routes(tasklane):
    answer = tasklane.call(api_event("openapi"))
    paths = answer.body["paths"]
    assert set(paths["/schedules"]) == {"get", "post"}
    assert set(paths["/schedules/{name}"]) == {"get", "patch", "delete"}


def test_next_fire_times_of_a_cron_follow_its_time_zone_across_daylight_saving():
    from tasklane.model.recurrence import Recurrence

    nine = Recurrence("0 9 ? * MON-FRI *", None, "America/New_York", datetime(2026, 3, 1, tzinfo=UTC))
    fires = nine.next_fires(datetime(2026, 3, 5, tzinfo=UTC), 4)
    # New York moves to daylight time on Sunday 8 March 2026: 9:00 is 14:00 UTC before, 13:00 after.
    assert [t.isoformat() for t in fires] == [
        "2026-03-05T14:00:00+00:00",
        "2026-03-06T14:00:00+00:00",
        "2026-03-09T13:00:00+00:00",
        "2026-03-10T13:00:00+00:00",
    ]
    paris = Recurrence("30 2 * * ? *", None, "Europe/Paris", datetime(2026, 3, 1, tzinfo=UTC))
    # 02:30 does not exist in Paris on 29 March 2026 (02:00 → 03:00): cron's rule runs it at 03:00.
    assert [t.isoformat() for t in paris.next_fires(datetime(2026, 3, 28, 12, tzinfo=UTC), 2)] == [
        "2026-03-29T01:00:00+00:00",
        "2026-03-30T00:30:00+00:00",
    ]


def test_next_fire_times_of_a_rate_count_from_creation():
    from tasklane.model.recurrence import Recurrence

    created = datetime(2026, 11, 24, 10, 0, 7, tzinfo=UTC)
    every = Recurrence(None, "5 minutes", "Asia/Tokyo", created)
    fires = every.next_fires(created + timedelta(minutes=7), 2)
    assert fires == [created + timedelta(minutes=10), created + timedelta(minutes=15)]
    assert every.next_fires(created - timedelta(hours=1), 1) == [created + timedelta(minutes=5)]
    assert every.last_fire(created + timedelta(minutes=4)) is None


@pytest.mark.parametrize(
    ("cron", "first"),
    [
        ("0 12 L * ? *", "2026-11-30T12:00:00+00:00"),  # last day of the month
        ("0 12 ? * 6#4 *", "2026-11-27T12:00:00+00:00"),  # fourth Friday (EventBridge: 6 = FRI)
        ("0 12 ? * 2 *", "2026-11-30T12:00:00+00:00"),  # Monday
        ("0/30 8-9 ? * SUN 2027", "2027-01-03T08:00:00+00:00"),  # a year field
    ],
)
def test_eventbridge_cron_features_compute_as_scheduler_fires(cron, first):
    from tasklane.model.recurrence import Recurrence

    start = datetime(2026, 11, 25, 13, tzinfo=UTC)
    assert Recurrence(cron, None, "UTC", start).next_fires(start, 1)[0].isoformat() == first


def test_the_year_field_is_jumped_over_not_stepped_through():
    from tasklane.model.recurrence import Recurrence

    start = datetime(2026, 11, 25, tzinfo=UTC)
    far = Recurrence("* * * * ? 2199", None, "UTC", start)
    assert [t.isoformat() for t in far.next_fires(start, 2)] == [
        "2199-01-01T00:00:00+00:00",
        "2199-01-01T00:01:00+00:00",
    ]
    assert Recurrence("0 12 ? * 2 1999", None, "UTC", start).next_fires(start, 1) == []  # only in the past
    mondays = Recurrence("0 12 ? * 2 2027,2030", None, "UTC", start)
    assert mondays.last_fire(datetime(2029, 6, 1, tzinfo=UTC)) == datetime(2027, 12, 27, 12, tzinfo=UTC)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["*", "?", "L", "W", "#", "/", "-", ",", "0", "1", "5", "7", "12", "31", "MON", "JAN", "2027", "99", " "]
        ),
        max_size=14,
    )
)
def test_any_cron_text_is_accepted_or_refused_with_a_reason_never_an_error(parts):
    from tasklane.model.recurrence import Recurrence, parse_cron

    text = "".join(parts)
    try:
        cron = parse_cron(text)
    except ValueError:
        return
    start = datetime(2026, 11, 25, tzinfo=UTC)
    Recurrence(cron.expression, None, "Europe/Paris", start).next_fires(start, 3)


def test_fire_times_are_shown_in_the_schedules_zone_and_in_utc(tasklane):
    answer = create(tasklane, rate=None, cron="0 9 * * ? *", timezone="Europe/Paris")
    assert answer.status == 201, answer.body
    utc, local = answer.body["next_fire_times"], answer.body["next_fire_times_local"]
    assert len(utc) == len(local) == 5
    for there, here in zip(utc, local, strict=True):
        assert here[11:] in ("09:00:00+01:00", "09:00:00+02:00")  # winter or summer time in Paris
        assert datetime.fromisoformat(here) == datetime.fromisoformat(there)


def test_the_cli_shows_a_schedules_fire_times_in_its_zone_then_utc(tasklane):
    from tests.functional.test_client import cli

    create(tasklane, rate=None, cron="0 9 * * ? *", timezone="Europe/Paris")
    code, out, _ = cli(tasklane, "schedules", "get", NAME)
    assert code == 0
    fire_line = next(line for line in out.splitlines() if line.startswith("next_fire_time"))
    assert re.search(r"T09:00:00\+0[12]:00 \(0[78]:00:00Z\)$", fire_line), fire_line
