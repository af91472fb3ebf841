"""Task types of your own on the local stack: a url target (a receiver on 127.0.0.1, the loopback the
local stack may reach) and a Lambda target (a function this test creates on the emulator)."""

from __future__ import annotations

import contextlib
import http.server
import io
import json
import threading
import uuid
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from tasklane_client.webhooks import verify_signature

SCHEMA = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}


class Target(http.server.BaseHTTPRequestHandler):
    """Answers each envelope with its payload's n doubled; keeps what it got."""

    seen: list[tuple[dict[str, str], bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.seen.append(({k.lower(): v for k, v in self.headers.items()}, body))
        answer = json.dumps({"doubled": json.loads(body)["payload"]["n"] * 2}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def target() -> Iterator[tuple[str, type[Target]]]:
    handler = type("E2ETarget", (Target,), {"seen": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/run", handler
    server.shutdown()
    server.server_close()


def _put(caller: Any, name: str, body: dict[str, Any]) -> Any:
    return caller.request("PUT", f"/task-types/{name}", json=body)


def test_a_url_type_runs_on_a_receiver_and_its_answer_is_the_result(alice, bob, target):
    url, handler = target
    name = f"e2e-url-{uuid.uuid4().hex[:6]}"
    created = _put(alice, name, {"target": {"url": url}, "payload_schema": SCHEMA, "timeout_seconds": 20})
    assert created.status_code == 201, created.text
    listed = alice.request("GET", "/task-types").json()["items"]
    assert listed[0]["kind"] == "builtin"
    assert name in [t["name"] for t in listed]
    assert bob.request("GET", f"/task-types/{name}").status_code == 404
    refused = alice.request("POST", "/tasks", json={"task_type": name, "payload": {"n": "two"}})
    assert refused.status_code == 422
    assert refused.json()["error"]["details"][0]["field"] == "payload.n"
    task = alice.submit(name, {"n": 21})
    done = alice.wait(task["task_id"])
    assert (done["status"], done["result"]) == ("completed", {"doubled": 42}), done
    headers, body = handler.seen[0]
    secret = alice.request("GET", "/webhooks/secret").json()["secret"]
    assert verify_signature(secret, headers["tasklane-signature"], body)
    assert json.loads(body)["task_id"] == task["task_id"]
    assert alice.request("DELETE", f"/task-types/{name}").status_code == 204


HANDLER = """
def handler(event, context):
    if event["payload"].get("fail"):
        raise ValueError("asked to fail on attempt %d" % event["attempt"])
    return {"doubled": event["payload"]["n"] * 2, "attempt": event["attempt"]}
"""


@contextlib.contextmanager
def target_function(stack: Any, prefix: str, source: str, **settings: Any) -> Iterator[str]:
    """A Python function on the emulator whose handler is `source`'s `handler`: its ARN, deleted after."""
    client = stack.session.client("lambda")
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("target.py", source)
    name = f"{prefix}-{uuid.uuid4().hex[:6]}"
    arn = client.create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role="arn:aws:iam::000000000000:role/e2e-target",
        Handler="target.handler",
        Code={"ZipFile": code.getvalue()},
        **settings,
    )["FunctionArn"]
    try:
        yield arn
    finally:
        client.delete_function(FunctionName=name)


@pytest.fixture
def function(stack: Any) -> Iterator[str]:
    with target_function(stack, "e2e-target", HANDLER, Timeout=10) as arn:
        yield arn


def test_a_lambda_type_runs_the_function_and_its_errors_fail_the_attempt(alice, function):
    name = f"e2e-fn-{uuid.uuid4().hex[:6]}"
    created = _put(alice, name, {"target": {"lambda": function}, "max_attempts": 2, "timeout_seconds": 20})
    assert created.status_code == 201, created.text
    done = alice.wait(alice.submit(name, {"n": 4})["task_id"])
    assert (done["status"], done["result"]) == ("completed", {"doubled": 8, "attempt": 1}), done
    failing = alice.submit(name, {"n": 1, "fail": True}, max_attempts=1)
    failed = alice.wait(failing["task_id"])
    assert failed["status"] == "failed"
    assert "asked to fail on attempt 1" in failed["error"]["message"]


def test_a_function_outside_target_function_arns_is_refused(alice):
    other = "arn:aws:lambda:us-east-1:111111111111:function:elsewhere"
    refused = _put(alice, "e2e-other", {"target": {"lambda": other}})
    assert refused.status_code == 422
    assert refused.json()["error"]["details"][0]["field"] == "target.lambda"


class AsyncTarget(http.server.BaseHTTPRequestHandler):
    """Accepts each envelope with a 202, then finishes it from another thread as a worker would: a
    heartbeat, then complete, over HTTP to the envelope's own routes with its token alone."""

    finished: list[dict[str, Any]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        envelope = json.loads(body)
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()
        threading.Thread(target=self.work, args=(envelope,), daemon=True).start()

    def work(self, envelope: dict[str, Any]) -> None:
        from tasklane_client import worker

        attempt = envelope["completion"]
        worker.heartbeat(envelope["task_id"], attempt, 50)
        self.finished.append(worker.complete(envelope["task_id"], attempt, {"tripled": envelope["payload"]["n"] * 3}))

    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def async_type(caller: Any, worker: type[AsyncTarget], **fields: Any) -> Iterator[tuple[str, type[AsyncTarget]]]:
    """An async url type of the caller's whose target (on 127.0.0.1) accepts and hands each envelope
    to `worker`: the type's name, and the worker class that keeps what it finished."""
    handler = type(f"E2E{worker.__name__}", (worker,), {"finished": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/run"
        name = f"e2e-async-{uuid.uuid4().hex[:6]}"
        body = {"target": {"url": url}, "mode": "async", "payload_schema": SCHEMA, "timeout_seconds": 3600}
        created = _put(caller, name, {**body, **fields})
        assert created.status_code == 201, created.text
        yield name, handler
    finally:
        server.shutdown()
        server.server_close()


def test_an_async_url_type_is_finished_through_the_api_with_its_token(alice):
    with async_type(alice, AsyncTarget, heartbeat_seconds=600) as (name, handler):
        task = alice.submit(name, {"n": 7})
        done = alice.wait(task["task_id"])
        assert (done["status"], done["result"]) == ("completed", {"tripled": 21}), done
        assert handler.finished == [{"task_id": task["task_id"], "status": "completed"}]
        # The finished task's token is spent.
        again = alice.request("POST", f"/tasks/{task['task_id']}/complete", json={"token": "x" * 43, "result": 1})
        assert again.status_code == 404


class AsyncUploadTarget(AsyncTarget):
    """Accepts with a 202, then, as a worker finishing long after the start would, asks for a fresh
    result upload URL, PUTs a result larger than a completion's body may be, and completes by reference."""

    def work(self, envelope: dict[str, Any]) -> None:
        from tasklane_client import worker

        attempt = envelope["completion"]
        worker.upload_result(envelope["task_id"], attempt, {"frames": ["y" * 1000] * envelope["payload"]["n"]})
        self.finished.append(worker.complete(envelope["task_id"], attempt, worker.RESULT_UPLOADED))


def test_an_async_worker_puts_its_result_to_a_fresh_upload_url_and_completes_by_reference(alice):
    with async_type(alice, AsyncUploadTarget) as (name, handler):
        frames = 9 * 1024  # ~9.2 MB of JSON, by PUT (MaxResultBytes: 10 MiB here), not in the completion
        done = alice.wait(alice.submit(name, {"n": frames})["task_id"], timeout=180)
        assert done["status"] == "completed", done
        assert handler.finished == [{"task_id": done["task_id"], "status": "completed"}]
    result = alice.request("GET", f"/tasks/{done['task_id']}/result", allow_redirects=False)
    assert result.status_code == 303, result.text
    import urllib.request

    with urllib.request.urlopen(result.headers["Location"], timeout=60) as answer:  # the emulator's S3
        assert json.loads(answer.read()) == {"frames": ["y" * 1000] * frames}


UPLOADER = """
import json, urllib.request

def handler(event, context):
    place = event["result_upload"]
    body = json.dumps({"frames": ["x" * 1000] * event["payload"]["n"]}).encode()
    request = urllib.request.Request(place["url"], data=body, method=place["method"])
    with urllib.request.urlopen(request, timeout=60) as answer:
        answer.read()
    return {"tasklane": "result_uploaded"}
"""


@pytest.fixture
def uploader(stack: Any) -> Iterator[str]:
    with target_function(stack, "e2e-uploader", UPLOADER, Timeout=60, MemorySize=512) as arn:
        yield arn


def test_a_lambda_target_puts_a_result_over_six_mb_to_its_upload_url(alice, uploader):
    """A Lambda cannot return more than 6 MB: it PUTs the result to the envelope's result_upload URL
    and answers result_uploaded; the task's result is that object (MaxResultBytes: 10 MiB here)."""
    name = f"e2e-big-{uuid.uuid4().hex[:6]}"
    created = _put(alice, name, {"target": {"lambda": uploader}, "max_attempts": 1, "timeout_seconds": 30})
    assert created.status_code == 201, created.text
    frames = 7 * 1024  # ~7.2 MB of JSON
    done = alice.wait(alice.submit(name, {"n": frames})["task_id"], timeout=180)
    assert done["status"] == "completed", done
    assert done["result_size"] > 6 * 1024 * 1024
    result = alice.request("GET", f"/tasks/{done['task_id']}/result", allow_redirects=False)
    assert result.status_code == 303, result.text
    import urllib.request

    with urllib.request.urlopen(result.headers["Location"], timeout=60) as answer:
        assert json.loads(answer.read()) == {"frames": ["x" * 1000] * frames}
