"""Edges a review found (issue 25, section 2) in runs and deliveries: rate starts, leases, the
webhook's deadline and cap, the local stack's own port. Each test fails on the code before its fix."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from tests.events import ALICE, api_event
from tests.functional.test_limits import submit


def get(tasklane, task_id):
    return tasklane.call(api_event("get_task", task_id=task_id)).body


class _Empty(BaseModel):
    pass


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
    from tasklane.data.tasks.table import TransitionRejected
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

    from tasklane.destinations import receivers
    from tasklane.destinations.urls import parse_target

    monkeypatch.setattr(receivers, "READ_TIMEOUT_SECONDS", 0.5)  # each byte comes well within it
    monkeypatch.setattr(receivers, "TOTAL_TIMEOUT_SECONDS", 1.0)
    target = parse_target(f"http://127.0.0.1:{tarpit}/hook", allow_loopback=True)
    started = time.monotonic()
    with pytest.raises(receivers.ReceiverUnreachable, match=r"within 1\.0 s"):
        receivers.post(receivers.Post(target, ip_address("127.0.0.1"), b"{}", {}))
    assert 0.9 <= time.monotonic() - started < 5.0  # the tarpit would trickle for 1,000 s


def test_the_webhook_deliveries_are_capped_by_their_event_source():
    from tests import cfn

    template = cfn.template()
    events = template["Resources"]["WebhookFunction"]["Properties"]["Events"]["Deliveries"]["Properties"]
    assert events["ScalingConfig"]["MaximumConcurrency"] == {"Ref": "WebhookConcurrency"}
    parameter = template["Parameters"]["WebhookConcurrency"]
    assert (parameter["MinValue"], parameter["MaxValue"]) == (2, 1000)  # SQS event sources' own bounds
    assert 2 <= parameter["Default"] <= 10


def test_a_calls_whole_deadline_fits_in_the_webhook_functions_timeout():
    from tasklane.limits import WEBHOOK_CONNECT_TIMEOUT_SECONDS, WEBHOOK_TOTAL_TIMEOUT_SECONDS
    from tasklane.logic.webhooks import MAX_ADDRESSES_TRIED
    from tests import cfn

    timeout = cfn.template()["Resources"]["WebhookFunction"]["Properties"]["Timeout"]
    # A name may resolve to a few addresses, each tried in turn when the one before gave no answer.
    assert WEBHOOK_CONNECT_TIMEOUT_SECONDS < WEBHOOK_TOTAL_TIMEOUT_SECONDS
    assert timeout > MAX_ADDRESSES_TRIED * WEBHOOK_TOTAL_TIMEOUT_SECONDS


def test_a_delivery_tries_at_most_three_of_its_names_addresses(tasklane, bus, stream, resolver, receivers):
    from urllib.parse import urlsplit

    from tasklane.destinations.receivers import ReceiverUnreachable
    from tests.functional.notify import run_webhooks, webhook_messages
    from tests.functional.test_webhook_delivery import HOOK, finished_with_callback

    resolver.names[urlsplit(HOOK).hostname] = [f"93.184.215.{i}" for i in range(1, 9)]
    receivers.codes = [ReceiverUnreachable("timed out")]
    finished_with_callback(tasklane, stream)
    run_webhooks(webhook_messages(tasklane))
    assert [str(p.address) for p in receivers.posts] == ["93.184.215.1", "93.184.215.2", "93.184.215.3"]
