"""The Python client and the `tasklane` command against the handlers on moto, through an in-process
transport that turns each HTTP request into the API Gateway event the stack would deliver."""

from __future__ import annotations

import http.server
import io
import json
import os
import re
import subprocess
import sys
import threading
import typing
import urllib.parse
from pathlib import Path

import pytest
from tasklane_client import (
    Client,
    Conflict,
    EndpointError,
    InvalidRequest,
    LargeValueUnavailable,
    NotFound,
    ServerError,
    TaskFailed,
    TasklaneError,
    Throttled,
)
from tasklane_client.auth import ApiKeyAuth, IamAuth
from tasklane_client.cli import build_parser, run
from tasklane_client.client import Answer, Stream
from tasklane_client.discovery import Target

from tests.events import ALICE, BOB, api_event

ENDPOINT = "https://abc123.execute-api.us-east-1.amazonaws.com/v1"
ROUTES = [
    (r"^/tasks/batch$", "submit_batch"),
    (r"^/tasks/(?P<task_id>[^/]+)/result$", "get_result"),
    (r"^/tasks/(?P<task_id>[^/]+)/retry$", "retry_task"),
    (r"^/tasks/(?P<task_id>[^/]+)$", None),
    (r"^/tasks$", None),
    (r"^/health$", "health"),
    (r"^/stats$", "stats"),
    (r"^/webhooks/secret$", "webhook_secret"),
    (r"^/webhooks/secret/rotate$", "rotate_webhook_secret"),
]


class InProcess:
    """A transport: API Gateway (already authenticated as `owner`) in front of the handlers; every
    GET but GET /stats (which shows what is queued) first lets the lanes' processors drain it, as the
    event source mappings would."""

    def __init__(self, tasklane, owner=ALICE, throttle_first: int = 0):
        self.tasklane, self.owner, self.throttle_first = tasklane, owner, throttle_first
        self.requests: list[tuple[str, str, dict]] = []

    def __call__(self, method, url, headers, body, timeout):
        self.requests.append((method, url, headers))
        if self.throttle_first:
            self.throttle_first -= 1
            return Answer(429, {}, b'{"message": "Too Many Requests"}')
        parsed = urllib.parse.urlsplit(url)
        path = parsed.path.removeprefix("/v1")
        if method == "GET" and path != "/stats":
            for lane in ("high", "normal", "low"):
                self.tasklane.drain(lane)
        if path.startswith("/schedules"):
            return self._schedules(method, path, body)
        if path.startswith("/workflows"):
            return self._workflows(method, path, body, dict(urllib.parse.parse_qsl(parsed.query)))
        if path.startswith("/task-types"):
            return self._task_types(method, path, body)
        name, task_id = None, None
        for pattern, route in ROUTES:
            match = re.match(pattern, path)
            if match:
                task_id = match.groupdict().get("task_id")
                name = (
                    route
                    or {
                        ("GET", True): "get_task",
                        ("DELETE", True): "cancel_task",
                        ("GET", False): "list_tasks",
                        ("POST", False): "submit_task",
                    }[(method, task_id is not None)]
                )
                break
        query = dict(urllib.parse.parse_qsl(parsed.query))
        event = api_event(
            name,
            owner=self.owner,
            raw_body=body.decode() if body else "",
            task_id=urllib.parse.unquote(task_id) if task_id else None,
            query=query,
            headers={"Idempotency-Key": None, "Content-Type": None, **{k.title(): v for k, v in headers.items()}},
        )
        if not body:
            event["body"] = None
        answer = self.tasklane.call(event)
        return Answer(
            answer.status, answer.headers, json.dumps(answer.body).encode() if answer.body is not None else b""
        )

    def _workflows(self, method, path, body, query):
        workflow_id = urllib.parse.unquote(path.removeprefix("/workflows").lstrip("/")) or None
        name = {"POST": "submit_workflow", "DELETE": "cancel_workflow"}.get(method) or (
            "get_workflow" if workflow_id else "list_workflows"
        )
        event = api_event(name, owner=self.owner, query=query, headers={"Idempotency-Key": None})
        event["body"] = body.decode() if body else None
        if workflow_id:
            event["pathParameters"] = {"workflow_id": workflow_id}
            event["path"] = f"/workflows/{workflow_id}"
        answer = self.tasklane.call(event)
        return Answer(
            answer.status, answer.headers, json.dumps(answer.body).encode() if answer.body is not None else b""
        )

    def _task_types(self, method, path, body):
        from tests.functional import task_types_helpers as calls

        name = urllib.parse.unquote(path.removeprefix("/task-types").lstrip("/")) or None
        if name is None:
            answer = calls.list_types(self.tasklane, owner=self.owner)
        elif method == "PUT":
            answer = calls.put_type(self.tasklane, name, json.loads(body), owner=self.owner)
        else:
            verb = calls.get_type if method == "GET" else calls.delete_type
            answer = verb(self.tasklane, name, owner=self.owner)
        return Answer(
            answer.status, answer.headers, json.dumps(answer.body).encode() if answer.body is not None else b""
        )

    def _schedules(self, method, path, body):
        from tests.functional.test_schedules import schedule_event

        name = urllib.parse.unquote(path.removeprefix("/schedules").lstrip("/")) or None
        answer = self.tasklane.call(
            schedule_event(method, name=name, body=json.loads(body) if body else None, owner=self.owner)
        )
        return Answer(
            answer.status, answer.headers, json.dumps(answer.body).encode() if answer.body is not None else b""
        )


@pytest.fixture
def client(tasklane):
    return Client(ENDPOINT, None, transport=InProcess(tasklane))


def test_submit_wait_and_result(client):
    task = client.submit("compute", {"n": 1_000_000}, priority="high")
    assert task["status"] == "pending"
    updates = []
    done = client.wait(task["task_id"], timeout=10, on_update=updates.append)
    assert done["status"] == "completed"
    assert updates[-1]["status"] == "completed"
    assert client.result(task["task_id"]) == 499999500000


def test_wait_long_polls_instead_of_polling(tasklane):
    """A wait is a read and then long polls of up to 20 s, each answered when the task finishes; with
    a progress callback each poll carries the entity tag of the task last seen."""
    transport = InProcess(tasklane)
    client = Client(ENDPOINT, None, transport=transport)
    task = client.submit("echo", {"x": 1})
    transport.requests.clear()
    assert client.wait(task["task_id"], timeout=60)["status"] == "completed"
    assert [urllib.parse.urlsplit(url).query for _, url, _ in transport.requests] == ["wait=20"]
    task = client.submit("echo", {"x": 2}, delay_seconds=900)  # not due: it stays pending
    transport.requests.clear()
    seen = []

    def update(task):
        seen.append(task["status"])
        if len(seen) == 2:
            raise KeyboardInterrupt  # enough: the caller stops waiting

    with pytest.raises(KeyboardInterrupt):
        client.wait(task["task_id"], timeout=5.5, on_update=update)
    polls = [(urllib.parse.urlsplit(url).query, headers) for _, url, headers in transport.requests]
    assert [q for q, _ in polls] == ["", "wait=6"]  # never past the caller's own timeout
    assert polls[1][1]["if-none-match"].startswith('W/"')
    assert seen == ["pending", "pending"]


def test_wait_on_a_failing_task_raises_task_failed_with_its_error(client):
    task = client.submit("fail", {"message": "nope"}, max_attempts=1)
    with pytest.raises(TaskFailed) as failed:
        client.wait(task["task_id"], timeout=10)
    assert failed.value.details == {"type": "IntentionalFailure", "message": "nope"}


def test_errors_are_typed_and_carry_the_api_code(client, tasklane):
    with pytest.raises(InvalidRequest) as invalid:
        client.submit("compute", {"n": "lots"})
    assert invalid.value.status == 422
    assert invalid.value.code == "validation_error"
    assert invalid.value.details[0]["field"] == "payload.n"
    with pytest.raises(NotFound):
        client.get("0b9a8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d")
    task = client.submit("echo")
    client.cancel(task["task_id"])
    with pytest.raises(Conflict) as conflict:
        client.cancel(task["task_id"])
    assert conflict.value.details["status"] == "cancelled"
    other = Client(ENDPOINT, None, transport=InProcess(tasklane, owner=BOB))
    with pytest.raises(NotFound):
        other.get(task["task_id"])


def test_submit_batch_and_list_pages(client):
    results = client.submit_batch(
        [{"task_type": "echo", "payload": {"i": i}} for i in range(7)] + [{"task_type": "nope"}]
    )
    assert [("task" in r) for r in results] == [True] * 7 + [False]
    listed = list(client.list(page_size=3))
    assert [t["task_id"] for t in listed] == [r["task"]["task_id"] for r in results[:7]][::-1]


def test_throttles_are_retried_with_backoff(tasklane, monkeypatch):
    monkeypatch.setattr("time.sleep", lambda s: None)
    transport = InProcess(tasklane, throttle_first=2)
    assert Client(ENDPOINT, None, transport=transport).submit("echo")["status"] == "pending"
    assert len(transport.requests) == 3
    always = InProcess(tasklane, throttle_first=100)
    with pytest.raises(Throttled):
        Client(ENDPOINT, None, transport=always, max_retries=2).get("0b9a8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d")


def test_iam_auth_signs_with_sigv4_for_the_endpoints_region(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    headers = IamAuth().headers("GET", "https://abc.execute-api.eu-west-1.amazonaws.com/v1/tasks", None, {})
    assert re.match(
        r"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/\d{8}/eu-west-1/execute-api/aws4_request", headers["Authorization"]
    )
    assert "X-Amz-Date" in headers


def cli(tasklane, *argv, owner=ALICE):
    out, err = io.StringIO(), io.StringIO()
    target = Target(
        ENDPOINT,
        None,
        "test",
        outputs={
            **{f"{lane.capitalize()}QueueUrl": tasklane.queue_url(lane) for lane in ("high", "normal", "low")},
            **{
                f"{lane.capitalize()}DeadLetterQueueUrl": tasklane.queue_url(lane, dead=True)
                for lane in ("high", "normal", "low")
            },
        },
    )
    target.transport = InProcess(tasklane, owner=owner)  # type: ignore[attr-defined]
    code = run(build_parser().parse_args(list(argv)), out, err, target_for=lambda **_: target)
    return code, out.getvalue(), err.getvalue()


def test_cli_submit_then_wait_shows_progress_and_exits_0(tasklane):
    code, out, _ = cli(
        tasklane, "submit", "generate_report", "--payload", '{"report": "q3", "rows": 100}', "--priority", "high"
    )
    task_id = out.strip()
    assert code == 0
    code, out, _ = cli(tasklane, "wait", task_id)
    assert code == 0
    assert "100.0%" in out
    assert "completed" in out


def test_cli_wait_on_a_failed_task_exits_3_and_json_is_parseable(tasklane):
    code, out, _ = cli(tasklane, "--json", "submit", "fail", "--max-attempts", "1")
    task_id = json.loads(out)["task_id"]
    code, out, _ = cli(tasklane, "--json", "wait", task_id)
    assert code == 3
    assert json.loads(out)["status"] == "failed"


def test_cli_batch_list_and_stats(tasklane, tmp_path):
    lines = tmp_path / "tasks.jsonl"
    lines.write_text(
        "\n".join(json.dumps({"task_type": "echo", "payload": {"i": i}, "priority": "low"}) for i in range(3))
    )
    code, out, _ = cli(tasklane, "batch", str(lines))
    assert code == 0
    assert out.count("\n") == 4  # header + 3 rows
    code, out, _ = cli(tasklane, "--json", "stats")
    low = next(r for r in json.loads(out) if r["lane"] == "low")
    assert (low["queued"], low["in_dlq_now"], low["dead_lettered_1h"]) == (3, 0, 0)
    code, out, _ = cli(tasklane, "list", "--limit", "2")
    assert out.count("\n") == 3
    assert "echo" in out


def test_cli_dlq_list_and_retry_in_bulk(tasklane):
    ids = [json.loads(cli(tasklane, "--json", "submit", "echo")[1])["task_id"] for _ in range(2)]
    from tests.functional.test_lifecycle import _crashed

    for message in tasklane.receive("normal"):
        _crashed(json.loads(message["Body"])["task_id"])
        tasklane.sqs.send_message(QueueUrl=tasklane.queue_url("normal", dead=True), MessageBody=message["Body"])
    tasklane.dead_letters("normal")
    _, out, _ = cli(tasklane, "--json", "dlq", "list")
    assert sorted(t["task_id"] for t in json.loads(out)) == sorted(ids)
    _, out, _ = cli(tasklane, "dlq", "retry", "--yes")
    assert "retried 2 task(s)" in out
    _, out, _ = cli(tasklane, "--json", "dlq", "list")
    assert json.loads(out) == []


def test_cli_unknown_task_says_what_to_check(tasklane, capsys):
    from tasklane_client.cli import main

    target = Target(ENDPOINT, None, "test")
    target.transport = InProcess(tasklane)  # type: ignore[attr-defined]
    assert main(["get", "0b9a8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d"], target_for=lambda **_: target) == 1
    assert "check the task id and the credentials" in capsys.readouterr().err


def test_cli_without_any_endpoint_says_how_to_give_one(monkeypatch, capsys):
    from tasklane_client import discovery
    from tasklane_client.cli import main

    monkeypatch.setattr(discovery, "_local_running", lambda: False)
    for name in ("TASKLANE_ENDPOINT", "TASKLANE_STACK_NAME"):
        monkeypatch.delenv(name, raising=False)
    assert main(["list"]) == 1
    assert "--endpoint" in capsys.readouterr().err


# --- large values: the API's 303s and presigned URLs, without a server --------------------------------

BUCKET = "http://127.0.0.1:4566/tasklane-values"
EXPIRED_XML = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
    b"<Message>Request has expired</Message><X-Amz-Expires>900</X-Amz-Expires></Error>"
)
TASK_ID = "0b9a8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d"
INLINE_LIMIT, ANSWER_LIMIT = 64 * 1024, 5 * 1024 * 1024


def _presigned(key: str) -> str:
    return (
        f"{BUCKET}/{key}?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=test%2F20261123%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261123T145541Z"
        "&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=5d6c1b0e9f"
    )


def _encoded(value) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


class FakeApi:
    """A transport speaking the large-values contract: values over 64 KiB live in a bucket behind
    presigned URLs, and the result route answers 303 to them beyond what a Lambda answer holds."""

    def __init__(self):
        self.tasks: dict[str, dict] = {}
        self.objects: dict[str, bytes] = {}
        self.expired: set[str] = set()
        self.storage_failures = 0  # the next N reads of the bucket answer 503 SlowDown
        self.requests: list[tuple[str, str, dict]] = []
        self.submitted: list[dict] = []

    def add(self, payload, result=None, *, task_id=TASK_ID, status="completed"):
        task = {
            "task_id": task_id,
            "task_type": "echo",
            "priority": "normal",
            "status": status,
            "attempts": 1,
            "max_attempts": 3,
            "progress": None,
            "error": None,
            "created_at": "2026-11-23T14:55:41.986000Z",
        }
        for key, value in (("payload", payload), ("result", result)):
            data = _encoded(value)
            large = len(data) > INLINE_LIMIT
            if large:
                self.objects[f"{task_id}/{key}.json"] = data
            task[key] = None if large else value
            task[f"{key}_size"] = None if value is None else len(data)
            task[f"{key}_url"] = _presigned(f"{task_id}/{key}.json") if large else None
        self.tasks[task_id] = task
        return task

    def __call__(self, method, url, headers, body, timeout):
        self.requests.append((method, url, dict(headers)))
        if url.startswith(BUCKET):
            return self._storage(url)
        path = urllib.parse.urlsplit(url).path.removeprefix("/v1")
        if method == "POST" and path == "/tasks":
            self.submitted.append(json.loads(body))
            return _answer(202, self.add(json.loads(body)["payload"], status="pending", task_id=str(len(self.tasks))))
        match = re.match(r"^/tasks/([^/]+)(/result)?$", path)
        task = self.tasks.get(match.group(1)) if match else None
        if task is None:
            return _answer(404, {"error": {"code": "not_found", "message": "task not found", "details": None}})
        if not match.group(2):
            return _answer(200, task)
        if task["status"] != "completed":
            return _answer(409, {"error": {"code": "conflict", "message": "not completed", "details": task["status"]}})
        if task["result_url"] and task["result_size"] > ANSWER_LIMIT:
            body = {"task_id": task["task_id"], "result_url": task["result_url"], "result_size": task["result_size"]}
            return Answer(303, {"location": task["result_url"], "content-type": "application/json"}, _encoded(body))
        stored = self.objects.get(f"{task['task_id']}/result.json")
        result = json.loads(stored) if stored else task["result"]
        return _answer(200, {"task_id": task["task_id"], "result": result})

    def _storage(self, url):
        if self.storage_failures:
            self.storage_failures -= 1
            return Answer(503, {}, b"<Error><Code>SlowDown</Code><Message>Please reduce your rate</Message></Error>")
        key = urllib.parse.urlsplit(url).path.removeprefix("/tasklane-values/")
        if key in self.expired or url != _presigned(key):
            return Answer(403, {"content-type": "application/xml"}, EXPIRED_XML)
        return Answer(200, {"content-type": "application/json"}, self.objects[key])

    def url_requests(self):
        return [(url, headers) for _, url, headers in self.requests if url.startswith(BUCKET)]


class StreamingFakeApi(FakeApi):
    """The same, with the streaming side of a transport: bucket bodies in 64 KiB chunks."""

    def __init__(self):
        super().__init__()
        self.chunks_read = 0
        self.released = 0
        self.fail_after_chunks: int | None = None

    def stream(self, method, url, headers, timeout):
        answer = self(method, url, headers, None, timeout)

        def chunks():
            for start in range(0, len(answer.body), 64 * 1024):
                if self.fail_after_chunks is not None and self.chunks_read >= self.fail_after_chunks:
                    raise EndpointError("lost the connection while reading")
                self.chunks_read += 1
                yield answer.body[start : start + 64 * 1024]

        return Stream(answer.status, answer.headers, chunks(), self._release)

    def _release(self):
        self.released += 1


def _answer(status, body):
    return Answer(status, {"content-type": "application/json"}, _encoded(body))


BIG_RESULT = {"data": "x" * (6 * 1024 * 1024)}  # beyond a Lambda answer: the result route answers 303
MID_RESULT = {"data": "é" * (100 * 1024)}  # in the bucket, yet answered inline by the result route
BIG_PAYLOAD = {"data": "p" * (300 * 1024)}


@pytest.fixture
def api():
    return FakeApi()


def test_result_answered_inline_is_returned_without_reading_any_url(api):
    api.add({"n": 1}, {"sum": 3})
    assert Client(ENDPOINT, ApiKeyAuth("k"), transport=api).result(TASK_ID) == {"sum": 3}
    assert api.url_requests() == []


def test_result_303_is_followed_exactly_as_given_and_without_our_credentials(api):
    api.add(BIG_PAYLOAD, BIG_RESULT)
    assert Client(ENDPOINT, ApiKeyAuth("secret-key"), transport=api).result(TASK_ID) == BIG_RESULT
    [(url, headers)] = api.url_requests()
    assert url == _presigned(f"{TASK_ID}/result.json")  # not re-encoded, not re-signed
    assert headers == {}  # no x-api-key, no Authorization, no accept-encoding
    assert api.requests[0][2]["x-api-key"] == "secret-key"  # the API itself was asked with the key


def test_result_303_with_iam_auth_does_not_sign_the_url(api, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    api.add({}, BIG_RESULT)
    assert Client(ENDPOINT, IamAuth(), transport=api).result(TASK_ID) == BIG_RESULT
    assert "Authorization" in api.requests[0][2]
    assert api.url_requests()[0][1] == {}


def test_an_expired_url_raises_large_value_unavailable_telling_to_ask_again(api):
    api.add({}, BIG_RESULT)
    api.expired.add(f"{TASK_ID}/result.json")
    with pytest.raises(LargeValueUnavailable) as unavailable:
        Client(ENDPOINT, None, transport=api).result(TASK_ID)
    error = unavailable.value
    assert error.status == 403
    assert error.details["storage_code"] == "AccessDenied"
    assert "Request has expired" in str(error)
    assert "ask the API again" in str(error)
    assert "X-Amz-Signature" not in str(error) + json.dumps(error.details)  # the signature is a credential


def test_storage_errors_and_throttles_on_the_url_are_retried(api, monkeypatch):
    monkeypatch.setattr("time.sleep", lambda s: None)
    api.add({}, BIG_RESULT)
    api.storage_failures = 2
    assert Client(ENDPOINT, None, transport=api).result(TASK_ID) == BIG_RESULT
    assert len(api.url_requests()) == 3
    api.storage_failures = 100
    with pytest.raises(ServerError) as failed:
        Client(ENDPOINT, None, transport=api, max_retries=1).result(TASK_ID)
    assert failed.value.code == "SlowDown"


def test_result_not_ready_is_still_a_conflict(api):
    api.add({}, None, status="processing")
    with pytest.raises(Conflict):
        Client(ENDPOINT, None, transport=api).result(TASK_ID)


@pytest.mark.parametrize("result", [{"sum": 3, "name": "Zoë"}, MID_RESULT, BIG_RESULT], ids=["inline", "200", "303"])
@pytest.mark.parametrize("into", ["path", "binary file"])
def test_download_result_writes_the_stored_json(result, into, tmp_path):
    api = StreamingFakeApi()
    api.add({}, result)
    client = Client(ENDPOINT, None, transport=api)
    target = tmp_path / "result.json"
    if into == "path":
        written = client.download_result(TASK_ID, str(target))
    else:
        with target.open("wb") as sink:
            written = client.download_result(TASK_ID, sink)
    assert target.read_bytes() == _encoded(result)  # the bytes the API stores, byte for byte
    assert written == len(_encoded(result))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.json"]
    if result is BIG_RESULT:
        assert api.chunks_read == -(-written // (64 * 1024))  # 6 MiB read in 64 KiB chunks, never joined
        assert api.released == 1
        assert api.url_requests()[0][1] == {}


def test_a_download_cut_short_leaves_no_file_behind(tmp_path):
    api = StreamingFakeApi()
    api.add({}, BIG_RESULT)
    api.fail_after_chunks = 10
    with pytest.raises(EndpointError):
        Client(ENDPOINT, None, transport=api).download_result(TASK_ID, tmp_path / "result.json")
    assert list(tmp_path.iterdir()) == []
    assert api.released == 1


def test_get_keeps_the_api_shape_and_fetch_values_reads_large_values_in(api):
    api.add(BIG_PAYLOAD, MID_RESULT)
    client = Client(ENDPOINT, ApiKeyAuth("k"), transport=api)
    raw = client.get(TASK_ID)
    assert raw["payload"] is None
    assert raw["payload_size"] == len(_encoded(BIG_PAYLOAD))
    assert raw["result"] is None
    assert raw["result_url"].startswith(BUCKET)
    filled = client.get(TASK_ID, fetch_values=True)
    assert filled["payload"] == BIG_PAYLOAD
    assert filled["result"] == MID_RESULT
    assert filled["payload_url"] == raw["payload_url"]
    assert all(headers == {} for _, headers in api.url_requests())
    assert client.wait(TASK_ID, timeout=1, fetch_values=True)["result"] == MID_RESULT


def test_get_with_fetch_values_leaves_small_values_alone(api):
    api.add({"n": 1}, {"sum": 3})
    assert Client(ENDPOINT, None, transport=api).get(TASK_ID, fetch_values=True)["payload"] == {"n": 1}
    assert api.url_requests() == []


def fake_cli(api, *argv, out=None):
    out = out if out is not None else io.StringIO()
    err = io.StringIO()
    target = Target(ENDPOINT, None, "test")
    target.transport = api  # type: ignore[attr-defined]
    code = run(build_parser().parse_args(list(argv)), out, err, target_for=lambda **_: target)
    return code, out, err.getvalue()


def test_cli_result_output_streams_the_json_to_a_file_and_says_how_much(api, tmp_path):
    api.add({}, BIG_RESULT)
    code, out, err = fake_cli(api, "result", TASK_ID, "--output", str(tmp_path / "r.json"))
    assert code == 0
    assert out.getvalue() == ""
    assert json.loads((tmp_path / "r.json").read_bytes()) == BIG_RESULT
    assert err == f"tasklane: wrote {len(_encoded(BIG_RESULT))} bytes to {tmp_path / 'r.json'}\n"


def test_cli_result_output_dash_writes_the_raw_json_to_stdout(api):
    api.add({}, MID_RESULT)
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    code, _, err = fake_cli(api, "result", TASK_ID, "-o", "-", out=stdout)
    stdout.flush()
    assert code == 0
    assert stdout.buffer.getvalue() == _encoded(MID_RESULT)  # type: ignore[attr-defined]
    assert "bytes to stdout" in err
    code, out, _ = fake_cli(api, "result", TASK_ID, "-o", "-")  # a text stream with no buffer under it
    assert json.loads(out.getvalue()) == MID_RESULT


def test_cli_result_without_output_follows_the_303_and_prints_the_value(api):
    api.add({}, BIG_RESULT)
    code, out, _ = fake_cli(api, "result", TASK_ID)
    assert code == 0
    assert json.loads(out.getvalue()) == BIG_RESULT


def test_cli_result_output_to_a_missing_directory_is_an_error(api, tmp_path):
    api.add({}, {"sum": 3})
    with pytest.raises(TasklaneError, match="cannot write"):
        fake_cli(api, "result", TASK_ID, "--output", str(tmp_path / "nope" / "r.json"))


def test_cli_get_shows_large_values_as_their_size_and_url(api):
    task = api.add(BIG_PAYLOAD, BIG_RESULT)
    code, out, _ = fake_cli(api, "get", TASK_ID)
    assert code == 0
    lines = {line[:11].strip(): line[12:] for line in out.getvalue().splitlines()}
    assert lines["payload"] == f"<{task['payload_size']} bytes at {task['payload_url']}>"
    assert lines["result"] == f"<{task['result_size']} bytes at {task['result_url']}>"
    code, out, _ = fake_cli(api, "--json", "get", TASK_ID)
    assert json.loads(out.getvalue()) == task  # the API's shape, untouched


def test_cli_get_of_small_values_prints_the_result_inline_as_before(api):
    api.add({"n": 1}, {"sum": 3})
    _, out, _ = fake_cli(api, "get", TASK_ID)
    assert 'result      {"sum": 3}\n' in out.getvalue()
    assert "payload" not in out.getvalue()


def test_cli_submit_payload_from_a_1_mib_file(api, tmp_path):
    payload = {"label": "large", "data": "é" + "x" * (1024 * 1024 - 30)}
    source = tmp_path / "payload.json"
    source.write_bytes(json.dumps(payload, indent=1, ensure_ascii=False).encode())
    code, out, _ = fake_cli(api, "submit", "echo", "--payload", f"@{source}")
    assert code == 0
    assert out.getvalue().strip() in api.tasks
    assert api.submitted[-1]["payload"] == payload


def test_cli_usage_errors_go_to_stderr_with_exit_2(api, tmp_path, capsys):
    from tasklane_client.cli import main

    target = Target(ENDPOINT, None, "test")
    target.transport = api  # type: ignore[attr-defined]
    (tmp_path / "list.json").write_text("[1, 2]")
    (tmp_path / "tasks.jsonl").write_text('{"task_type": "echo"}\n{"task_type": \n')
    for argv, message in (
        (["submit", "echo", "--payload", f"@{tmp_path / 'missing.json'}"], "cannot read"),
        (["submit", "echo", "--payload", "{nope"], "--payload is not valid JSON"),
        (["submit", "echo", "--payload", f"@{tmp_path / 'list.json'}"], "must be a JSON object"),
        (["batch", str(tmp_path / "tasks.jsonl")], "line 2 is not valid JSON"),
    ):
        assert main(argv, target_for=lambda **_: target) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err.startswith("tasklane: ")
        assert message in captured.err


class ClosedPipe(io.StringIO):
    """stdout whose reader went away after the first line, as `| head -1` does."""

    def write(self, text):
        if self.getvalue():
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(text)


def _listing_transport(method, url, headers, body, timeout):
    """Page after page of 100 tasks, for ever."""
    api = FakeApi()
    items = [api.add({}, {"i": i}, task_id=f"{i:08d}-0000-4000-8000-000000000000") for i in range(100)]
    return _answer(200, {"items": items, "next_cursor": "more"})


def test_cli_list_into_a_closed_pipe_ends_quietly_with_141(monkeypatch, capsys):
    from tasklane_client.cli import main

    target = Target(ENDPOINT, None, "test")
    target.transport = _listing_transport  # type: ignore[attr-defined]
    closed = ClosedPipe()
    monkeypatch.setattr("sys.stdout", closed)
    assert main(["list", "--limit", "300"], target_for=lambda **_: target) == 141
    assert closed.getvalue().startswith("TASK_ID")
    assert capsys.readouterr().err == ""


LISTING_SCRIPT = """
import json, sys
from tasklane_client.cli import main
from tasklane_client.client import Answer
from tasklane_client.discovery import Target

TASK = {"task_type": "echo", "priority": "normal", "status": "completed", "attempts": 1, "max_attempts": 3,
        "progress": None, "error": None, "created_at": "2026-11-23T14:55:41.986000Z"}

def transport(method, url, headers, body, timeout):
    items = [{**TASK, "task_id": f"{i:08d}-0000-4000-8000-000000000000"} for i in range(100)]
    return Answer(200, {}, json.dumps({"items": items, "next_cursor": "more"}).encode())

target = Target("https://api.invalid/v1", None, "test")
target.transport = transport
sys.exit(main(sys.argv[1:], target_for=lambda **_: target))
"""


def test_cli_list_piped_into_head_exits_without_a_traceback():
    """The real thing: a process whose stdout pipe is closed by its reader, as `tasklane list | head -1`."""
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        [sys.executable, "-c", LISTING_SCRIPT, "list", "--limit", "3000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(root / "client")},
    )
    assert process.stdout is not None
    assert process.stderr is not None
    first = process.stdout.readline()
    process.stdout.close()
    err = process.stderr.read()
    assert process.wait(timeout=60) == 141
    assert first.startswith(b"TASK_ID")
    assert err == b""


# --- the default transport, on the wire ---------------------------------------------------------------


class _Storage(http.server.BaseHTTPRequestHandler):
    """An API that answers 303 to a presigned URL on the same host, and the bucket behind it."""

    seen: typing.ClassVar[list[tuple[str, dict[str, str]]]] = []
    value = _encoded(BIG_RESULT)

    def do_GET(self):
        self.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
        if self.path.startswith("/v1/tasks/"):
            location = f"http://127.0.0.1:{self.server.server_port}" + _presigned("big.json").removeprefix(
                "http://127.0.0.1:4566"
            )
            self._reply(303, b'{"result_url": "..."}', location=location)
        elif self.path == _presigned("big.json").removeprefix("http://127.0.0.1:4566"):
            self._reply(200, self.value)
        else:
            self._reply(403, EXPIRED_XML)

    def _reply(self, status, body, location=None):
        self.send_response(status)
        self.send_header("content-length", str(len(body)))
        if location:
            self.send_header("location", location)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def storage():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Storage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Storage.seen = []
    yield f"http://127.0.0.1:{server.server_port}/v1"
    server.shutdown()
    server.server_close()


def test_the_urllib3_transport_follows_the_303_without_credentials_and_streams(storage, tmp_path):
    client = Client(storage, ApiKeyAuth("secret-key"))
    assert client.result(TASK_ID) == BIG_RESULT
    assert client.download_result(TASK_ID, tmp_path / "r.json") == len(_Storage.value)
    assert (tmp_path / "r.json").read_bytes() == _Storage.value
    api, bucket = _Storage.seen[0], _Storage.seen[1]
    assert api[1]["x-api-key"] == "secret-key"
    assert "x-api-key" not in bucket[1]
    assert "authorization" not in bucket[1]
    assert bucket[0].endswith(
        "X-Amz-Credential=test%2F20261123%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261123T145541Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=5d6c1b0e9f"
    )


def test_cli_get_says_what_a_held_task_waits_for(api):
    task = api.add({"n": 1}, None)
    task.update(status="pending", result=None, result_size=None, waiting_for="rate_limit")
    _, out, _ = fake_cli(api, "get", TASK_ID)
    assert "waiting for rate limit\n" in out.getvalue()


def test_cli_submit_in_and_at_schedule_a_task(tasklane):
    code, out, _ = cli(tasklane, "--json", "submit", "echo", "--in", "2h")
    assert code == 0
    task = json.loads(out)
    assert task["status"] == "scheduled"
    assert task["delay_seconds"] == 7200
    code, out, _ = cli(tasklane, "--json", "submit", "echo", "--at", "2020-01-01T00:00:00Z")
    assert json.loads(out)["status"] == "pending"  # a past moment runs now
    code, out, _ = cli(tasklane, "list", "--status", "scheduled")
    assert task["task_id"] in out
    assert cli(tasklane, "cancel", task["task_id"])[0] == 0


@pytest.mark.parametrize(
    "argv",
    [
        ("--in", "2 weeks"),
        ("--in", ""),
        ("--at", "2027-01-01T09:00:00"),  # no zone
        ("--at", "tomorrow"),
        ("--in", "1h", "--at", "2027-01-01T09:00:00Z"),
        ("--in", "1h", "--delay", "5"),
    ],
)
def test_cli_refuses_bad_start_times_as_usage_errors(tasklane, argv, capsys):
    with pytest.raises(SystemExit) as exit:
        build_parser().parse_args(["submit", "echo", *argv])
    assert exit.value.code == 2


def test_cli_schedules_create_list_pause_resume_delete(tasklane):
    code, out, err = cli(
        tasklane, "schedules", "create", "nightly", "echo", "--cron", "0 2 ? * * *", "--timezone", "Europe/Paris",
        "--payload", '{"x": 1}', "--priority", "low",
    )  # fmt: skip
    assert code == 0, err
    assert "cron(0 2 ? * * *)" in out
    code, out, _ = cli(tasklane, "schedules", "list")
    assert "nightly" in out
    assert "Europe/Paris" in out
    code, out, _ = cli(tasklane, "--json", "schedules", "pause", "nightly")
    assert json.loads(out)["paused"] is True
    code, out, _ = cli(tasklane, "--json", "schedules", "resume", "nightly")
    assert json.loads(out)["paused"] is False
    assert len(json.loads(cli(tasklane, "--json", "schedules", "get", "nightly")[1])["next_fire_times"]) == 5
    with pytest.raises(NotFound):  # for anyone else, there is none of that name
        cli(tasklane, "schedules", "get", "nightly", owner=BOB)
    assert cli(tasklane, "schedules", "delete", "nightly")[0] == 0
    assert json.loads(cli(tasklane, "--json", "schedules", "list")[1]) == []


def test_cli_schedule_errors_name_the_field(tasklane):
    with pytest.raises(InvalidRequest) as invalid:
        cli(tasklane, "schedules", "create", "bad", "echo", "--rate", "5 fortnights")
    assert [d["field"] for d in invalid.value.details] == ["rate"]


def test_client_schedule_methods(client):
    task = {"task_type": "echo", "payload": {"n": 1}, "priority": "high"}
    created = client.create_schedule("every5", task, rate="5 minutes")
    assert created["task"] == {"task_type": "echo", "payload": {"n": 1}, "priority": "high"}
    assert [s["name"] for s in client.list_schedules()] == ["every5"]
    assert client.pause_schedule("every5")["paused"] is True
    assert client.resume_schedule("every5")["paused"] is False
    client.delete_schedule("every5")
    with pytest.raises(NotFound):
        client.get_schedule("every5")


def test_a_workflow_built_with_the_helpers_runs_and_its_tasks_are_listed(client):
    from tasklane_client import chain, chord, group

    root = chain(("add", {"n": 1}), chord(group(("add", {"n": 2}), ("add", {"n": 3})), ("add", {"n": 10})))
    workflow = client.submit_workflow(root)
    assert workflow["status"] == "running"
    done = client.get_workflow(workflow["workflow_id"])  # the in-process transport runs the lanes first
    for _ in range(5):
        if done["status"] == "running":
            done = client.get_workflow(workflow["workflow_id"])
    assert (done["status"], done["result"]) == ("completed", 17)  # 10 + [2 + 1, 3 + 1]
    assert [t["task_type"] for t in client.workflow_tasks(workflow["workflow_id"])] == ["add"] * 4
    assert [w["workflow_id"] for w in client.list_workflows()] == [workflow["workflow_id"]]


def test_cli_workflows_submit_wait_get_list_and_cancel(tasklane, tmp_path):
    tree = tmp_path / "flow.json"
    tree.write_text(json.dumps({"chain": [{"task": {"task_type": "add", "payload": {"n": 2}}}] * 2}))
    code, out, _ = cli(tasklane, "workflows", "submit", str(tree), "--wait", "--timeout", "30")
    assert code == 0, out
    assert "2/2  completed" in out
    assert "result       4" in out
    code, out, _ = cli(tasklane, "--json", "workflows", "list")
    workflow_id = json.loads(out)[0]["workflow_id"]
    code, out, _ = cli(tasklane, "workflows", "get", workflow_id)
    assert code == 0
    assert "completed" in out
    assert "chain" in out
    from tasklane_client import Conflict

    with pytest.raises(Conflict, match="it is completed"):  # main() prints it and exits 1
        cli(tasklane, "workflows", "cancel", workflow_id)
