"""The soak's own checks, offline: a check that cannot fail would let `make soak` pass whatever the
stack did. The sliding second of a rate, a start before its time, and the webhook receiver (its
signature check, its 5xx, its tarpit that measures how long a caller stays)."""

from __future__ import annotations

import http.client
import json
import socket
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tasklane_client import verify_signature

from scripts import soak_receiver
from scripts.soak_receiver import DELIVERED, Receiver, reaction
from scripts.soak_target import Target
from scripts.soak_timing import Lateness, RateFigures, started_early
from scripts.soak_workflows import Submitted, edges
from scripts.soak_workflows import figures as workflow_figures

T0 = datetime(2026, 12, 6, 14, 0, tzinfo=UTC)
SECRET = "whsec_test"


def _started(*offsets: float) -> list[dict[str, str]]:
    return [{"started_at": (T0 + timedelta(seconds=s)).isoformat()} for s in offsets]


def test_six_starts_within_one_second_break_a_rate_of_five():
    figures = RateFigures.of(5, _started(0, 0.2, 0.4, 0.6, 0.8, 0.999))
    assert figures.most_in_a_second == 6
    assert figures.problems() == [
        "6 starts within one second (rate 5/s): "
        "14:00:00.000, 14:00:00.200, 14:00:00.400, 14:00:00.600, 14:00:00.800, 14:00:00.999"
    ]


def test_six_starts_a_second_apart_end_to_end_keep_a_rate_of_five():
    figures = RateFigures.of(5, _started(0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2))
    assert figures.most_in_a_second == 5
    assert figures.closest == pytest.approx(1.0)
    assert figures.problems() == []
    assert figures.starts == 7
    assert figures.span == pytest.approx(1.2)


def test_a_start_before_run_at_is_early_and_one_at_it_is_not():
    run_at = T0.isoformat()
    early = {"task_id": "a", "run_at": run_at, "started_at": (T0 - timedelta(milliseconds=1)).isoformat()}
    on_time = {"task_id": "b", "run_at": run_at, "started_at": run_at}
    assert [line.split()[0] for line in started_early([early, on_time])] == ["a"]
    assert Lateness.of([on_time]).longest == 0


def test_a_delayed_start_is_due_after_its_creation_and_delay():
    task = {"task_id": "c", "created_at": T0.isoformat(), "delay_seconds": 30}
    assert started_early([{**task, "started_at": (T0 + timedelta(seconds=29.9)).isoformat()}])
    assert not started_early([{**task, "started_at": (T0 + timedelta(seconds=30)).isoformat()}])


def test_reactions_fail_and_tarpit_some_first_calls_and_answer_every_third():
    firsts = [reaction(f"task-{i}", 1) for i in range(2000)]
    assert 0.15 < sum(r in ("500", "502", "503") for r in firsts) / 2000 < 0.25
    assert 0.06 < firsts.count("tarpit") / 2000 < 0.14
    assert {reaction(f"task-{i}", 3) for i in range(200)} == {"200"}
    assert reaction("task-1", 1) == reaction("task-1", 1)  # the same run again


def _tasks_on(answer: str, n: int = 1) -> list[str]:
    """The first n task ids whose first call gets `answer`."""
    return [f"t{i}" for i in range(10_000) if reaction(f"t{i}", 1) == answer][:n]


def _signed(body: bytes, secret: str = SECRET) -> str:
    import hashlib
    import hmac

    now = int(time.time())
    return f"t={now},v1=" + hmac.new(secret.encode(), f"{now}.".encode() + body, hashlib.sha256).hexdigest()


def _post(url: str, body: bytes, signature: str, timeout: float = 5) -> int:
    host, port = url.removeprefix("http://").split("/")[0].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.request("POST", "/hooks/soak", body=body, headers={"Tasklane-Signature": signature})
        return connection.getresponse().status
    finally:
        connection.close()


def _body(task_id: str, status: str = "completed") -> bytes:
    return json.dumps({"event": "Task Completed", "task": {"task_id": task_id, "status": status}}).encode()


@pytest.fixture
def receiver():
    with Receiver(lambda header, body: verify_signature(SECRET, header, body)) as running:
        yield running


def test_a_signed_call_answered_200_is_a_delivery_and_a_badly_signed_one_is_not(receiver):
    good, bad = _tasks_on("200", 2)
    body = _body(good)
    assert _post(receiver.url, body, _signed(body)) == 200
    assert receiver.delivered(good, "completed")
    assert not receiver.delivered(good, "failed")  # another status than the call told
    forged = _body(bad)
    _post(receiver.url, forged, _signed(forged, "another secret"))
    figures = receiver.figures({good: "completed", bad: "completed"})
    assert figures.unsigned == [bad]
    assert figures.undelivered == [bad]
    assert figures.problems(15)[:2] == [f"webhook never delivered: {bad}", f"webhook signature did not verify: {bad}"]


def test_a_failed_call_then_a_good_one_is_delivered_once(receiver):
    task = next(f"t{i}" for i in range(10_000) if reaction(f"t{i}", 1) == "500" and reaction(f"t{i}", 2) == "200")
    body = _body(task)
    assert _post(receiver.url, body, _signed(body)) == 500
    assert not receiver.delivered(task, "completed")
    assert _post(receiver.url, body, _signed(body)) == 200
    figures = receiver.figures({task: "completed"})
    assert figures.answers == {"500": 1, DELIVERED: 1}
    assert figures.undelivered == []
    assert figures.problems(15) == []


def test_the_tarpit_measures_how_long_the_caller_stayed(receiver):
    (task,) = _tasks_on("tarpit")
    body = _body(task)
    port = int(receiver.url.split(":")[2].split("/")[0])
    # A caller with a total deadline of 1.5 s (one with a timeout per read would wait the tarpit out:
    # its bytes come a second apart).
    with socket.create_connection(("127.0.0.1", port)) as caller:
        head = f"POST /hooks/soak HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
        caller.sendall(f"{head}Tasklane-Signature: {_signed(body)}\r\n\r\n".encode() + body)
        time.sleep(1.5)
        assert b"HTTP/1.1 503".startswith(caller.recv(100))  # a byte or two of it so far
    time.sleep(1.5)
    figures = receiver.figures({task: "completed"})
    assert figures.answers == {"tarpit": 1}
    assert 1.4 < figures.longest_tarpit_hold < 2.6
    assert figures.problems(1.0)[0] == f"webhook never delivered: {task}"
    held = figures.longest_tarpit_hold
    assert figures.problems(1.0)[1] == f"a tarpit held a webhook call {held:.1f} s (deadline 1.0 s)"
    assert len(figures.problems(3.0)) == 1


def test_a_caller_that_waits_the_tarpit_out_gets_a_503(receiver, monkeypatch):
    monkeypatch.setattr(soak_receiver, "TARPIT_SECONDS", 2.0)
    (task,) = _tasks_on("tarpit")
    body = _body(task)
    assert _post(receiver.url, body, _signed(body), timeout=5) == 503
    assert not receiver.delivered(task, "completed")


def _node(task_id: str) -> dict[str, Any]:
    return {"task": {"task_id": task_id, "status": "completed"}}


def test_each_workflow_node_waits_for_what_its_shape_says():
    chain = {"chain": [_node("a"), {"group": [_node("b"), _node("c")]}, _node("d")]}
    assert edges(chain, []) == ([("a", []), ("b", ["a"]), ("c", ["a"]), ("d", ["b", "c"])], ["d"])
    chord = {"chord": {"group": [_node("a"), _node("b")], "then": _node("c")}}
    assert edges({"chain": [chord, _node("d")]}, []) == (
        [("a", []), ("b", []), ("c", ["a", "b"]), ("d", ["c"])],
        ["d"],
    )


def test_a_workflow_node_started_before_its_input_finished_is_reported():
    tree = {"chain": [_node("a"), _node("b")]}
    shown = {
        "a": {"started_at": T0.isoformat(), "finished_at": (T0 + timedelta(seconds=2)).isoformat()},
        "b": {"started_at": (T0 + timedelta(seconds=1)).isoformat(), "finished_at": None},
    }

    class Reads:
        def request(self, method: str, path: str) -> Any:
            return type("Answer", (), {"json": lambda _self: shown[path.rsplit("/", 1)[1]]})()

    workflow = Submitted("chain", "w1", 3, status="completed", result=3, tree=tree)
    figures = workflow_figures(Reads(), [workflow])
    assert [e.split()[0] for e in figures.early] == ["b"]
    assert figures.wrong_result == []
    assert figures.problems()[0].startswith("workflow node started before its input finished: b started")
    shown["b"]["started_at"] = shown["a"]["finished_at"]
    assert workflow_figures(Reads(), [workflow]).early == []


def test_a_url_target_task_must_complete_with_its_last_attempts_answer():
    target = Target(lambda header, body: True)
    target.calls.update({"a": [(1, 200, True)], "b": [(1, 200, True), (2, 200, True)], "c": [(1, 200, False)]})
    shown = {
        "a": {"status": "completed", "attempts": 1, "result": {"task_id": "a", "attempt": 1}},
        "b": {"status": "completed", "attempts": 2, "result": {"task_id": "b", "attempt": 1}},
        "c": {"status": "completed", "attempts": 1, "result": {"task_id": "c", "attempt": 1}},
    }
    figures = target.figures(shown, given_up=set())
    assert figures.wrong == ["b"]
    assert figures.answered_twice == ["b"]
    assert figures.unsigned == ["c"]
    assert target.figures(shown, given_up={"b"}).answered_twice == []
