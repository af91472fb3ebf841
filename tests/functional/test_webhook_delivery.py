"""Webhook deliveries: signed with the owner's secret, sent to the checked address, retried with
backoff for a day, recorded on the task (the last ten). Receivers are stubbed, or listen on 127.0.0.1."""

from __future__ import annotations

import http.server
import json
import threading
from datetime import timedelta

import pytest
from tasklane_client import verify_signature

from tests.events import ALICE, BOB, api_event
from tests.functional.notify import run_events, run_webhooks, webhook_messages
from tests.functional.test_lifecycle import get, submit

HOOK = "https://hooks.example.com/tasklane"


def secret_of(tasklane, owner=ALICE):
    answer = tasklane.call(api_event("webhook_secret", owner=owner))
    assert answer.status == 200, answer.body
    assert answer.headers["cache-control"] == "no-store"
    return answer.body["secret"]


def finished_with_callback(tasklane, stream, task_type="echo", payload=None, **fields):
    """A task with a callback run to its end, its stream read: its webhook message is queued."""
    task_id = submit(tasklane, task_type, payload or {}, callback_url=HOOK, **fields).body["task_id"]
    tasklane.drain("normal")
    assert run_events(stream.records()) == {"batchItemFailures": []}
    return task_id


@pytest.fixture
def hooks(resolver):
    resolver.names["hooks.example.com"] = ["93.184.215.14", "2606:2800:21f:cb07::1"]
    return resolver


def test_a_delivery_is_signed_with_the_owner_s_secret_and_sent_to_the_checked_address(
    tasklane, bus, stream, hooks, receivers
):
    task_id = finished_with_callback(tasklane, stream, payload={"secret_marker": "s3cr3t"})
    assert run_webhooks(webhook_messages(tasklane)) == {"batchItemFailures": []}
    (post,) = receivers.posts
    assert str(post.address) == "93.184.215.14"  # the address that was checked, not the name again
    assert post.target.host == "hooks.example.com"  # TLS verifies this name (SNI)
    assert post.target.target == "/tasklane"
    assert verify_signature(secret_of(tasklane), post.headers["Tasklane-Signature"], post.body)
    body = json.loads(post.body)
    assert body["event"] == "Task Completed"
    assert body["task"]["task_id"] == task_id
    assert body["task"]["result"] is None
    assert b"s3cr3t" not in post.body
    assert post.headers["Tasklane-Event-Id"] == body["event_id"]
    (delivery,) = get(tasklane, task_id)["callback"]["deliveries"]
    assert delivery["delivered"] is True
    assert delivery["status_code"] == 200
    assert delivery["attempt"] == 1


def test_a_failed_delivery_comes_back_after_a_growing_backoff_and_shows_on_the_task(
    tasklane, bus, stream, hooks, receivers, monkeypatch
):
    from tasklane.data.webhook_queue import WebhookQueue

    waits = []
    monkeypatch.setattr(WebhookQueue, "postpone", lambda self, handle, seconds: waits.append(seconds))
    receivers.codes = [500, 302, 503, 204]  # a redirect is not followed: it fails like a 500
    task_id = finished_with_callback(tasklane, stream)
    (message,) = webhook_messages(tasklane)
    for attempt in (1, 2, 3):
        message["Attributes"]["ApproximateReceiveCount"] = str(attempt)
        answer = run_webhooks([message])
        assert answer == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}
    message["Attributes"]["ApproximateReceiveCount"] = "4"
    assert run_webhooks([message]) == {"batchItemFailures": []}
    base = 30  # WebhookRetryBaseSeconds' default
    assert [base // 2 <= waits[0] <= base, base <= waits[1] <= 2 * base, 2 * base <= waits[2] <= 4 * base] == [True] * 3
    deliveries = get(tasklane, task_id)["callback"]["deliveries"]
    assert [(d["attempt"], d["status_code"], d["delivered"]) for d in deliveries] == [
        (1, 500, False),
        (2, 302, False),
        (3, 503, False),
        (4, 204, True),
    ]
    assert len({p.headers["Tasklane-Event-Id"] for p in receivers.posts}) == 1  # one event, four attempts
    assert len({p.body for p in receivers.posts}) == 1  # every attempt posts the same body


def test_no_answer_is_a_failed_attempt_and_the_next_checked_address_is_tried(tasklane, bus, stream, hooks, receivers):
    from tasklane.destinations.receivers import ReceiverUnreachable

    receivers.codes = [ReceiverUnreachable("TimeoutError: timed out"), ReceiverUnreachable("ConnectionRefusedError")]
    task_id = finished_with_callback(tasklane, stream)
    assert run_webhooks(webhook_messages(tasklane))["batchItemFailures"]
    assert [str(p.address) for p in receivers.posts] == ["93.184.215.14", "2606:2800:21f:cb07::1"]
    (delivery,) = get(tasklane, task_id)["callback"]["deliveries"]
    assert delivery["delivered"] is False
    assert delivery["status_code"] is None
    assert "ConnectionRefusedError" in delivery["error"]


def test_a_name_that_now_resolves_to_a_private_address_is_not_called(tasklane, bus, stream, hooks, receivers):
    task_id = finished_with_callback(tasklane, stream)
    hooks.names["hooks.example.com"] = ["93.184.215.14", "169.254.169.254"]  # rebinding since submission
    assert run_webhooks(webhook_messages(tasklane))["batchItemFailures"]
    assert receivers.posts == []
    (delivery,) = get(tasklane, task_id)["callback"]["deliveries"]
    assert "metadata" in delivery["error"]
    assert delivery["delivered"] is False


def test_the_task_keeps_only_its_last_ten_deliveries(tasklane, bus, stream, hooks, receivers, monkeypatch):
    from tasklane.data.webhook_queue import WebhookQueue

    monkeypatch.setattr(WebhookQueue, "postpone", lambda self, handle, seconds: None)
    receivers.codes = [500]
    task_id = finished_with_callback(tasklane, stream)
    (message,) = webhook_messages(tasklane)
    for attempt in range(1, 16):
        message["Attributes"]["ApproximateReceiveCount"] = str(attempt)
        run_webhooks([message])
        kept = get(tasklane, task_id)["callback"]["deliveries"]
        assert [d["attempt"] for d in kept] == list(range(max(1, attempt - 9), attempt + 1))


def test_a_delivery_still_failing_a_day_after_the_task_ended_goes_to_the_dead_letter_queue(
    tasklane, bus, stream, hooks, receivers
):
    receivers.codes = [500]
    finished_with_callback(tasklane, stream)
    (message,) = webhook_messages(tasklane)
    tasklane.pass_time(timedelta(days=1).total_seconds() + 1)
    assert run_webhooks([message]) == {"batchItemFailures": []}  # acknowledged: no more attempts
    dead = tasklane.sqs.receive_message(QueueUrl=tasklane.stack.names["WebhookDeadLetterQueue"])["Messages"]
    assert json.loads(dead[0]["Body"])["task_id"] == json.loads(message["Body"])["task_id"]


def test_secrets_are_per_owner_made_once_and_rotation_changes_the_signature(tasklane, bus, stream, hooks, receivers):
    alice, bob = secret_of(tasklane, ALICE), secret_of(tasklane, BOB)
    assert alice != bob
    assert alice.startswith("whsec_")
    assert len(alice) == 6 + 64
    assert secret_of(tasklane, ALICE) == alice  # read again: the same
    receivers.codes = [500, 200]
    finished_with_callback(tasklane, stream)
    (message,) = webhook_messages(tasklane)
    run_webhooks([message])
    rotated = tasklane.call(api_event("rotate_webhook_secret"))
    assert rotated.status == 200
    assert rotated.headers["cache-control"] == "no-store"
    new = rotated.body["secret"]
    assert new != alice
    assert secret_of(tasklane, ALICE) == new
    assert secret_of(tasklane, BOB) == bob
    message["Attributes"]["ApproximateReceiveCount"] = "2"
    run_webhooks([message])
    before, after = receivers.posts
    assert verify_signature(alice, before.headers["Tasklane-Signature"], before.body)
    assert verify_signature(new, after.headers["Tasklane-Signature"], after.body)
    assert not verify_signature(alice, after.headers["Tasklane-Signature"], after.body)
    assert not verify_signature(bob, before.headers["Tasklane-Signature"], before.body)


def test_a_first_delivery_makes_the_owner_s_secret_which_they_read_afterwards(tasklane, bus, stream, hooks, receivers):
    finished_with_callback(tasklane, stream)
    run_webhooks(webhook_messages(tasklane))
    (post,) = receivers.posts
    assert verify_signature(secret_of(tasklane), post.headers["Tasklane-Signature"], post.body)


def test_the_secret_is_never_logged(tasklane, bus, stream, hooks, receivers, capsys):
    receivers.codes = [500]
    finished_with_callback(tasklane, stream)
    run_webhooks(webhook_messages(tasklane))
    secret = secret_of(tasklane)
    tasklane.call(api_event("rotate_webhook_secret"))
    captured = capsys.readouterr()
    assert secret[6:] not in captured.out + captured.err


def test_signatures_round_trip_and_refuse_tampering_expiry_and_garbage():
    from tasklane_client.webhooks import sign

    from tasklane.model.callbacks import signature

    body, now = b'{"event":"Task Completed"}', 1_800_000_000
    header = signature("whsec_k", now, body)
    assert header == sign("whsec_k", body, now)  # the client's and the service's are the same
    assert verify_signature("whsec_k", header, body, now=now)
    assert verify_signature("whsec_k", header, body.decode(), now=now + 300)  # at the tolerance
    assert not verify_signature("whsec_k", header, body, now=now + 301)  # just past it
    assert not verify_signature("whsec_k", header, body, now=now - 301)  # from the future
    assert verify_signature("whsec_k", header, body, tolerance=3600, now=now + 3000)
    assert not verify_signature("whsec_k", header, body + b" ", now=now)
    assert not verify_signature("whsec_other", header, body, now=now)
    assert not verify_signature("whsec_k", header.replace(f"t={now}", f"t={now + 1}"), body, now=now)
    for garbage in (None, "", "v1=abc", f"t={now}", f"t=x,v1={header[-64:]}", "nonsense"):
        assert not verify_signature("whsec_k", garbage, body, now=now)
    # Several v1 entries (one per valid secret): any one may match.
    assert verify_signature("whsec_k", f"{header},v1={'0' * 64}", body, now=now)


def test_the_backoff_doubles_with_jitter_and_is_capped_at_two_hours():
    from tasklane.logic.webhooks import MAX_BACKOFF_SECONDS, backoff

    for attempt, nominal in ((1, 30), (2, 60), (3, 120), (8, 3840)):
        waits = {backoff(attempt, 30) for _ in range(50)}
        assert all(nominal / 2 <= w <= nominal for w in waits)
        assert len(waits) > 1
    assert all(MAX_BACKOFF_SECONDS / 2 <= backoff(40, 30) <= MAX_BACKOFF_SECONDS for _ in range(50))


class _Receiver(http.server.BaseHTTPRequestHandler):
    seen: list  # (path, headers, body)
    answer = 200

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append((self.path, dict(self.headers), body))
        self.send_response(self.answer)
        self.send_header("Location", "http://169.254.169.254/")  # a redirect is never followed
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def loopback_receiver():
    _Receiver.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_real_post_reaches_a_receiver_on_the_loopback_and_a_redirect_is_not_followed(loopback_receiver):
    from ipaddress import ip_address

    from tasklane.destinations import receivers
    from tasklane.destinations.urls import parse_target

    port = loopback_receiver.server_address[1]
    target = parse_target(f"http://127.0.0.1:{port}/hook?x=1", allow_loopback=True)
    headers = {"Content-Type": "application/json", "Tasklane-Signature": "t=1,v1=00"}
    request = receivers.Post(target, ip_address("127.0.0.1"), b'{"a":1}', headers)
    assert receivers.post(request) == 200
    _Receiver.answer = 302
    assert receivers.post(request) == 302
    _Receiver.answer = 200
    assert [(path, body) for path, _, body in _Receiver.seen] == [("/hook?x=1", b'{"a":1}')] * 2
    assert _Receiver.seen[0][1]["Tasklane-Signature"] == "t=1,v1=00"


def test_a_receiver_that_never_answers_times_out(monkeypatch):
    import socket
    from ipaddress import ip_address

    from tasklane.destinations import receivers
    from tasklane.destinations.urls import parse_target

    monkeypatch.setattr(receivers, "READ_TIMEOUT_SECONDS", 0.3)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # accepts connections, never answers
    try:
        target = parse_target(f"http://127.0.0.1:{silent.getsockname()[1]}/", allow_loopback=True)
        with pytest.raises(receivers.ReceiverUnreachable, match="timed out"):
            receivers.post(receivers.Post(target, ip_address("127.0.0.1"), b"{}", {}))
    finally:
        silent.close()


def test_the_sample_event_is_delivered_and_a_task_gone_with_its_retention_keeps_nothing(tasklane, resolver, receivers):
    resolver.names["example.com"] = ["93.184.215.14"]
    assert run_webhooks([]) == {"batchItemFailures": []}  # events/webhook.json, whose task is not stored
    (post,) = receivers.posts
    assert post.target.host == "example.com"
    assert post.target.scheme == "https"


def test_deliveries_and_failed_attempts_are_counted_by_lane_and_task_type(
    tasklane, bus, stream, hooks, receivers, capsys
):
    receivers.codes = [500, 200]
    finished_with_callback(tasklane, stream)
    assert '"TaskEventPublished":[3.0]' in capsys.readouterr().out  # pending, processing, completed
    (message,) = webhook_messages(tasklane)
    run_webhooks([message])
    message["Attributes"]["ApproximateReceiveCount"] = "2"
    run_webhooks([message])
    out = capsys.readouterr().out
    assert '"WebhookFailed":[1.0]' in out
    assert '"WebhookDelivered":[1.0]' in out
    assert '"task_type":"echo"' in out


def test_a_webhook_message_no_deliverer_can_read_is_kept_on_the_dead_letter_queue(tasklane, bus, hooks, receivers):
    tasklane.sqs.send_message(QueueUrl=tasklane.stack.names["WebhookQueue"], MessageBody='{"task_id": 7}')
    assert run_webhooks(webhook_messages(tasklane)) == {"batchItemFailures": []}
    assert receivers.posts == []
    dead = tasklane.sqs.receive_message(QueueUrl=tasklane.stack.names["WebhookDeadLetterQueue"])["Messages"]
    assert [m["Body"] for m in dead] == ['{"task_id": 7}']


_EXPRESSION_WORDS = {"SET", "REMOVE", "ADD", "DELETE", "AND", "OR", "NOT", "IN", "BETWEEN"}
_EXPRESSION_FUNCTIONS = {"list_append", "if_not_exists", "attribute_exists", "attribute_not_exists", "size"}


def _attributes_named(params):
    """Every attribute a DynamoDB request names: its key and those of its expressions."""
    import re

    names = set(params.get("Key", {}))
    aliases = params.get("ExpressionAttributeNames", {})
    for field in ("UpdateExpression", "ConditionExpression", "ProjectionExpression"):
        text = re.sub(r":\w+", " ", params.get(field, ""))
        text = re.sub(r"#\w+", lambda m: aliases[m.group(0)], text)
        words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))
        names |= words - _EXPRESSION_WORDS - _EXPRESSION_FUNCTIONS
    return names


def test_the_webhook_function_touches_only_the_deliveries_of_a_task(
    tasklane, bus, stream, hooks, receivers, monkeypatch
):
    """What template.yaml's WebhookRole allows on the tasks table (dynamodb:Attributes, Select, ReturnValues;
    the emulator does not evaluate them): the key and the delivery list, the list read alone, no item back.
    Fifteen attempts: the list fills, then each delivery trims it (the read and the conditional write)."""
    import botocore.client

    from tasklane.data.tasks.deliveries import DELIVERY_ATTRIBUTES
    from tasklane.data.webhook_queue import WebhookQueue

    monkeypatch.setattr(WebhookQueue, "postpone", lambda self, handle, seconds: None)
    receivers.codes = [500]
    finished_with_callback(tasklane, stream)
    (message,) = webhook_messages(tasklane)
    table = tasklane.stack.names["TasksTable"]
    requests = []
    make_call = botocore.client.BaseClient._make_api_call

    def recording(client, operation, params):
        if params.get("TableName") == table:
            requests.append((operation, params))
        return make_call(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    for attempt in range(1, 16):
        message["Attributes"]["ApproximateReceiveCount"] = str(attempt)
        run_webhooks([message])
    monkeypatch.undo()
    assert {operation for operation, _ in requests} == {"UpdateItem", "GetItem"}
    for operation, params in requests:
        assert _attributes_named(params) <= set(DELIVERY_ATTRIBUTES), (operation, params)
        assert params.get("ReturnValues", "NONE") in ("NONE", "UPDATED_OLD", "UPDATED_NEW")
        assert params.get("ReturnValuesOnConditionCheckFailure", "NONE") == "NONE"
        if operation == "GetItem":
            assert "ProjectionExpression" in params  # Select SPECIFIC_ATTRIBUTES
