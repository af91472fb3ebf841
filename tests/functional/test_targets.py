"""Tasks of registered types run by their targets: a url target (a real receiver on 127.0.0.1, the
loopback the local stack may reach) and a Lambda target (a stub for the Lambda API). Each answer maps
to the outcome a user sees, with the lane's retries, backoff and failures unchanged."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.events import ALICE, api_event
from tests.functional.task_types_helpers import definition, delete_type, put_type, submit


class Receiver:
    """An HTTP receiver on 127.0.0.1: answers from `answers` in turn (status, headers, body, delay)."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, dict[str, str], bytes, float]] = [(200, {}, b'{"ok": true}', 0)]
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status, headers, answer, delay = receiver.answers[
                    min(len(receiver.requests), len(receiver.answers)) - 1
                ]
                time.sleep(delay)
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:
                    pass  # the caller gave up first

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/run"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def envelope(self, index: int = -1) -> dict:
        return json.loads(self.requests[index][1])


@pytest.fixture
def loopback(tasklane, monkeypatch):
    monkeypatch.setenv("CALLBACK_ALLOW_LOOPBACK", "true")
    from tasklane.settings.webhooks import webhook_settings

    webhook_settings.cache_clear()


@pytest.fixture
def receiver(loopback):
    found = Receiver()
    yield found
    found.server.shutdown()
    found.server.server_close()


def run_once(system, task_type="job", payload=None, **fields):
    answer = submit(system, task_type, payload if payload is not None else {"width": 3}, **fields)
    assert answer.status == 202, answer.body
    system.drain(answer.body["priority"])
    return read(system, answer.body["task_id"])


def read(system, task_id):
    return system.call(api_event("get_task", task_id=task_id)).body


def test_a_2xx_json_answer_is_the_result_and_the_request_is_signed_like_a_webhook(tasklane, receiver):
    from tasklane_client.webhooks import verify_signature

    receiver.answers = [(200, {"Content-Type": "application/json"}, b'{"output_key": "cat-3.jpg"}', 0)]
    put_type(tasklane, "job", definition(target={"url": receiver.url}))
    task = run_once(tasklane, correlation_id=None) if False else run_once(tasklane)
    assert task["status"] == "completed", task
    assert task["result"] == {"output_key": "cat-3.jpg"}
    headers, body = receiver.requests[0]
    secret = tasklane.call(api_event("webhook_secret")).body["secret"]
    assert verify_signature(secret, headers["tasklane-signature"], body)
    envelope = receiver.envelope()
    assert envelope["task_id"] == task["task_id"]
    assert envelope["task_type"] == "job"
    assert (envelope["attempt"], envelope["max_attempts"]) == (1, 3)
    assert envelope["payload"] == {"width": 3}
    assert envelope["inputs"] is None
    assert envelope["deadline"] > task["started_at"]
    assert "completion" not in envelope
    assert headers["tasklane-task-id"] == task["task_id"]
    assert headers["tasklane-attempt"] == "1"


def test_the_envelope_round_trips():
    from tasklane.model.envelope import Completion, Envelope

    for envelope in (
        Envelope(
            task_id="t",
            task_type="x",
            attempt=2,
            max_attempts=3,
            deadline="2026-12-06T10:00:00.000Z",
            payload={"a": [1]},
            correlation_id="c",
        ),
        Envelope(
            task_id="t",
            task_type="x",
            attempt=1,
            max_attempts=1,
            deadline="2026-12-06T10:00:00.000Z",
            payload_url="https://bucket/key",
            inputs=[1, {"b": 2}],
            completion=Completion(
                "tok", "https://a/complete", "https://a/fail", "https://a/heartbeat", "https://a/result-upload"
            ),
        ),
    ):
        assert Envelope.from_json(envelope.to_json()) == envelope


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 410, 422])
def test_a_4xx_fails_the_task_at_once_with_the_status_and_the_start_of_the_body(tasklane, receiver, status):
    receiver.answers = [(status, {}, b"width is not allowed here" + b"." * 500, 0)]
    put_type(tasklane, "job", definition(target={"url": receiver.url}))
    task = run_once(tasklane)
    assert (task["status"], task["attempts"], task["error"]["type"]) == ("failed", 1, "TargetRejected")
    assert f"answered {status}: width is not allowed here" in task["error"]["message"]
    assert len(task["error"]["message"]) < 300
    assert len(receiver.requests) == 1


def test_a_redirect_is_not_followed_and_fails_the_task(tasklane, receiver):
    receiver.answers = [(302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b"", 0)]
    put_type(tasklane, "job", definition(target={"url": receiver.url}))
    task = run_once(tasklane)
    assert (task["status"], task["error"]["type"]) == ("failed", "TargetRejected")
    assert "302" in task["error"]["message"]
    assert len(receiver.requests) == 1


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503])
def test_408_429_and_5xx_fail_the_attempt_and_retry_until_the_attempts_are_spent(tasklane, receiver, status):
    from tests.functional.test_lifecycle import redeliver_now

    receiver.answers = [(status, {}, b"busy", 0), (status, {}, b"busy", 0), (200, {}, b"[1, 2]", 0)]
    put_type(tasklane, "job", definition(target={"url": receiver.url}, max_attempts=3))
    task_id = submit(tasklane, "job", {"width": 3}).body["task_id"]
    messages = tasklane.receive("normal")
    tasklane.process("normal", messages)
    task = read(tasklane, task_id)
    assert (task["status"], task["attempts"]) == ("pending", 1)
    assert task["error"] == {"type": f"TargetStatus{status}", "message": f"the target answered {status}: busy"}
    for attempt in (2, 3):
        redeliver_now(tasklane, "normal", messages)
        tasklane.process("normal", messages := tasklane.receive("normal"))
        assert read(tasklane, task_id)["attempts"] == attempt
    task = read(tasklane, task_id)
    assert (task["status"], task["result"]) == ("completed", [1, 2])
    assert [json.loads(body)["attempt"] for _, body in receiver.requests] == [1, 2, 3]


def test_a_target_failing_every_attempt_fails_the_task_with_its_last_error(tasklane, receiver):
    from tests.functional.test_lifecycle import redeliver_now

    receiver.answers = [(503, {}, b"down", 0)]
    put_type(tasklane, "job", definition(target={"url": receiver.url}, max_attempts=2))
    task_id = submit(tasklane, "job", {"width": 3}).body["task_id"]
    tasklane.process("normal", messages := tasklane.receive("normal"))
    redeliver_now(tasklane, "normal", messages)
    tasklane.process("normal", tasklane.receive("normal"))
    task = read(tasklane, task_id)
    assert (task["status"], task["attempts"], task["error"]["type"]) == ("failed", 2, "TargetStatus503")


def test_retry_after_is_honoured_up_to_the_backoff_ceiling(tasklane, receiver, visibility_calls):
    from tasklane.logic.running import BACKOFF_CAP_SECONDS
    from tests.functional.test_lifecycle import redeliver_now

    receiver.answers = [(429, {"Retry-After": "7"}, b"slow down", 0), (503, {"Retry-After": "100000"}, b"", 0)]
    put_type(tasklane, "job", definition(target={"url": receiver.url}, max_attempts=3))
    task_id = submit(tasklane, "job", {"width": 3}).body["task_id"]
    tasklane.process("normal", messages := tasklane.receive("normal"))
    assert visibility_calls == [7]
    redeliver_now(tasklane, "normal", messages)
    tasklane.process("normal", tasklane.receive("normal"))
    assert visibility_calls == [7, BACKOFF_CAP_SECONDS]
    assert read(tasklane, task_id)["error"]["type"] == "TargetStatus503"


def test_retry_after_is_read_as_seconds_or_an_http_date():
    from tasklane.logic.target_outcomes import retry_after

    assert retry_after("7") == 7
    assert retry_after(" 0 ") == 0
    assert retry_after(None) is None
    assert retry_after("soon") is None
    assert retry_after("-3") is None
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0  # a past date: now


def test_a_target_that_never_answers_is_stopped_by_the_tasks_timeout(tasklane, receiver):
    receiver.answers = [(200, {}, b"{}", 30)]
    put_type(tasklane, "job", definition(target={"url": receiver.url}, timeout_seconds=1))
    started = time.monotonic()
    task = run_once(tasklane)
    assert time.monotonic() - started < 15  # the receiver would answer after 30 s: the call was cut off
    # The call's own deadline ends it (or, on a loaded machine, the task's time limit just after it).
    assert (task["status"], task["error"]["type"]) in {("pending", "TargetTimedOut"), ("pending", "TaskTimedOut")}


def test_a_refused_connection_is_a_failed_attempt(tasklane, loopback):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    put_type(tasklane, "job", definition(target={"url": f"http://127.0.0.1:{port}/run"}))
    task = run_once(tasklane)
    assert (task["status"], task["error"]["type"]) == ("pending", "TargetUnreachable")
    assert "refused" in task["error"]["message"].lower()


def test_an_answer_over_the_result_limit_fails_with_result_too_large(tasklane, receiver, monkeypatch):
    monkeypatch.setenv("MAX_RESULT_BYTES", "1000")
    from tasklane.data.services import services
    from tasklane.settings import settings

    settings.cache_clear()
    services.cache_clear()
    at_limit = b'"' + b"x" * 998 + b'"'
    receiver.answers = [(200, {}, at_limit, 0), (200, {}, b'"' + b"x" * 999 + b'"', 0)]
    put_type(tasklane, "job", definition(target={"url": receiver.url}))
    assert run_once(tasklane)["status"] == "completed"
    task = run_once(tasklane)
    assert (task["status"], task["error"]["type"]) == ("failed", "ResultTooLarge")


def test_an_answer_that_is_not_json_is_a_typed_failed_attempt(tasklane, receiver):
    receiver.answers = [(200, {"Content-Type": "text/html"}, b"<html>proxy error</html>", 0)]
    put_type(tasklane, "job", definition(target={"url": receiver.url}))
    task = run_once(tasklane)
    assert (task["status"], task["error"]["type"]) == ("pending", "TargetAnswerNotJSON")
    assert "<html>proxy error" in task["error"]["message"]


def test_a_task_whose_type_was_deleted_fails_with_task_type_removed(tasklane, receiver):
    from tasklane.logic import offered_types

    put_type(tasklane, "job", definition(target={"url": receiver.url}))
    task_id = submit(tasklane, "job", {"width": 1}).body["task_id"]
    assert delete_type(tasklane, "job").status == 204
    offered_types.forget_cached()  # as CACHE_SECONDS later
    tasklane.drain("normal")
    task = read(tasklane, task_id)
    assert (task["status"], task["error"]["type"]) == ("failed", "TaskTypeRemoved")
    assert receiver.requests == []


def test_a_target_whose_name_now_resolves_to_a_private_address_is_not_called(tasklane, resolver):
    resolver.names["targets.example.com"] = ["93.184.216.34"]
    put_type(tasklane, "job", definition())
    resolver.names["targets.example.com"] = ["10.0.0.5"]  # rebinding after registration
    task = run_once(tasklane)
    assert (task["status"], task["error"]["type"]) == ("pending", "TargetRefused")
    assert "private" in task["error"]["message"]


class Functions:
    """The Lambda API as a target function answers: a return value, or an error."""

    def __init__(self) -> None:
        self.answers: list[dict] = []
        self.calls: list[tuple[str, dict]] = []

    def invoke(self, FunctionName, InvocationType, Payload):
        import io

        assert InvocationType == "RequestResponse"
        self.calls.append((FunctionName, json.loads(Payload)))
        answer = self.answers[min(len(self.calls), len(self.answers)) - 1]
        return {"StatusCode": 200, "Payload": io.BytesIO(answer["payload"]), **answer.get("extra", {})}


ARN = "arn:aws:lambda:us-east-1:123456789012:function:orders-resize"


@pytest.fixture
def functions(tasklane, monkeypatch):
    monkeypatch.setenv("TARGET_FUNCTION_ARNS", "arn:aws:lambda:us-east-1:123456789012:function:orders-*")
    from tasklane.data import aws
    from tasklane.settings.task_types import task_type_settings

    task_type_settings.cache_clear()
    fake = Functions()
    client = lambda: fake  # noqa: E731
    client.cache_clear = lambda: None  # type: ignore[attr-defined]
    monkeypatch.setattr(aws, "lambda_client", client)
    put_type(tasklane, "job", definition(target={"lambda": ARN}))
    return fake


def test_a_lambda_targets_return_value_is_the_result(tasklane, functions):
    functions.answers = [{"payload": b'{"resized": true}'}]
    task = run_once(tasklane)
    assert (task["status"], task["result"]) == ("completed", {"resized": True})
    arn, event = functions.calls[0]
    assert arn == ARN
    assert event["task_id"] == task["task_id"]
    assert event["payload"] == {"width": 3}


def test_a_function_error_fails_the_attempt_with_its_error_type(tasklane, functions):
    error = {"errorType": "ImageTooSmall", "errorMessage": "width 3 is below 10", "stackTrace": []}
    functions.answers = [{"payload": json.dumps(error).encode(), "extra": {"FunctionError": "Unhandled"}}]
    task = run_once(tasklane, max_attempts=1)
    assert task["status"] == "failed"
    assert task["error"] == {"type": "ImageTooSmall", "message": "width 3 is below 10"}


def test_a_function_error_without_a_body_still_names_what_happened(tasklane, functions):
    functions.answers = [{"payload": b"", "extra": {"FunctionError": "Unhandled"}}]
    task = run_once(tasklane)
    assert (task["status"], task["error"]["type"]) == ("pending", "Unhandled")


def test_a_functions_answer_over_the_result_limit_fails_the_task(tasklane, functions, monkeypatch):
    monkeypatch.setenv("MAX_RESULT_BYTES", "100")
    from tasklane.data.services import services
    from tasklane.settings import settings

    settings.cache_clear()
    services.cache_clear()
    functions.answers = [{"payload": b'"' + b"y" * 200 + b'"'}]
    task = run_once(tasklane)
    assert (task["status"], task["error"]["type"]) == ("failed", "ResultTooLarge")


def test_an_invocation_lambda_refuses_is_a_failed_attempt(tasklane, functions, monkeypatch):
    from botocore.exceptions import ClientError

    def refuse(**kwargs):
        raise ClientError({"Error": {"Code": "TooManyRequestsException", "Message": "Rate exceeded"}}, "Invoke")

    monkeypatch.setattr(functions, "invoke", refuse)
    task = run_once(tasklane)
    assert (task["status"], task["error"]["type"]) == ("pending", "TargetInvocationFailed")
    assert "TooManyRequests" in task["error"]["message"]


def test_owners_run_their_own_types_only(tasklane, receiver):
    from tests.events import BOB

    put_type(tasklane, "job", definition(target={"url": receiver.url}))
    assert submit(tasklane, "job", {"width": 1}, owner=BOB).status == 422
    assert ALICE != BOB


def test_a_registered_types_rate_holds_its_owners_tasks_only(tasklane, receiver):
    from tests.events import BOB

    put_type(tasklane, "job", definition(target={"url": receiver.url}, rate_limit="1/m"))
    put_type(tasklane, "job", definition(target={"url": receiver.url}, rate_limit="1/m"), owner=BOB)
    first, second = (submit(tasklane, "job", {"width": n}).body["task_id"] for n in (1, 2))
    bobs = submit(tasklane, "job", {"width": 3}, owner=BOB).body["task_id"]
    tasklane.process("normal", tasklane.receive("normal"))
    statuses = {task_id: read(tasklane, task_id) for task_id in (first, second)}
    assert sorted(t["status"] for t in statuses.values()) == ["completed", "pending"]
    held = next(t for t in statuses.values() if t["status"] == "pending")
    assert (held["attempts"], held["waiting_for"]) == (0, "rate_limit")
    bob_task = tasklane.call(api_event("get_task", task_id=bobs, owner=BOB)).body
    assert bob_task["status"] == "completed"  # alice's rate is not bob's
    assert len(receiver.requests) == 2


def test_a_workflow_step_of_a_registered_type_gets_what_it_waited_for_in_its_envelope(tasklane, receiver):
    """A chain's url step gets the previous step's result as `inputs`; a lone task of the type, none."""
    from tests.functional import workflow_helpers as flows

    receiver.answers = [(200, {"Content-Type": "application/json"}, b'{"sum": 6}', 0)]
    put_type(tasklane, "job", definition(target={"url": receiver.url}))
    body = flows.submit(tasklane, {"chain": [flows.add(1), flows.add(2), flows.task("job", payload={"width": 3})]})
    flows.run_all(tasklane)
    done = flows.read(tasklane, body["workflow_id"])
    assert done["status"] == "completed", done
    assert done["result"] == {"sum": 6}
    envelope = receiver.envelope()
    assert envelope["inputs"] == [3]  # 1, then 2 + [1]
    assert envelope["payload"] == {"width": 3}

    assert run_once(tasklane)["status"] == "completed"
    assert receiver.envelope()["inputs"] is None
