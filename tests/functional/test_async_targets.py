"""Async task types: the target accepts (202, or a Lambda's {"tasklane": "accepted"}) and finishes the
attempt later through /tasks/{id}/complete, /fail or /heartbeat (and asks /result-upload where to PUT
a large result), authenticated by the attempt's token alone; the reconciler settles an attempt past
its deadline or its heartbeat."""

from __future__ import annotations

import hashlib
import json
import re

import pytest

from tests.events import api_event
from tests.functional.task_types_helpers import definition, put_type, submit
from tests.functional.test_targets import ARN, Functions, Receiver, read


@pytest.fixture
def receiver(tasklane, monkeypatch):
    """A receiver on 127.0.0.1 (test_targets' own), with loopback targets allowed as on the local stack."""
    monkeypatch.setenv("CALLBACK_ALLOW_LOOPBACK", "true")
    from tasklane.settings.webhooks import webhook_settings

    webhook_settings.cache_clear()
    found = Receiver()
    yield found
    found.server.shutdown()
    found.server.server_close()


@pytest.fixture
def functions(tasklane, monkeypatch):
    """The Lambda API as target functions answer it (test_targets' stub)."""
    monkeypatch.setenv("TARGET_FUNCTION_ARNS", "arn:aws:lambda:us-east-1:123456789012:function:orders-*")
    from tasklane.data import aws
    from tasklane.settings.task_types import task_type_settings

    task_type_settings.cache_clear()
    fake = Functions()
    client = lambda: fake  # noqa: E731
    client.cache_clear = lambda: None  # type: ignore[attr-defined]
    monkeypatch.setattr(aws, "lambda_client", client)
    return fake


ACCEPTED = (202, {"Content-Type": "application/json"}, b'{"accepted": true}', 0)


def finish(system, route, task_id, body):
    return system.call(api_event(f"{route.replace('-', '_')}_task", owner=None, task_id=task_id, body=body))


def start(system, receiver, **fields):
    """An async url type whose target accepts; one task submitted and its first delivery processed."""
    receiver.answers = [ACCEPTED]
    put = put_type(system, "render", definition(target={"url": receiver.url}, mode="async", **fields))
    assert put.status in (200, 201), put.body
    answer = submit(system, "render", {"width": 3})
    assert answer.status == 202, answer.body
    system.drain(answer.body["priority"])
    return answer.body["task_id"], receiver.envelope()


def test_a_202_leaves_the_task_processing_without_holding_the_processor(tasklane, receiver):
    task_id, envelope = start(tasklane, receiver, timeout_seconds=3 * 24 * 3600)
    task = read(tasklane, task_id)
    assert task["status"] == "processing"
    # Its message is acknowledged: nothing stays on the lane for a processor to hold.
    assert tasklane.receive(task["priority"]) == []
    completion = envelope["completion"]
    assert set(completion) == {"token", "complete_url", "fail_url", "heartbeat_url", "result_upload_url"}
    assert completion["complete_url"].endswith(f"/tasks/{task_id}/complete")
    assert len(completion["token"]) >= 43  # 256 bits, URL-safe base64
    item = tasklane.item(task_id)
    kept = [v["S"] for k, v in item.items() if k.startswith("token_")]
    assert kept == [hashlib.sha256(completion["token"].encode()).hexdigest()]  # only its hash
    assert completion["token"] not in json.dumps(item)
    # Its deadline (three days on) is its lease and its sweep time: the reconciler finds it then.
    assert int(item["lease_until"]["N"]) == int(item["sweep_at"]["N"]) == int(item["async_until"]["N"])
    assert tasklane.reconcile() is not None
    assert read(tasklane, task_id)["status"] == "processing"


def test_complete_with_the_token_stores_the_result(tasklane, receiver):
    task_id, envelope = start(tasklane, receiver)
    token = envelope["completion"]["token"]
    answer = finish(tasklane, "complete", task_id, {"token": token, "result": {"frames": 240}})
    assert answer.status == 200, answer.body
    task = read(tasklane, task_id)
    assert (task["status"], task["result"]) == ("completed", {"frames": 240})
    # A finished task's token is spent: 409.
    again = finish(tasklane, "complete", task_id, {"token": token, "result": 1})
    assert again.status == 409, again.body
    assert finish(tasklane, "heartbeat", task_id, {"token": token}).status == 409
    assert finish(tasklane, "result-upload", task_id, {"token": token}).status == 409


def test_a_large_result_goes_to_the_bucket_and_one_over_the_limit_fails_the_task(tasklane, receiver):
    from tasklane.data.services import services

    limit = services().settings.max_result_bytes
    task_id, envelope = start(tasklane, receiver)
    big = "x" * (200 * 1024)
    answer = finish(tasklane, "complete", task_id, {"token": envelope["completion"]["token"], "result": big})
    assert answer.status == 200, answer.body
    assert tasklane.item(task_id).get("result_key") is not None
    assert tasklane.call(api_event("get_result", task_id=task_id)).status in (200, 303)
    task_id, envelope = start(tasklane, receiver)
    over = "y" * limit  # its JSON (with quotes) is 2 bytes over
    answer = finish(tasklane, "complete", task_id, {"token": envelope["completion"]["token"], "result": over})
    assert answer.status == 422, answer.body
    task = read(tasklane, task_id)
    assert (task["status"], task["error"]["type"]) == ("failed", "ResultTooLarge")


def test_a_wrong_token_or_an_unknown_task_is_a_404(tasklane, receiver):
    task_id, envelope = start(tasklane, receiver)
    for route in ("complete", "fail", "heartbeat", "result-upload"):
        body = {"token": "not-the-token", "result": 1, "error": {"type": "X", "message": "m"}}
        assert finish(tasklane, route, task_id, body).status == 404
    other = "00000000-0000-4000-8000-000000000000"
    assert finish(tasklane, "complete", other, {"token": envelope["completion"]["token"]}).status == 404
    assert finish(tasklane, "complete", task_id, {"result": 1}).status == 422  # no token at all
    assert read(tasklane, task_id)["status"] == "processing"  # nothing lost


def test_fail_with_retry_retries_with_backoff_then_fails_at_max_attempts(tasklane, receiver):
    task_id, envelope = start(tasklane, receiver, max_attempts=2)
    first = envelope["completion"]["token"]
    body = {"token": first, "error": {"type": "RenderCrashed", "message": "out of memory"}, "retry": True}
    answer = finish(tasklane, "fail", task_id, body)
    assert (answer.status, answer.body["status"]) == (200, "pending")
    task = read(tasklane, task_id)
    assert (task["status"], task["error"]["type"]) == ("pending", "RenderCrashed")
    assert tasklane.receive(task["priority"]) == []  # not before its backoff
    tasklane.pass_time(3600)  # past its backoff on tasklane's clock
    # The re-queued message carries the backoff as its delay (SQS holds it); deliver it once visible.
    import time as _time

    deadline = _time.monotonic() + 20
    while read(tasklane, task_id)["attempts"] < 2 and _time.monotonic() < deadline:
        tasklane.drain(task["priority"])
        _time.sleep(0.5)
    second = receiver.envelope()
    assert second["attempt"] == 2
    assert second["completion"]["token"] != first
    # The first attempt's token is stale now: 409.
    assert finish(tasklane, "complete", task_id, {"token": first, "result": 1}).status == 409
    body["token"] = second["completion"]["token"]
    answer = finish(tasklane, "fail", task_id, body)
    assert (answer.status, answer.body["status"]) == (200, "failed")
    task = read(tasklane, task_id)
    assert (task["status"], task["error"]) == ("failed", {"type": "RenderCrashed", "message": "out of memory"})


def test_heartbeats_keep_it_alive_and_a_missed_one_is_swept(tasklane, receiver):
    task_id, envelope = start(tasklane, receiver, timeout_seconds=24 * 3600, heartbeat_seconds=60, max_attempts=1)
    token = envelope["completion"]["token"]
    for _ in range(3):
        tasklane.pass_time(50)  # within its heartbeat each time
        answer = finish(tasklane, "heartbeat", task_id, {"token": token, "progress": {"percent": 40, "message": "x"}})
        assert answer.status == 200, answer.body
        tasklane.reconcile()
        assert read(tasklane, task_id)["status"] == "processing"
    assert read(tasklane, task_id)["progress"]["percent"] == 40
    tasklane.pass_time(61)  # silent past its heartbeat
    tasklane.reconcile()
    task = read(tasklane, task_id)
    assert (task["status"], task["error"]["type"]) == ("failed", "HeartbeatMissed")
    assert finish(tasklane, "complete", task_id, {"token": token, "result": 1}).status == 409


def test_an_attempt_past_its_deadline_is_retried_by_the_reconciler_then_failed(tasklane, receiver):
    task_id, _ = start(tasklane, receiver, timeout_seconds=7 * 24 * 3600, max_attempts=1)
    tasklane.pass_time(7 * 24 * 3600 - 5)
    tasklane.reconcile()
    assert read(tasklane, task_id)["status"] == "processing"  # just under its deadline
    tasklane.pass_time(10)
    tasklane.reconcile()
    task = read(tasklane, task_id)
    assert (task["status"], task["error"]["type"]) == ("failed", "TaskTimedOut")


def test_an_async_type_over_seven_days_is_refused_and_seven_days_is_accepted(tasklane, receiver):
    over = put_type(tasklane, "slow", definition(mode="async", timeout_seconds=7 * 24 * 3600 + 1))
    assert over.status == 422
    at = put_type(tasklane, "slow", definition(target={"url": receiver.url}, mode="async", timeout_seconds=604800))
    assert at.status in (200, 201), at.body
    answer = submit(tasklane, "slow", {"width": 3})
    assert answer.status == 202, answer.body
    assert answer.body["timeout_seconds"] == 604800


def test_an_async_lambda_target_accepts_with_its_answer(tasklane, functions):
    put_type(tasklane, "job", definition(target={"lambda": ARN}, mode="async"))
    functions.answers = [{"payload": b'{"tasklane": "accepted"}'}]
    answer = submit(tasklane, "job", {"width": 3})
    tasklane.drain(answer.body["priority"])
    task_id = answer.body["task_id"]
    assert read(tasklane, task_id)["status"] == "processing"
    token = functions.calls[0][1]["completion"]["token"]
    assert finish(tasklane, "complete", task_id, {"token": token, "result": [1, 2]}).status == 200
    assert read(tasklane, task_id)["result"] == [1, 2]


def test_a_sync_type_takes_a_202_as_its_answer(tasklane, receiver):
    receiver.answers = [ACCEPTED]
    put_type(tasklane, "render", definition(target={"url": receiver.url}))
    answer = submit(tasklane, "render", {"width": 3})
    tasklane.drain(answer.body["priority"])
    task = read(tasklane, answer.body["task_id"])
    assert (task["status"], task["result"]) == ("completed", {"accepted": True})
    assert "completion" not in receiver.envelope()


@pytest.mark.parametrize("route", ["complete", "fail", "heartbeat", "result-upload"])
def test_the_completion_routes_need_no_caller_identity(tasklane, receiver, route):
    task_id, envelope = start(tasklane, receiver)
    body = {"token": envelope["completion"]["token"], "error": {"type": "X", "message": "m"}, "result": 1}
    event = api_event(f"{route.replace('-', '_')}_task", owner=None, task_id=task_id, body=body)
    event["requestContext"]["identity"] = {}
    assert tasklane.call(event).status == 200


class Bridge:
    """The API on 127.0.0.1 as API Gateway serves the completion routes: a POST becomes the submit
    function's event (no identity: the token alone)."""

    def __init__(self, system) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                _, _, task_id, route = self.path.split("/")[-4:]
                body = self.rfile.read(int(self.headers["Content-Length"]))
                name = f"{route.replace('-', '_')}_task"
                event = api_event(name, owner=None, task_id=task_id, raw_body=body.decode())
                event["requestContext"]["identity"] = {}
                answer = system.call(event)
                data = json.dumps(answer.body).encode()
                self.send_response(answer.status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        import threading

        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def bridge(tasklane, monkeypatch):
    found = Bridge(tasklane)
    monkeypatch.setenv("API_URL", found.url)
    from tasklane.settings.task_types import task_type_settings

    task_type_settings.cache_clear()
    yield found
    found.server.shutdown()
    found.server.server_close()
    task_type_settings.cache_clear()


def test_a_worker_finishes_its_attempt_with_the_client_helpers_and_the_envelope_alone(tasklane, receiver, bridge):
    from tasklane_client import Conflict, NotFound, worker

    task_id, envelope = start(tasklane, receiver, timeout_seconds=3600, heartbeat_seconds=60)
    attempt = envelope["completion"]
    assert attempt["complete_url"] == f"{bridge.url}/tasks/{task_id}/complete"
    assert worker.heartbeat(task_id, attempt, 25)["alive_until"] > 0
    assert read(tasklane, task_id)["progress"]["percent"] == 25
    with pytest.raises(NotFound):
        worker.complete(task_id, {**attempt, "token": "forged"}, 1)
    assert worker.complete(task_id, attempt, {"frames": 240}) == {"task_id": task_id, "status": "completed"}
    assert read(tasklane, task_id)["result"] == {"frames": 240}
    with pytest.raises(Conflict):
        worker.fail(task_id, attempt, "Late", "after the end")


def test_a_worker_fails_its_attempt_by_token_and_the_api_url(tasklane, receiver, bridge, monkeypatch):
    from tasklane_client import worker

    task_id, envelope = start(tasklane, receiver, max_attempts=1)
    monkeypatch.setenv("TASKLANE_API_URL", bridge.url)
    answer = worker.fail(task_id, envelope["completion"]["token"], "RenderCrashed", "oom", retry=True)
    assert answer["status"] == "failed"  # its one attempt is spent: retry does not apply
    assert read(tasklane, task_id)["error"] == {"type": "RenderCrashed", "message": "oom"}


def test_a_duplicate_delivery_of_an_accepted_task_is_acknowledged_and_changes_nothing(tasklane, receiver):
    from tasklane.data.services import services
    from tasklane.model.lanes import Lane
    from tasklane.model.message import TaskMessage

    task_id, envelope = start(tasklane, receiver, max_attempts=1)
    stored = services().store.get(task_id)
    duplicate = TaskMessage(task_id, stored.owner, 1, None, stored.task.timeout_seconds, "render")
    services().queues.send(Lane(stored.task.priority), duplicate)
    messages = tasklane.receive(stored.task.priority)
    assert len(messages) == 1
    # Acknowledged, not deferred for the days its target may hold it.
    assert tasklane.process(stored.task.priority, messages)["batchItemFailures"] == []
    assert len(receiver.requests) == 1  # the target was not called again
    assert read(tasklane, task_id)["status"] == "processing"
    token = envelope["completion"]["token"]
    assert finish(tasklane, "complete", task_id, {"token": token, "result": 1}).status == 200


def test_a_workflows_async_step_completed_by_token_moves_the_workflow_on(tasklane, receiver):
    """complete counts down the step's barrier as a run's end does: the chain's next step runs."""
    from tests.functional import workflow_helpers as flows

    receiver.answers = [ACCEPTED]
    put_type(tasklane, "render", definition(target={"url": receiver.url}, mode="async"))
    body = flows.submit(tasklane, {"chain": [flows.add(1), flows.task("render", payload={"width": 3}), flows.add(2)]})
    flows.run_all(tasklane)
    assert flows.statuses(tasklane, body["workflow_id"]) == ["completed", "processing", "waiting"]
    envelope = receiver.envelope()
    assert envelope["inputs"] == [1]
    answer = finish(tasklane, "complete", envelope["task_id"], {"token": envelope["completion"]["token"], "result": 10})
    assert answer.status == 200, answer.body
    flows.run_all(tasklane)
    done = flows.read(tasklane, body["workflow_id"])
    assert done["status"] == "completed", done
    assert done["result"] == 12  # 2 + [10]


def test_a_workflows_async_step_failed_by_token_fails_the_workflow(tasklane, receiver):
    from tests.functional import workflow_helpers as flows

    receiver.answers = [ACCEPTED]
    put_type(tasklane, "render", definition(target={"url": receiver.url}, mode="async", max_attempts=1))
    body = flows.submit(tasklane, {"chain": [flows.task("render", payload={"width": 3}), flows.add(2)]})
    flows.run_all(tasklane)
    envelope = receiver.envelope()
    failure = {"token": envelope["completion"]["token"], "error": {"type": "Broken", "message": "no"}, "retry": True}
    assert finish(tasklane, "fail", envelope["task_id"], failure).body["status"] == "failed"
    flows.run_all(tasklane)
    done = flows.read(tasklane, body["workflow_id"])
    assert done["status"] == "failed", done


class Frozen:
    """tasklane's clock held at one instant (to the millisecond it stores), then given back."""

    def __init__(self, monkeypatch) -> None:
        from tasklane.model import clock

        self.monkeypatch, self.clock, self.running = monkeypatch, clock, clock.now

    def at(self, epoch_seconds: float) -> None:
        from datetime import UTC, datetime

        self.monkeypatch.setattr(self.clock, "now", lambda: datetime.fromtimestamp(epoch_seconds, UTC))

    def release(self) -> None:
        self.monkeypatch.setattr(self.clock, "now", self.running)


def lease_of(system, task_id: str) -> int:
    return int(system.item(task_id)["lease_until"]["N"])


def iso_of(epoch_seconds: int) -> str:
    from datetime import UTC, datetime

    from tasklane.model import clock

    return clock.iso(datetime.fromtimestamp(epoch_seconds, UTC))


@pytest.mark.parametrize("route", ["complete", "fail", "heartbeat", "result-upload"])
def test_a_call_after_a_missed_heartbeat_is_a_409_from_the_leases_end_not_the_next_sweep(
    tasklane, receiver, monkeypatch, route
):
    """The attempt ends with its lease: a millisecond before it the call is taken; at it and a
    millisecond after it, 409 saying when the heartbeat was missed, and the task is left as it was."""
    frozen = Frozen(monkeypatch)
    ends = []
    for offset in (-0.001, 0.0, 0.001):
        task_id, envelope = start(tasklane, receiver, timeout_seconds=3600, heartbeat_seconds=60, max_attempts=2)
        lease = lease_of(tasklane, task_id)
        frozen.at(lease + offset)
        body = {"token": envelope["completion"]["token"], "result": 7, "error": {"type": "X", "message": "m"}}
        ends.append((task_id, lease, finish(tasklane, route, task_id, body)))
        frozen.release()
    (_, _, before), *late = ends
    assert before.status == 200, before.body
    for task_id, lease, answer in late:
        assert answer.status == 409, answer.body
        assert answer.body["error"]["code"] == "attempt_over"
        assert answer.body["error"]["message"] == (
            f"attempt 1 of task {task_id} is over: its heartbeat was missed at {iso_of(lease)}; "
            "tasklane retries the task with a new token"
        )
        task = read(tasklane, task_id)
        assert (task["status"], task["attempts"], task.get("result")) == ("processing", 1, None)
        assert lease_of(tasklane, task_id) == lease  # a late heartbeat did not move it


def test_the_reconciler_retries_a_task_whose_late_completion_was_refused_exactly_once(tasklane, receiver, monkeypatch):
    frozen = Frozen(monkeypatch)
    task_id, envelope = start(tasklane, receiver, timeout_seconds=3600, heartbeat_seconds=60, max_attempts=2)
    frozen.at(lease_of(tasklane, task_id) + 0.5)
    late = finish(tasklane, "complete", task_id, {"token": envelope["completion"]["token"], "result": 7})
    assert late.status == 409, late.body
    frozen.release()
    tasklane.pass_time(62)
    tasklane.reconcile()
    tasklane.reconcile()  # a second sweep finds nothing more to do
    task = read(tasklane, task_id)
    assert (task["status"], task["error"]["type"], task.get("result")) == ("pending", "HeartbeatMissed", None)
    outcomes = [name for name in tasklane.item(task_id) if re.fullmatch(r"attempt_\d+", name)]
    assert outcomes == ["attempt_1"], outcomes  # the attempt ended once, by the sweep


def test_a_call_at_the_deadline_is_told_the_deadline_passed_and_that_the_task_fails(tasklane, receiver, monkeypatch):
    task_id, envelope = start(tasklane, receiver, timeout_seconds=120, max_attempts=1)
    item = tasklane.item(task_id)
    deadline = int(item["async_until"]["N"])
    assert int(item["lease_until"]["N"]) == deadline
    Frozen(monkeypatch).at(deadline)
    answer = finish(tasklane, "fail", task_id, {"token": envelope["completion"]["token"], "error": {"type": "X"}})
    assert answer.status == 409, answer.body
    assert answer.body["error"]["message"] == (
        f"attempt 1 of task {task_id} is over: its deadline passed at {iso_of(deadline)}; tasklane fails the task"
    )
    assert read(tasklane, task_id)["status"] == "processing"  # the reconciler's to fail, as TaskTimedOut


def test_the_finishing_write_itself_refuses_an_attempt_whose_lease_ended(tasklane, receiver):
    """The lease is part of the conditional write (not only of the read before it): a completion whose
    read raced the lease's end cannot finish the task."""
    from datetime import UTC, datetime

    from tasklane.data.services import services
    from tasklane.data.tasks.codec import StoredValue
    from tasklane.data.tasks.table import TransitionRejected
    from tasklane.model.task import TaskError

    task_id, _ = start(tasklane, receiver, timeout_seconds=3600, heartbeat_seconds=60)
    lease = lease_of(tasklane, task_id)
    store, value, ended = (
        services().store.within_lease(),
        StoredValue(size=1, text="1"),
        datetime.fromtimestamp(lease, UTC),
    )
    with pytest.raises(TransitionRejected):
        store.mark_completed(task_id, 1, value, ended)
    with pytest.raises(TransitionRejected):
        store.mark_retrying(task_id, 1, TaskError(type="X", message="m"), ended, 1)
    with pytest.raises(TransitionRejected):
        store.mark_failed(task_id, TaskError(type="X", message="m"), ended, attempt=1)
    assert read(tasklane, task_id)["status"] == "processing"
    store.mark_completed(task_id, 1, value, datetime.fromtimestamp(lease - 0.001, UTC))
    assert read(tasklane, task_id)["result"] == 1
