"""PATCH /schedules/{name} edits a schedule on moto: each field (cron, rate, time zone, the task,
paused), checked as on create; the record and the EventBridge Scheduler schedule end alike when an
UpdateSchedule answer is lost, when Scheduler fails, and when two edits race."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta

import pytest

from tests.events import ALICE, BOB, api_event
from tests.functional.test_schedules import NAME, aws_schedules, create, details, fire, group, schedule_event


def edit(tasklane, body, name=NAME, owner=ALICE):
    return tasklane.call(schedule_event("PATCH", name=name, body=body, owner=owner))


def read(tasklane, name=NAME):
    return tasklane.call(schedule_event("GET", name=name)).body


def on_scheduler(tasklane, name=NAME, owner=ALICE):
    """The EventBridge Scheduler schedule as Scheduler holds it."""
    import boto3

    from tasklane.model.schedule import scheduler_name

    return boto3.client("scheduler", region_name="us-east-1").get_schedule(
        Name=scheduler_name(owner, name), GroupName=group(tasklane)
    )


def assert_alike(tasklane, name=NAME):
    """The record (as GET shows it) and Scheduler's schedule say the same."""
    record, held = read(tasklane, name), on_scheduler(tasklane, name)
    expression = f"cron({record['cron']})" if record["cron"] else f"rate({record['rate']})"
    assert held["ScheduleExpression"] == expression
    assert held["ScheduleExpressionTimezone"] == record["timezone"]
    assert held["State"] == ("DISABLED" if record["paused"] else "ENABLED")
    return record


# --- each field ---------------------------------------------------------------------------------


def test_a_new_rate_is_stored_set_on_scheduler_and_counted_from_the_edit(tasklane):
    create(tasklane, rate="5 minutes")
    tasklane.pass_time(120)
    answer = edit(tasklane, {"rate": "1 hour"})
    assert answer.status == 200, answer.body
    assert answer.body["rate"] == "1 hour"
    assert answer.body["cron"] is None
    fires = [datetime.fromisoformat(t) for t in answer.body["next_fire_times"]]
    edited = datetime.fromisoformat(answer.body["updated_at"])
    assert fires[0] - edited == timedelta(hours=1)  # an hour after the edit, counted from it
    assert [b - a for a, b in itertools.pairwise(fires)] == [timedelta(hours=1)] * 4
    assert on_scheduler(tasklane)["ScheduleExpression"] == "rate(1 hour)"
    assert read(tasklane)["next_fire_times"] == answer.body["next_fire_times"]  # GET shows what PATCH did


def test_a_cron_replaces_a_rate_and_its_fire_times_follow_the_zone(tasklane):
    create(tasklane, rate="5 minutes", timezone="Europe/Paris")
    answer = edit(tasklane, {"cron": "cron(0 9 ? * MON-FRI *)"})
    assert answer.status == 200, answer.body
    assert (answer.body["cron"], answer.body["rate"]) == ("0 9 ? * MON-FRI *", None)
    for there, here in zip(answer.body["next_fire_times"], answer.body["next_fire_times_local"], strict=True):
        assert here[11:] in ("09:00:00+01:00", "09:00:00+02:00")
        assert datetime.fromisoformat(here) == datetime.fromisoformat(there)
    held = assert_alike(tasklane)
    assert held["cron"] == "0 9 ? * MON-FRI *"


def test_a_rate_replaces_a_cron(tasklane):
    create(tasklane, rate=None, cron="0 9 * * ? *")
    answer = edit(tasklane, {"rate": "rate(2 hours)"})
    assert (answer.body["cron"], answer.body["rate"]) == (None, "2 hours")
    assert_alike(tasklane)


def test_a_new_time_zone_moves_the_fire_times_and_scheduler_reads_the_cron_in_it(tasklane):
    create(tasklane, rate=None, cron="0 9 * * ? *", timezone="UTC")
    answer = edit(tasklane, {"timezone": "Asia/Tokyo"})
    assert answer.status == 200, answer.body
    assert answer.body["timezone"] == "Asia/Tokyo"
    assert all(t.endswith("T00:00:00.000Z") for t in answer.body["next_fire_times"])  # 09:00 in Tokyo
    assert all(t.endswith("T09:00:00+09:00") for t in answer.body["next_fire_times_local"])
    assert on_scheduler(tasklane)["ScheduleExpressionTimezone"] == "Asia/Tokyo"
    assert read(tasklane)["next_fire_times_local"] == answer.body["next_fire_times_local"]


def test_task_fields_are_merged_into_the_task_and_the_next_firing_submits_it(tasklane):
    create(tasklane, task={"task_type": "echo", "payload": {"x": 1}, "max_attempts": 2})
    answer = edit(tasklane, {"task": {"payload": {"hello": "edited"}, "priority": "high", "max_attempts": None}})
    assert answer.status == 200, answer.body
    assert answer.body["task"] == {"task_type": "echo", "payload": {"hello": "edited"}, "priority": "high"}
    task_id = fire(tasklane)
    task = tasklane.call(api_event("get_task", task_id=task_id)).body
    assert (task["payload"], task["priority"]) == ({"hello": "edited"}, "high")
    assert task["max_attempts"] != 2  # removed: the type's default again


def test_a_new_task_type_is_checked_with_the_payload_it_will_get(tasklane):
    create(tasklane, task={"task_type": "echo", "payload": {"x": 1}})
    refused = edit(tasklane, {"task": {"task_type": "resize_image"}})  # echo's payload does not fit it
    assert refused.status == 422
    assert {d["field"] for d in refused.body["error"]["details"]} >= {"task.payload.source_key"}
    payload = {"source_key": "a.png", "width": 10, "height": 10}
    answer = edit(tasklane, {"task": {"task_type": "resize_image", "payload": payload}})
    assert answer.status == 200, answer.body
    assert answer.body["task"] == {"task_type": "resize_image", "payload": payload}


def test_an_edit_of_a_paused_schedule_keeps_it_paused_unless_it_resumes_it(tasklane):
    create(tasklane)
    edit(tasklane, {"paused": True})
    answer = edit(tasklane, {"rate": "1 hour", "task": {"priority": "low"}})
    assert answer.body["paused"] is True
    assert answer.body["next_fire_times"] == []
    assert assert_alike(tasklane)["paused"] is True
    assert fire(tasklane) is None
    resumed = edit(tasklane, {"paused": False, "rate": "2 hours"})
    assert (resumed.body["paused"], resumed.body["rate"]) == (False, "2 hours")
    assert len(resumed.body["next_fire_times"]) == 5
    assert assert_alike(tasklane)["paused"] is False


def test_an_edit_keeps_the_schedules_identity_so_its_firings_still_count(tasklane):
    created = create(tasklane).body
    before = json.loads(on_scheduler(tasklane)["Target"]["Input"])
    edited = edit(tasklane, {"rate": "10 minutes"}).body
    assert json.loads(on_scheduler(tasklane)["Target"]["Input"]) == before
    assert edited["created_at"] == created["created_at"]
    assert fire(tasklane) is not None


# --- refused as on create -------------------------------------------------------------------------

REFUSED = [
    ({"cron": "0 9 * * *"}, "cron"),  # five fields
    ({"cron": "0 25 ? * * *"}, "cron"),
    ({"cron": "0 9 ? * * *", "rate": "1 hour"}, "rate"),  # both
    ({"rate": "0 minutes"}, "rate"),
    ({"rate": "5 fortnights"}, "rate"),
    ({"rate": "1000000 days"}, "rate"),  # seven digits: past what a rate holds
    ({"timezone": "Europe"}, "timezone"),  # a folder of the zone database
    ({"timezone": "x" * 300}, "timezone"),
    ({"timezone": "Europe/" + "P" * 300}, "timezone"),
    ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
    ({"task": {"priority": "urgent"}}, "task.priority"),
    ({"task": {"task_type": "nope"}}, "task.task_type"),
    ({"task": {"run_at": "2027-01-01T00:00:00Z"}}, "task.run_at"),
    ({"task": {"colour": "red"}}, "task.colour"),
    ({"task": {"task_type": None}}, "task.task_type"),  # a task needs its type
    ({"task": {"payload": {"n": 1e400}}}, "task.payload.n"),
]


@pytest.mark.parametrize(("body", "field"), REFUSED)
def test_a_bad_edit_is_a_422_naming_the_field_and_changes_nothing(tasklane, body, field):
    create(tasklane)
    before, held = read(tasklane), on_scheduler(tasklane)
    answer = edit(tasklane, body)
    assert answer.status == 422, answer.body
    assert answer.body["error"]["code"] == "validation_error"
    assert field in details(answer), details(answer)
    assert read(tasklane) == before
    assert on_scheduler(tasklane)["ScheduleExpression"] == held["ScheduleExpression"]


@pytest.mark.parametrize(
    ("body", "field"), [(b, f) for b, f in REFUSED if f in ("cron", "timezone") or "fortnights" in str(b)]
)
def test_a_bad_edit_is_worded_as_the_same_mistake_on_create(tasklane, body, field):
    create(tasklane)
    when = {} if field == "rate" else {"rate": None, "cron": "0 9 ? * * *"}
    on_create = create(tasklane, name="other", **{**when, **body})
    assert details(edit(tasklane, body))[field] == details(on_create)[field]


@pytest.mark.parametrize("rate", ["999999 days", "1 minute"])  # just inside what a rate holds
def test_the_longest_and_shortest_rates_are_accepted(tasklane, rate):
    create(tasklane)
    answer = edit(tasklane, {"rate": rate})
    assert answer.status == 200, answer.body
    assert on_scheduler(tasklane)["ScheduleExpression"] == f"rate({rate})"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body"),  # nothing to change
        ({"name": "renamed"}, "name"),  # not a field an edit takes
        ({"paused": "yes"}, "paused"),
        ({"rate": None}, "rate"),
        ({"timezone": None}, "timezone"),
        ({"task": "echo"}, "task"),
    ],
)
def test_an_empty_unknown_or_null_field_is_a_422(tasklane, body, field):
    create(tasklane)
    answer = edit(tasklane, body)
    assert answer.status == 422, answer.body
    assert field in details(answer), details(answer)


def test_another_owners_schedule_and_an_unknown_name_are_404(tasklane):
    create(tasklane, owner=BOB)
    assert edit(tasklane, {"rate": "1 hour"}).status == 404
    assert edit(tasklane, {"rate": "1 hour"}, name="nope").status == 404
    assert read_as_bob(tasklane)["rate"] == "5 minutes"
    assert on_scheduler(tasklane, owner=BOB)["ScheduleExpression"] == "rate(5 minutes)"


def read_as_bob(tasklane):
    return tasklane.call(schedule_event("GET", name=NAME, owner=BOB)).body


def test_a_record_made_before_versions_is_edited(tasklane):
    create(tasklane)
    table = tasklane.stack.names["SchedulesTable"]
    tasklane.dynamodb.update_item(
        TableName=table, Key={"owner": {"S": ALICE}, "name": {"S": NAME}}, UpdateExpression="REMOVE version"
    )
    answer = edit(tasklane, {"rate": "1 hour"})
    assert answer.status == 200, answer.body
    assert assert_alike(tasklane)["rate"] == "1 hour"


# --- lost answers and failures ----------------------------------------------------------------------


def _lose_update_schedule_answers(times: list[int]) -> list[str]:
    """UpdateSchedule calls reach Scheduler (moto applies them) and their answers are lost (a 500,
    which the SDK retries) until `times[0]` have been."""
    from botocore.awsrequest import AWSResponse
    from moto.core.models import botocore_stubber

    from tasklane.data import aws
    from tests.functional.test_faults import _Raw

    lost: list[str] = []

    def answer(request, **kwargs):
        if request.method == "PUT" and "/schedules/" in request.url and len(lost) < times[0]:
            lost.append(json.loads(request.body)["ScheduleExpression"])
            botocore_stubber(request=request, **kwargs)
            body = json.dumps({"Message": "internal error"}).encode()
            return AWSResponse(request.url, 500, {"x-amzn-ErrorType": "InternalServerException"}, _Raw(body))
        return None

    aws.scheduler().meta.events.register_first("before-send", answer)
    return lost


def test_an_update_schedule_whose_answer_was_lost_is_retried_and_the_edit_holds(tasklane, monkeypatch):
    monkeypatch.setattr("time.sleep", lambda s: None)
    create(tasklane)
    lost = _lose_update_schedule_answers([1])
    answer = edit(tasklane, {"rate": "1 hour"})
    assert lost == ["rate(1 hour)"]
    assert answer.status == 200, answer.body
    assert assert_alike(tasklane)["rate"] == "1 hour"


def test_an_update_schedule_that_failed_after_it_was_applied_leaves_the_schedule_as_it_was(tasklane, monkeypatch):
    """Scheduler applied the new rate but every answer was lost: the edit fails (503), and the record
    and Scheduler both show the schedule as before it, not one of each."""
    monkeypatch.setattr("time.sleep", lambda s: None)
    create(tasklane, task={"task_type": "echo", "payload": {"x": 1}})
    times = [
        6
    ]  # the SDK's six tries (max_attempts 5 retries) of the edit's UpdateSchedule; the restoring one gets through
    lost = _lose_update_schedule_answers(times)
    answer = edit(tasklane, {"rate": "1 hour", "task": {"payload": {"x": 2}}})
    assert answer.status == 503, (lost, answer.body)
    assert set(lost) == {"rate(1 hour)"}
    record = assert_alike(tasklane)
    assert (record["rate"], record["task"]["payload"]) == ("5 minutes", {"x": 1})
    assert fire(tasklane) is not None
    assert edit(tasklane, {"rate": "1 hour"}).status == 200  # and it can be edited again
    assert assert_alike(tasklane)["rate"] == "1 hour"


def test_an_edit_scheduler_refuses_is_a_422_and_changes_nothing(tasklane, monkeypatch):
    from tasklane.data import schedules as data

    create(tasklane)
    original = data.Scheduler.put

    def refuse(self, schedule, *, create):
        if schedule.rate == "2 hours":
            raise data.ValidationFailed(
                "EventBridge Scheduler refused the schedule", [{"field": "rate", "message": "no"}]
            )
        return original(self, schedule, create=create)

    monkeypatch.setattr(data.Scheduler, "put", refuse)  # as Scheduler.put answers a ValidationException
    answer = edit(tasklane, {"rate": "2 hours"})
    assert answer.status == 422
    assert details(answer) == {"rate": "no"}
    assert assert_alike(tasklane)["rate"] == "5 minutes"


# --- two edits at once ------------------------------------------------------------------------------


def test_an_edit_stored_between_another_edits_read_and_write_is_kept_and_the_other_applied_over_it(
    tasklane, monkeypatch
):
    """B reads, A's whole edit happens, B writes: B's write is refused (it was made from an older
    version), B reads again and applies its change over A's. Both changes stand; nothing mixed."""
    from tasklane.data.schedules import ScheduleRecords

    create(tasklane, rate="5 minutes", task={"task_type": "echo", "payload": {"x": 1}})
    original, reads = ScheduleRecords.get, []

    def get(self, owner, name):
        found = original(self, owner, name)
        reads.append(found.version if found else None)
        if len(reads) == 1:  # B has read; A edits now, in full
            assert edit(tasklane, {"rate": "1 hour", "task": {"priority": "high"}}).status == 200
        return found

    monkeypatch.setattr(ScheduleRecords, "get", get)
    b = edit(tasklane, {"task": {"payload": {"x": 2}}})
    assert b.status == 200, b.body
    record = assert_alike(tasklane)
    assert record["rate"] == "1 hour"  # A's
    assert record["task"] == {"task_type": "echo", "payload": {"x": 2}, "priority": "high"}  # A's and B's
    assert (b.body["rate"], b.body["task"]) == (record["rate"], record["task"])  # B answers what it made


def test_a_late_scheduler_update_of_an_older_edit_is_set_right_by_the_edit_that_made_it(tasklane, monkeypatch):
    """A stores its rate, then B stores and sets Scheduler to its rate, then A's UpdateSchedule lands:
    A reads the record again, finds B's, and sets Scheduler to it. Scheduler ends as the record."""
    from tasklane.data.schedules import Scheduler

    create(tasklane)
    original, pushed = Scheduler.put, []

    def put(self, schedule, *, create):
        pushed.append(schedule.rate)
        if schedule.rate == "1 hour" and len(pushed) == 1:  # A's update is slow: B's whole edit first
            assert edit(tasklane, {"rate": "2 hours"}).status == 200
        return original(self, schedule, create=create)

    monkeypatch.setattr(Scheduler, "put", put)
    a = edit(tasklane, {"rate": "1 hour"})
    assert a.status == 200
    assert pushed == ["1 hour", "2 hours", "2 hours"]  # A, B, then A again with B's
    assert assert_alike(tasklane)["rate"] == "2 hours"


def test_an_edit_always_losing_the_race_is_a_409_and_changes_nothing_of_its_own(tasklane, monkeypatch):
    from tasklane.data.schedules import ScheduleRecords
    from tasklane.model.errors import ScheduleChanged

    create(tasklane)

    def always_changed(self, schedule, expected_version):
        raise ScheduleChanged(schedule.name)

    monkeypatch.setattr(ScheduleRecords, "replace", always_changed)
    answer = edit(tasklane, {"rate": "1 hour"})
    assert answer.status == 409
    assert answer.body["error"]["code"] == "schedule_changed"
    monkeypatch.undo()
    assert assert_alike(tasklane)["rate"] == "5 minutes"


def test_an_edit_racing_a_delete_does_not_bring_the_schedule_back(tasklane, monkeypatch):
    from tasklane.data.schedules import ScheduleRecords

    create(tasklane)
    original, reads = ScheduleRecords.get, []

    def get(self, owner, name):
        found = original(self, owner, name)
        reads.append(1)
        if len(reads) == 1:
            assert tasklane.call(schedule_event("DELETE", name=NAME)).status == 204
        return found

    monkeypatch.setattr(ScheduleRecords, "get", get)
    assert edit(tasklane, {"rate": "1 hour"}).status == 404
    monkeypatch.undo()
    assert tasklane.call(schedule_event("GET", name=NAME)).status == 404
    assert aws_schedules(tasklane) == []


# --- the client, the CLI and the API's description ---------------------------------------------------


def test_the_cli_edits_a_schedules_rate_zone_and_task(tasklane):
    from tests.functional.test_client import cli

    create(tasklane, task={"task_type": "echo", "payload": {"x": 1}})
    code, out, err = cli(
        tasklane, "--json", "schedules", "edit", NAME, "--cron", "0 9 ? * MON-FRI *", "--timezone", "Europe/Paris",
        "--payload", '{"x": 2}', "--priority", "high", "--pause",
    )  # fmt: skip
    assert code == 0, err
    shown = json.loads(out)
    assert (shown["cron"], shown["rate"], shown["timezone"], shown["paused"]) == (
        "0 9 ? * MON-FRI *",
        None,
        "Europe/Paris",
        True,
    )
    assert shown["task"] == {"task_type": "echo", "payload": {"x": 2}, "priority": "high"}
    code, out, _ = cli(tasklane, "schedules", "edit", NAME, "--rate", "1 hour", "--resume")
    assert code == 0
    assert "rate(1 hour)" in out
    assert assert_alike(tasklane)["paused"] is False


def test_the_client_edits_a_schedule(tasklane):
    from tasklane_client import Client

    from tests.functional.test_client import ENDPOINT, InProcess

    client = Client(ENDPOINT, None, transport=InProcess(tasklane))
    client.create_schedule("every5", {"task_type": "echo"}, rate="5 minutes")
    edited = client.edit_schedule("every5", rate="1 hour", task={"priority": "low"}, paused=True)
    assert (edited["rate"], edited["task"]["priority"], edited["paused"]) == ("1 hour", "low", True)


def test_the_openapi_document_describes_what_an_edit_takes(tasklane):
    document = tasklane.call(api_event("openapi")).body
    patch = document["paths"]["/schedules/{name}"]["patch"]
    ref = patch["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert set(document["components"]["schemas"][ref]["properties"]) == {"cron", "rate", "timezone", "task", "paused"}
    assert "Edit" in patch["summary"]


def test_fire_times_after_an_edit_are_those_get_shows_later(tasklane):
    create(tasklane)
    edited = edit(tasklane, {"rate": "10 minutes"}).body
    tasklane.pass_time(11 * 60)
    later = read(tasklane)["next_fire_times"]
    assert later[0] == edited["next_fire_times"][1]


def test_the_cli_with_nothing_to_change_is_the_apis_422(tasklane):
    from tasklane_client.errors import InvalidRequest

    from tests.functional.test_client import cli

    create(tasklane)
    with pytest.raises(InvalidRequest) as invalid:
        cli(tasklane, "schedules", "edit", NAME)
    assert [d["field"] for d in invalid.value.details] == ["body"]
