"""Edges a review found (issue 25, section 2): each test fails on the code before its fix."""

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


# Row 12: a delivery that is not claimed (a duplicate of a finished task, an early one) gives its
# type's start back: the next task of the type starts at once.
@pytest.mark.parametrize("which", ["finished", "early"])
def test_a_delivery_that_is_not_claimed_does_not_use_up_its_types_rate(tasklane, monkeypatch, which):
    from tests.functional.test_limits import reconfigure

    reconfigure(tasklane, monkeypatch, RATE_LIMITS="echo=1/m")
    if which == "finished":
        done = submit(tasklane).body["task_id"]
        first = tasklane.receive("normal")
        tasklane.process("normal", first)
        assert get(tasklane, done)["status"] == "completed"
        tasklane.pass_time(70)  # the first start's interval is over
        duplicate = first[0]["Body"]
    else:
        from tasklane.model.message import TaskMessage

        later = submit(tasklane, run_at=_moment(600)).body["task_id"]  # its own message is 600 s away
        duplicate = TaskMessage(later, ALICE, 1, timeout_seconds=30, task_type="echo").to_json()
    tasklane.sqs.send_message(QueueUrl=tasklane.queue_url("normal"), MessageBody=duplicate)
    response = tasklane.process("normal", tasklane.receive("normal"))
    assert len(response["batchItemFailures"]) == (1 if which == "early" else 0)
    task_id = submit(tasklane).body["task_id"]
    tasklane.process("normal", [m for m in tasklane.receive("normal") if task_id in m["Body"]])
    shown = get(tasklane, task_id)
    assert (shown["status"], shown["waiting_for"]) == ("completed", None)


def test_a_claimed_delivery_still_spends_its_start(tasklane, monkeypatch):
    from tests.functional.test_limits import reconfigure

    reconfigure(tasklane, monkeypatch, RATE_LIMITS="echo=1/m")
    first, second = submit(tasklane).body["task_id"], submit(tasklane).body["task_id"]
    tasklane.process("normal", tasklane.receive("normal"))
    assert get(tasklane, first)["status"] == "completed"
    assert (get(tasklane, second)["status"], get(tasklane, second)["waiting_for"]) == ("pending", "rate_limit")


def _moment(seconds: float) -> str:
    from tests.functional.test_scheduled import at

    return at(seconds)


# Row 16: where the loopback is allowed, the local stack's own API port is still refused.
EMULATOR_PORT = 4566


def test_the_emulators_port_is_read_from_the_endpoint_its_functions_are_given():
    from tasklane.settings.webhooks import WEBHOOK_REQUIRED_ENV, WebhookSettings

    env = dict.fromkeys(WEBHOOK_REQUIRED_ENV, "x") | {"WEBHOOK_RETRY_BASE_SECONDS": "30"}
    local = WebhookSettings.from_env(
        env | {"CALLBACK_ALLOW_LOOPBACK": "true", "AWS_ENDPOINT_URL": "http://127.0.0.1:4577"}
    )
    assert (local.emulator_port, local.closed_port) == (4577, 4577)
    closed = WebhookSettings.from_env(env | {"CALLBACK_ALLOW_LOOPBACK": "false", "AWS_ENDPOINT_URL": "http://h:4566"})
    assert closed.closed_port is None  # the loopback is refused whole anyway
    on_aws = WebhookSettings.from_env(env | {"CALLBACK_ALLOW_LOOPBACK": "true"})
    assert on_aws.closed_port is None


def _settings_of_a_local_stack():
    """The webhook settings as a function on the local stack reads them: its emulator's endpoint in
    AWS_ENDPOINT_URL (set only while they are read: this test's AWS clients must not go there)."""
    import os

    from tasklane.data import notifications
    from tasklane.settings import webhooks

    webhooks.webhook_settings.cache_clear()
    notifications.notifications.cache_clear()
    os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{EMULATOR_PORT}"
    try:
        return webhooks.webhook_settings()
    finally:
        del os.environ["AWS_ENDPOINT_URL"]


@pytest.fixture
def local_stack(tasklane, monkeypatch):
    """CallbackAllowLoopback=true on a local stack whose emulator listens on EMULATOR_PORT."""
    monkeypatch.setenv("CALLBACK_ALLOW_LOOPBACK", "true")
    return _settings_of_a_local_stack()


@pytest.mark.parametrize(
    ("url", "status"),
    [
        (f"http://127.0.0.1:{EMULATOR_PORT}/", 422),
        (f"http://127.0.0.1:{EMULATOR_PORT}/2015-03-31/functions", 422),
        (f"https://127.0.0.1:{EMULATOR_PORT}/hook", 422),
        (f"http://127.0.0.1:{EMULATOR_PORT - 1}/hook", 202),
        (f"http://127.0.0.1:{EMULATOR_PORT + 1}/hook", 202),
        ("http://127.0.0.1/hook", 202),
    ],
)
def test_a_callback_to_the_local_stacks_own_api_is_refused(tasklane, resolver, local_stack, url, status):
    answer = submit(tasklane, callback_url=url)
    assert answer.status == status
    if status == 422:
        assert answer.body["error"]["details"][0]["field"] == "callback_url"
        assert "local stack" in answer.body["error"]["details"][0]["message"]


def test_a_delivery_to_the_local_stacks_own_api_is_never_posted(tasklane, resolver, receivers, monkeypatch):
    from tasklane.data import notifications
    from tasklane.settings import webhooks
    from tests.functional.notify import Stream, run_webhooks, webhook_messages
    from tests.functional.test_webhook_delivery import finished_with_callback

    monkeypatch.setenv("CALLBACK_ALLOW_LOOPBACK", "true")
    webhooks.webhook_settings.cache_clear()
    notifications.notifications.cache_clear()
    monkeypatch.setattr("tests.functional.test_webhook_delivery.HOOK", f"http://127.0.0.1:{EMULATOR_PORT}/")
    task_id = finished_with_callback(tasklane, Stream(tasklane))  # accepted: no emulator port known yet
    assert _settings_of_a_local_stack().closed_port == EMULATOR_PORT
    run_webhooks(webhook_messages(tasklane))
    assert receivers.posts == []
    delivery = get(tasklane, task_id)["callback"]["deliveries"][0]
    assert delivery["delivered"] is False


# Row 9: a run's lease lasts as long as the invocation that holds it can live, and not much longer.
@pytest.mark.parametrize(("after_s", "duplicate"), [(-1, "refused"), (0, "refused"), (11, "claimed")])
def test_a_task_that_outlives_its_time_limit_is_not_taken_over_while_its_invocation_lives(tasklane, after_s, duplicate):
    from tasklane.data.services import services
    from tasklane.data.table import TransitionRejected
    from tasklane.model import clock
    from tasklane.task_types.registry import _TYPES, TaskType

    remaining_s = tasklane.context.remaining_ms / 1000
    duplicates: list[str] = []

    def stubborn(payload, ctx):
        # Its limit (5 s) fired and was swallowed, as a C loop or a bare `except:` does; the invocation
        # lives on. At `after_s` from the end of the invocation, a duplicate delivery claims the task.
        tasklane.pass_time(remaining_s + after_s)
        try:
            services().store.mark_processing(task_id, ALICE, clock.now(), clock.epoch(clock.now()) + 60)
            duplicates.append("claimed")
        except TransitionRejected:
            duplicates.append("refused")
        return "done"

    _TYPES["stubborn"] = TaskType("stubborn", _Empty, stubborn, timeout_seconds=5, max_attempts=3)
    try:
        task_id = submit(tasklane, "stubborn").body["task_id"]
        tasklane.process("normal", tasklane.receive("normal"))
    finally:
        del _TYPES["stubborn"]
    assert duplicates == [duplicate]
    if duplicate == "refused":
        task = get(tasklane, task_id)
        assert (task["status"], task["attempts"]) == ("completed", 1)


# Row 8: one call to a receiver ends within a total deadline, however the receiver paces its bytes.
@pytest.fixture
def tarpit():
    """A receiver on the loopback that reads the request, then sends its answer a byte every 0.1 s."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                for byte in b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"a" * 10_000:
                    if stop.is_set():
                        return
                    try:
                        conn.sendall(bytes([byte]))
                    except OSError:
                        break
                    stop.wait(0.1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    server.close()


def test_a_receiver_that_trickles_its_answer_is_cut_off_at_the_total_deadline(tarpit, monkeypatch):
    import time
    from ipaddress import ip_address

    from tasklane.data import receivers
    from tasklane.model.callback_urls import parse_target

    monkeypatch.setattr(receivers, "READ_TIMEOUT_SECONDS", 0.5)  # each byte comes well within it
    monkeypatch.setattr(receivers, "TOTAL_TIMEOUT_SECONDS", 1.0)
    target = parse_target(f"http://127.0.0.1:{tarpit}/hook", allow_loopback=True)
    started = time.monotonic()
    with pytest.raises(receivers.ReceiverUnreachable, match=r"within 1\.0 s"):
        receivers.post(receivers.Post(target, ip_address("127.0.0.1"), b"{}", {}))
    assert 0.9 <= time.monotonic() - started < 2.0


def test_the_webhook_deliveries_are_capped_by_their_event_source():
    from tests import cfn

    template = cfn.template()
    events = template["Resources"]["WebhookFunction"]["Properties"]["Events"]["Deliveries"]["Properties"]
    assert events["ScalingConfig"]["MaximumConcurrency"] == {"Ref": "WebhookConcurrency"}
    parameter = template["Parameters"]["WebhookConcurrency"]
    assert (parameter["MinValue"], parameter["MaxValue"]) == (2, 1000)  # SQS event sources' own bounds
    assert 2 <= parameter["Default"] <= 10


def test_a_calls_whole_deadline_fits_in_the_webhook_functions_timeout():
    from tasklane.logic.webhooks import MAX_ADDRESSES_TRIED
    from tasklane.model.limits import WEBHOOK_CONNECT_TIMEOUT_SECONDS, WEBHOOK_TOTAL_TIMEOUT_SECONDS
    from tests import cfn

    timeout = cfn.template()["Resources"]["WebhookFunction"]["Properties"]["Timeout"]
    # A name may resolve to a few addresses, each tried in turn when the one before gave no answer.
    assert WEBHOOK_CONNECT_TIMEOUT_SECONDS < WEBHOOK_TOTAL_TIMEOUT_SECONDS
    assert timeout > MAX_ADDRESSES_TRIED * WEBHOOK_TOTAL_TIMEOUT_SECONDS


def test_a_delivery_tries_at_most_three_of_its_names_addresses(tasklane, bus, stream, resolver, receivers):
    from urllib.parse import urlsplit

    from tasklane.data.receivers import ReceiverUnreachable
    from tests.functional.notify import run_webhooks, webhook_messages
    from tests.functional.test_webhook_delivery import HOOK, finished_with_callback

    resolver.names[urlsplit(HOOK).hostname] = [f"93.184.215.{i}" for i in range(1, 9)]
    receivers.codes = [ReceiverUnreachable("timed out")]
    finished_with_callback(tasklane, stream)
    run_webhooks(webhook_messages(tasklane))
    assert [str(p.address) for p in receivers.posts] == ["93.184.215.1", "93.184.215.2", "93.184.215.3"]
