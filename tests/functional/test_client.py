"""The Python client and the `tasklane` command against the handlers on moto, through an in-process
transport that turns each HTTP request into the API Gateway event the stack would deliver."""

from __future__ import annotations

import io
import json
import re
import urllib.parse

import pytest
from tasklane_client import Client, Conflict, InvalidRequest, NotFound, TaskFailed, Throttled
from tasklane_client.auth import IamAuth
from tasklane_client.cli import build_parser, run
from tasklane_client.client import Answer
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
]


class InProcess:
    """A transport: API Gateway (already authenticated as `owner`) in front of the handlers; every
    GET first lets the lanes' processors drain what is queued, as the event source mappings would."""

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
        if method == "GET":
            for lane in ("high", "normal", "low"):
                self.tasklane.drain(lane)
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


@pytest.fixture
def client(tasklane):
    return Client(ENDPOINT, None, transport=InProcess(tasklane))


def test_submit_wait_and_result(client):
    task = client.submit("compute", {"n": 1_000_000}, priority="high")
    assert task["status"] == "pending"
    updates = []
    done = client.wait(task["task_id"], timeout=10, poll=0.01, on_update=updates.append)
    assert done["status"] == "completed"
    assert updates[-1]["status"] == "completed"
    assert client.result(task["task_id"]) == 499999500000


def test_wait_on_a_failing_task_raises_task_failed_with_its_error(client):
    task = client.submit("fail", {"message": "nope"}, max_attempts=1)
    with pytest.raises(TaskFailed) as failed:
        client.wait(task["task_id"], timeout=10, poll=0.01)
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
    assert low["queued"] == 3
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
    _, out, _ = cli(tasklane, "dlq", "retry")
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
