"""GET /stats, the console's page on the status function, and the `tasklane console` proxy, on moto."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.events import ALICE, BOB, api_event


def submit(tasklane, body, owner=ALICE):
    answer = tasklane.call(api_event("submit_task", owner=owner, body=body, headers={"Idempotency-Key": None}))
    assert answer.status == 202, answer.body
    return answer.body["task_id"]


@pytest.fixture
def local_figures(tasklane, monkeypatch):
    """As on the local stack: the chart counted from the caller's tasks (moto has no metric math)."""
    from tasklane.settings import stats

    monkeypatch.setenv("THROUGHPUT_SOURCE", "tasks")
    stats.stats_settings.cache_clear()
    return tasklane


def stats(tasklane, owner=ALICE):
    answer = tasklane.call(api_event("stats", owner=owner))
    assert answer.status == 200, answer.body
    return answer.body


def test_stats_show_each_lane_with_its_depth_dlq_and_concurrency(local_figures):
    tasklane = local_figures
    submit(tasklane, {"task_type": "echo", "priority": "high"})
    submit(tasklane, {"task_type": "echo", "priority": "high"})
    submit(tasklane, {"task_type": "echo", "priority": "low", "delay_seconds": 60})
    tasklane.sqs.send_message(QueueUrl=tasklane.queue_url("normal", dead=True), MessageBody="{}")
    lanes = {lane["lane"]: lane for lane in stats(tasklane)["lanes"]}
    assert [lane["concurrency"] for lane in lanes.values()] == [10, 5, 2]  # the template's defaults
    assert (lanes["high"]["queued"], lanes["high"]["in_flight"], lanes["high"]["dlq"]) == (2, 0, 0)
    assert lanes["low"]["delayed"] == 1
    assert lanes["normal"]["dlq"] == 1
    assert lanes["high"]["oldest_age_seconds"] is not None  # the caller's oldest pending task there


def test_stats_count_the_callers_tasks_by_status_and_chart_the_finished_ones(local_figures):
    tasklane = local_figures
    done = [submit(tasklane, {"task_type": "echo"}) for _ in range(3)]
    failed = submit(tasklane, {"task_type": "fail", "payload": {"mode": "raise"}, "max_attempts": 1})
    cancelled = submit(tasklane, {"task_type": "echo", "delay_seconds": 60})
    tasklane.call(api_event("cancel_task", task_id=cancelled))
    submit(tasklane, {"task_type": "echo"}, owner=BOB)
    tasklane.drain("normal")
    body = stats(tasklane)
    assert body["counts"] == {
        "scheduled": 0,
        "waiting": 0,  # a workflow's tasks before their turn
        "pending": 0,
        "processing": 0,
        "completed": 3,
        "failed": 1,
        "cancelled": 1,
    }
    assert body["counts_complete"] is True
    chart = body["throughput"]
    assert (chart["source"], chart["scope"], len(chart["minutes"])) == ("tasks", "caller", 60)
    assert (sum(chart["completed"]), sum(chart["failed"])) == (len(done), 1)
    assert chart["completed"][-1] == 3  # this minute
    assert failed


def test_stats_need_an_identity(local_figures):
    answer = local_figures.call(api_event("stats", owner=None))
    assert answer.status == 403


def test_the_console_page_is_served_without_auth_and_names_the_auth_mode(tasklane):
    from tasklane.handlers import status

    page = status.lambda_handler(api_event("console", owner=None), tasklane.context)
    assert page["statusCode"] == 200
    headers = page.get("multiValueHeaders") or {k: [v] for k, v in page["headers"].items()}
    assert headers["Content-Type"] == ["text/html; charset=utf-8"]
    assert "script-src 'self'" in headers["Content-Security-Policy"][0]
    assert '<meta name="tasklane-auth" content="iam">' in page["body"]
    script = status.lambda_handler(api_event("console_asset", owner=None), tasklane.context)
    assert script["statusCode"] == 200
    assert "const VIEWS = " in script["body"]


@pytest.mark.parametrize("asset", ["../settings.py", "index.htm", "app.js.map"])
def test_only_the_console_files_are_served(tasklane, asset):
    from tasklane.handlers import status

    event = api_event("console_asset", owner=None)
    event["pathParameters"], event["path"] = {"asset": asset}, f"/console/{asset}"
    assert status.lambda_handler(event, tasklane.context)["statusCode"] == 404


def test_listing_filters_by_priority(tasklane):
    high = submit(tasklane, {"task_type": "echo", "priority": "high"})
    submit(tasklane, {"task_type": "echo", "priority": "low"})
    page = tasklane.call(api_event("list_tasks", query={"priority": "high"})).body
    assert [t["task_id"] for t in page["items"]] == [high]
    bad = tasklane.call(api_event("list_tasks", query={"priority": "urgent"}))
    assert bad.status == 422
    assert bad.body["error"]["details"][0]["field"] == "priority"


def test_the_cloudwatch_chart_sums_every_dimension_and_reads_each_lanes_oldest_age():
    """On AWS the chart comes from the stack's metrics: one GetMetricData request (moto has no metric math)."""
    import boto3
    from botocore.stub import ANY, Stubber

    from tasklane.data.metrics import StackMetrics
    from tasklane.model.lanes import Lane

    client = boto3.client("cloudwatch", region_name="us-east-1")
    minute = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    answer = {
        "MetricDataResults": [
            {"Id": "completed", "Timestamps": [minute, minute + timedelta(minutes=1)], "Values": [4.0, 6.0]},
            {"Id": "failed", "Timestamps": [minute], "Values": [1.0]},
            {"Id": "age_high", "Timestamps": [minute, minute + timedelta(minutes=1)], "Values": [30.0, 90.0]},
            {"Id": "age_normal", "Timestamps": [], "Values": []},
        ]
    }
    with Stubber(client) as stub:
        stub.add_response("get_metric_data", answer, {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY})
        series = StackMetrics(client).read(minute, minute + timedelta(hours=1), {Lane.HIGH: "h", Lane.NORMAL: "n"})
        stub.assert_no_pending_responses()
    start = int(minute.timestamp())
    assert series.completed == {start: 4, start + 60: 6}
    assert series.failed == {start: 1}
    assert series.oldest_age == {Lane.HIGH: 90, Lane.NORMAL: None}


def test_the_metric_queries_sum_tasklanes_emf_counts_over_every_dimension():
    from tasklane.data.metrics import _sum_of

    assert _sum_of("TaskCompleted") == (
        "SUM(SEARCH('{tasklane,lane,service,task_type} MetricName=\"TaskCompleted\"', 'Sum', 60))"
    )


class _Upstream:
    """A stand-in API: records what reached it."""

    def __init__(self):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        seen = self.seen = []

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                seen.append((self.command, self.path, dict(self.headers), self.rfile.read(length)))
                body = b'<meta name="tasklane-auth" content="iam">' if self.path == "/v1/console" else b"{}"
                self.send_response(200)
                self.send_header("Content-Type", "text/html" if self.path == "/v1/console" else "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_DELETE = do_PATCH = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"


@pytest.fixture
def proxied(monkeypatch):
    from tasklane_client.auth import IamAuth
    from tasklane_client.console import ConsoleProxy

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    upstream = _Upstream()
    proxy = ConsoleProxy(upstream.url, IamAuth(region="us-east-1"), port=0)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    yield proxy, upstream
    proxy.shutdown()
    proxy.server_close()
    upstream.server.shutdown()


def test_the_proxy_serves_the_page_unsigned_and_signs_api_calls_with_sigv4(proxied):
    proxy, upstream = proxied
    browser = requests.Session()
    page = browser.get(proxy.url, timeout=10)
    assert page.url.endswith("/console")  # the secret traded for a cookie, and out of the address bar
    assert page.text == '<meta name="tasklane-auth" content="proxy">'  # the page knows calls are signed
    origin = f"http://127.0.0.1:{proxy.port}"
    answer = browser.post(origin + "/tasks", json={"task_type": "echo"}, headers={"Origin": origin}, timeout=10)
    assert answer.status_code == 200
    (_, page_path, page_headers, _), (method, path, headers, body) = upstream.seen
    assert page_path == "/v1/console"
    assert "Authorization" not in page_headers
    assert (method, path, body) == ("POST", "/v1/tasks", b'{"task_type": "echo"}')
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/us-east-1/execute-api/aws4_request" in headers["Authorization"]


def test_the_proxy_forwards_a_schedules_pause_signed(proxied):
    """PATCH /schedules/{name}: the schedules view pauses and resumes through the proxy too."""
    proxy, upstream = proxied
    browser = requests.Session()
    browser.get(proxy.url, timeout=10)  # the page, and this run's secret as a cookie
    upstream.seen.clear()
    origin = f"http://127.0.0.1:{proxy.port}"
    answer = browser.patch(origin + "/schedules/nightly", json={"paused": True}, headers={"Origin": origin}, timeout=10)
    assert answer.status_code == 200
    ((method, path, headers, body),) = upstream.seen
    assert (method, path, body) == ("PATCH", "/v1/schedules/nightly", b'{"paused": true}')
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")


@pytest.mark.parametrize(
    ("method", "headers", "why"),
    [
        ("POST", {}, "no origin"),
        ("PATCH", {}, "no origin"),
        ("POST", {"Origin": "https://evil.example"}, "another origin"),
        ("GET", {"Origin": "https://evil.example"}, "another origin"),
        ("GET", {"Host": "evil.example"}, "unknown host"),
    ],
)
def test_the_proxy_signs_nothing_for_other_pages_or_hosts(proxied, method, headers, why):
    proxy, upstream = proxied
    browser = requests.Session()
    browser.get(proxy.url, timeout=10)  # holds this run's secret: refused all the same
    upstream.seen.clear()
    answer = browser.request(method, f"http://127.0.0.1:{proxy.port}/tasks", headers=headers, timeout=10)
    assert answer.status_code == 403
    assert answer.json()["error"]["message"] == why
    assert upstream.seen == []


# The proxy signs only for the page `tasklane console` opened: a per-run secret, paths only, and
# never the webhook secret's routes.
def _raw(proxy, request_line: str, headers: dict[str, str]) -> tuple[int, bytes]:
    import socket

    with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as sock:
        lines = [request_line, *(f"{k}: {v}" for k, v in headers.items()), "Content-Length: 0", "Connection: close"]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1]), answer


def _entered(proxy):
    browser = requests.Session()
    assert browser.get(proxy.url, timeout=10).status_code == 200
    return browser


@pytest.mark.parametrize(
    "origin", [None, "http://127.0.0.1:{port}", "http://localhost:{port}"], ids=["none", "ip", "localhost"]
)
def test_a_local_process_without_this_runs_secret_gets_nothing_signed(proxied, origin):
    proxy, upstream = proxied
    headers = {"Origin": origin.format(port=proxy.port)} if origin else {}
    for method in ("GET", "POST", "DELETE"):
        if method != "GET" and origin is None:
            continue
        answer = requests.request(method, f"http://127.0.0.1:{proxy.port}/tasks", headers=headers, timeout=10)
        assert answer.status_code == 403
        assert "token" in answer.json()["error"]["message"]
    wrong = requests.get(f"http://127.0.0.1:{proxy.port}/console?token=guess", timeout=10, allow_redirects=False)
    assert wrong.status_code == 403
    assert "Set-Cookie" not in wrong.headers
    assert upstream.seen == []


def test_two_runs_have_different_secrets_and_cookies(proxied):
    from tasklane_client.console import ConsoleProxy

    proxy, _ = proxied
    other = ConsoleProxy(proxy.endpoint, None, port=0)
    try:
        assert other.token != proxy.token
        assert other.cookie != proxy.cookie
        assert len(proxy.token) >= 32
    finally:
        other.server_close()


@pytest.mark.parametrize("target", ["@evil.example/tasks", "evil.example/tasks", "//evil.example/tasks", "*"])
def test_a_request_target_that_is_not_a_path_is_never_forwarded(proxied, target):
    proxy, upstream = proxied
    browser = _entered(proxy)
    upstream.seen.clear()
    cookie = f"{proxy.cookie}={browser.cookies.get(proxy.cookie)}"
    status, _ = _raw(proxy, f"GET {target} HTTP/1.1", {"Host": f"127.0.0.1:{proxy.port}", "Cookie": cookie})
    if target.startswith("//"):  # http.server folds the leading slashes: a path of the API's own host
        assert [path for _, path, _, _ in upstream.seen] == ["/v1/evil.example/tasks"]
    else:
        assert status == 403
        assert upstream.seen == []
    with pytest.raises(ValueError, match="not a path"):
        proxy.forward("GET", target, None, {})


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/webhooks/secret"),
        ("POST", "/webhooks/secret/rotate"),
        ("GET", "/webhooks/secret/"),
        ("GET", "/webhooks//secret"),
        ("GET", "/webhooks/./secret"),
        ("GET", "/webhooks/%73ecret"),
        ("POST", "/webhooks/secret/rotate?x=1"),
    ],
)
def test_the_webhook_secret_routes_are_never_signed_for_the_console(proxied, method, path):
    proxy, upstream = proxied
    browser = _entered(proxy)
    upstream.seen.clear()
    origin = f"http://127.0.0.1:{proxy.port}"
    answer = browser.request(method, origin + path, headers={"Origin": origin}, timeout=10)
    assert answer.status_code == 403
    assert "tasklane webhooks secret" in answer.json()["error"]["message"]
    assert upstream.seen == []
