"""Completion events and webhooks on the local stack: a rule on the stack's bus, and webhooks to a
receiver listening on 127.0.0.1 (the local stack sets CallbackAllowLoopback=true and a 2 s first
backoff). No request goes anywhere but the loopback."""

from __future__ import annotations

import http.server
import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from tasklane_client import verify_signature

pytestmark = pytest.mark.e2e


@pytest.fixture
def completed_events(stack) -> Iterator[Any]:
    """A test queue that a rule on the stack's bus (made here, removed after) fills with Task Completed."""
    events, sqs = stack.session.client("events"), stack.session.client("sqs")
    bus = stack.outputs.raw["EventBusName"]
    name = f"e2e-completed-{uuid.uuid4().hex[:8]}"
    queue = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pattern = {"source": ["tasklane"], "detail-type": ["Task Completed"]}
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "queue", "Arn": arn}])

    def received(task_id: str, timeout: float = 30) -> list[dict[str, Any]]:
        """The events of one task (other tests' tasks finish on the same bus meanwhile)."""
        deadline, found = time.monotonic() + timeout, []
        while time.monotonic() < deadline:
            answer = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            bodies = [json.loads(m["Body"]) for m in answer.get("Messages", [])]
            found += [e for e in bodies if e["detail"]["task_id"] == task_id]
            if found:
                return found
        return found

    yield received
    events.remove_targets(Rule=name, EventBusName=bus, Ids=["queue"])
    events.delete_rule(Name=name, EventBusName=bus)
    sqs.delete_queue(QueueUrl=queue)


def test_a_rule_on_the_bus_delivers_task_completed_for_a_task(alice, completed_events):
    task = alice.submit("echo", {"marker": "not-in-the-event"})
    assert alice.wait(task["task_id"])["status"] == "completed"
    events = completed_events(task["task_id"])
    assert len(events) == 1, events
    event = events[0]
    assert event["source"] == "tasklane"
    assert event["detail-type"] == "Task Completed"
    detail = event["detail"]
    assert detail["status"] == "completed"
    assert detail["previous_status"] == "processing"
    assert detail["task_type"] == "echo"
    assert detail["attempts"] == 1
    assert detail["finished_at"]
    assert "payload" not in detail
    assert "result" not in detail
    assert "not-in-the-event" not in json.dumps(event)


class Receiver(http.server.BaseHTTPRequestHandler):
    """Answers each POST with the next code of `codes` (then 200), keeping what it got."""

    codes: list[int]
    seen: list[tuple[float, dict[str, str], bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.seen.append((time.monotonic(), dict(self.headers), body))
        self.send_response(self.codes.pop(0) if self.codes else 200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[Receiver]]]:
    handler = type("TestReceiver", (Receiver,), {"codes": [], "seen": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/tasklane", handler
    server.shutdown()
    server.server_close()


def _posts(handler: type[Receiver], n: int, timeout: float) -> list[tuple[float, dict[str, str], bytes]]:
    deadline = time.monotonic() + timeout
    while len(handler.seen) < n and time.monotonic() < deadline:
        time.sleep(0.2)
    return handler.seen


def test_a_webhook_reaches_the_receiver_signed_with_the_owner_s_secret(alice, receiver):
    url, handler = receiver
    task = alice.submit("compute", {"n": 1000}, callback_url=url)
    assert task["callback"] == {"url": url, "deliveries": []}
    (posted,) = _posts(handler, 1, 30)
    _, headers, body = posted
    secret = alice.request("GET", "/webhooks/secret").json()["secret"]
    assert verify_signature(secret, headers["Tasklane-Signature"], body)
    summary = json.loads(body)
    assert summary["event"] == "Task Completed"
    assert summary["task"]["task_id"] == task["task_id"]
    assert summary["task"]["result"] is None  # the summary, never the result
    deadline = time.monotonic() + 10
    while not (deliveries := alice.get(task["task_id"])["callback"]["deliveries"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [(d["attempt"], d["status_code"], d["delivered"]) for d in deliveries] == [(1, 200, True)]


def test_a_failing_receiver_is_retried_and_the_deliveries_show_on_the_task(alice, receiver):
    url, handler = receiver
    handler.codes = [500]
    task = alice.submit("echo", {}, callback_url=url)
    posts = _posts(handler, 2, 30)
    assert len(posts) == 2, posts
    assert posts[1][0] - posts[0][0] >= 0.9  # after a backoff (2 s nominal on the local stack, half jittered)
    assert posts[0][2] == posts[1][2]  # the same body, signed again
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        deliveries = alice.get(task["task_id"])["callback"]["deliveries"]
        if len(deliveries) == 2:
            break
        time.sleep(0.2)
    assert [(d["attempt"], d["status_code"], d["delivered"]) for d in deliveries] == [(1, 500, False), (2, 200, True)]


def test_rotating_the_secret_changes_what_signs_the_next_webhook(bob, receiver):
    url, handler = receiver
    old = bob.request("GET", "/webhooks/secret").json()["secret"]
    rotated = bob.request("POST", "/webhooks/secret/rotate")
    assert rotated.status_code == 200
    assert rotated.headers["Cache-Control"] == "no-store"
    new = rotated.json()["secret"]
    assert new != old
    bob.submit("echo", {}, callback_url=url)
    (posted,) = _posts(handler, 1, 30)
    assert verify_signature(new, posted[1]["Tasklane-Signature"], posted[2])
    assert not verify_signature(old, posted[1]["Tasklane-Signature"], posted[2])


def test_private_and_metadata_callbacks_are_refused_on_the_local_stack_too(alice):
    for url in ("http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://[::1]:8080/"):
        answer = alice.request("POST", "/tasks", json={"task_type": "echo", "callback_url": url})
        assert answer.status_code == 422, answer.text
        assert [d["field"] for d in answer.json()["error"]["details"]] == ["callback_url"]
