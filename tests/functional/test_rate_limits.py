"""Rate limits per task type and fair share per owner: the limiter's arithmetic on the real table
shape (moto), and what a user sees: a held task keeps its attempts and says why it waits."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime

import pytest

from tasklane.model.rates import Rate, parse_overrides, parse_rate
from tests.events import ALICE, BOB, api_event
from tests.functional.test_limits import reconfigure


def submit(tasklane, task_type="send_email", payload=None, owner=ALICE, **fields):
    payload = payload if payload is not None else {"to": "ada@example.com", "subject": "hi"}
    body = {"task_type": task_type, "payload": payload, **fields}
    answer = tasklane.call(api_event("submit_task", owner=owner, body=body, headers={"Idempotency-Key": None}))
    assert answer.status == 202, answer.body
    return answer.body["task_id"]


def get(tasklane, task_id, owner=ALICE):
    return tasklane.call(api_event("get_task", task_id=task_id, owner=owner)).body


# --- rates ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rate"),
    [("5/s", Rate(5, 1)), ("100/m", Rate(100, 60)), ("1000/h", Rate(1000, 3600)), (" 7 / s ", Rate(7, 1))],
)
def test_rates_are_read_from_their_text(text, rate):
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["0/s", "5", "5/d", "-1/s", "five/s", ""])
def test_a_rate_that_is_not_one_is_refused(text):
    with pytest.raises(ValueError, match="expected a positive count"):
        parse_rate(text)


def test_stack_overrides_name_a_rate_or_lift_it():
    assert parse_overrides("") == {}
    assert parse_overrides("send_email=10/s, resize_image=none") == {"send_email": Rate(10, 1), "resize_image": None}
    with pytest.raises(ValueError, match="task_type=RATE"):
        parse_overrides("send_email")


@pytest.fixture
def limits(tasklane):
    from tasklane.data.services import services

    return services().limits


@pytest.fixture
def take(tasklane):
    """One start under a rate, as a claim takes it (a fresh pending task claimed at `now_ms` with its
    start, in one transaction): 0 when granted, else the milliseconds until the next is allowed."""
    from tasklane.data.claims import RateRefused, RateStart, claim_change
    from tasklane.data.services import services

    def take(key: str, rate: Rate, now_ms: int) -> int:
        task_id = submit(tasklane, "echo", {})
        now = datetime.fromtimestamp(now_ms / 1000, UTC)
        try:
            services().claims.claim_with_start(
                task_id, 1, claim_change(ALICE, now, now_ms // 1000 + 60), RateStart(key, rate.interval_ms), now_ms
            )
        except RateRefused as refused:
            assert get(tasklane, task_id)["status"] == "pending"  # refused: the task is not claimed either
            return refused.wait_ms
        assert get(tasklane, task_id)["started_at"] == now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return 0

    return take


def test_the_limiter_spaces_starts_one_interval_apart_with_no_burst(take):
    rate = Rate(5, 1)
    assert rate.interval_ms == 220  # one start every 200 ms, and a 10% margin
    assert take("rate#t", rate, 1_000) == 0
    assert take("rate#t", rate, 1_000) == 220  # same millisecond: the next start is an interval away
    assert take("rate#t", rate, 1_219) == 1  # one millisecond short
    assert take("rate#t", rate, 1_220) == 0  # exactly on time
    assert take("rate#t", rate, 9_000) == 0  # idle for long: no credit saved up (no burst)
    assert take("rate#t", rate, 9_100) == 120


def test_concurrent_takers_share_one_allowance(take):
    """Ten processors asking in the same millisecond: one start is granted, the others wait."""
    rate = Rate(5, 1)
    answers = [take("rate#c", rate, 50_000) for _ in range(10)]
    assert answers.count(0) == 1
    assert all(wait == rate.interval_ms for wait in answers if wait)


def test_limits_of_different_types_do_not_touch(take):
    assert take("rate#a", Rate(1, 60), 0) == 0
    assert take("rate#b", Rate(1, 60), 0) == 0
    assert take("rate#a", Rate(1, 60), 1) == Rate(1, 60).interval_ms - 1


def test_no_sliding_second_holds_more_starts_than_the_rate(take):
    rate, now, granted = Rate(5, 1), 0, []
    while now < 10_000:  # processors asking every 37 ms for ten seconds
        if take("rate#w", rate, now) == 0:
            granted.append(now)
        now += 37
    assert max(sum(1 for g in granted if start <= g < start + 1000) for start in granted) == 5
    assert 10_000 // (220 + 37) <= len(granted) <= 50  # a start needs an ask: at most one 37 ms late


# --- what a user sees -----------------------------------------------------------------------------------


def test_the_tasks_of_a_batch_of_one_type_wait_their_turn_in_place(tasklane, visibility_calls):
    """A start due within two seconds is waited for in the invocation, not sent round the queue."""
    ids = [submit(tasklane) for _ in range(3)]
    response = tasklane.process("normal", tasklane.receive("normal"))
    assert (response["batchItemFailures"], visibility_calls) == ([], [])
    tasks = [get(tasklane, t) for t in ids]
    assert {t["status"] for t in tasks} == {"completed"}
    starts = sorted(datetime.fromisoformat(t["started_at"]) for t in tasks)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(starts)]
    # Starts are granted an interval and its margin (0.22 s) apart; started_at is the claim's clock a
    # moment after its grant, so two of them may come a few milliseconds closer, never a rate's 0.2.
    assert all(0.21 <= gap < 0.5 for gap in gaps), gaps


def test_a_task_over_its_types_rate_waits_keeps_its_attempts_and_says_why(tasklane, monkeypatch, visibility_calls):
    reconfigure(tasklane, monkeypatch, RATE_LIMITS="send_email=1/m")
    first, second = submit(tasklane), submit(tasklane)
    messages = tasklane.receive("normal")
    response = tasklane.process("normal", messages)
    held = [m for m in messages if json.loads(m["Body"])["task_id"] == second]
    assert response["batchItemFailures"] == [{"itemIdentifier": held[0]["MessageId"]}]
    assert visibility_calls == [66]  # back when a start is due (a minute, and the 10% margin)
    assert get(tasklane, first)["status"] == "completed"
    waiting = get(tasklane, second)
    assert (waiting["status"], waiting["attempts"], waiting["waiting_for"]) == ("pending", 0, "rate_limit")
    tasklane.pass_time(66)
    tasklane.process("normal", held)
    done = get(tasklane, second)
    assert (done["status"], done["attempts"], done["waiting_for"]) == ("completed", 1, None)


def test_a_stack_can_lift_or_set_a_rate_without_code(tasklane, monkeypatch):
    reconfigure(tasklane, monkeypatch, RATE_LIMITS="send_email=none,echo=1/m")
    emails = [submit(tasklane) for _ in range(3)]
    echoes = [submit(tasklane, "echo", {"n": i}) for i in range(2)]
    tasklane.drain("normal")
    assert {get(tasklane, t)["status"] for t in emails} == {"completed"}
    assert sorted(get(tasklane, t)["status"] for t in echoes) == ["completed", "pending"]


def test_a_duplicate_of_a_finished_task_is_acknowledged_even_when_its_type_is_throttled(tasklane):
    task_id = submit(tasklane)
    message = tasklane.receive("normal")
    tasklane.process("normal", message)
    assert get(tasklane, task_id)["status"] == "completed"
    duplicate = [dict(message[0], MessageId="duplicate")]
    assert tasklane.process("normal", duplicate)["batchItemFailures"] == []


def test_held_deliveries_are_counted_by_type_and_owner(tasklane, monkeypatch, capfd):
    reconfigure(tasklane, monkeypatch, RATE_LIMITS="send_email=1/m")
    submit(tasklane), submit(tasklane)
    capfd.readouterr()
    tasklane.process("normal", tasklane.receive("normal"))
    lines = [json.loads(line) for line in capfd.readouterr().out.splitlines() if line.startswith("{")]
    throttled = [line for line in lines if "TaskThrottled" in line]
    assert throttled == [
        {
            **throttled[0],
            "task_type": "send_email",
            "owner": ALICE,
            "TaskThrottled": [1.0],
        }
    ]


# --- fair share -----------------------------------------------------------------------------------------


def test_each_owner_is_its_own_message_group_on_the_lane(tasklane):
    submit(tasklane, "echo", {}), submit(tasklane, "echo", {}, owner=BOB)
    groups = {m["Attributes"].get("MessageGroupId") for m in tasklane.receive("normal")}
    assert groups == {ALICE, BOB}


def test_an_owner_at_its_cap_waits_while_another_owner_runs(tasklane, monkeypatch, limits):
    from tasklane.model import clock

    reconfigure(tasklane, monkeypatch, OWNER_CONCURRENCY_CAP="1")
    far = clock.epoch(clock.now()) + 600
    assert limits.hold_slot(f"slots#normal#{ALICE}", f"running-elsewhere@{far}", 1, clock.epoch(clock.now()))
    alice, bob = submit(tasklane, "echo", {}), submit(tasklane, "echo", {}, owner=BOB)
    messages = tasklane.receive("normal")
    tasklane.process("normal", messages)
    assert (get(tasklane, alice)["status"], get(tasklane, alice)["waiting_for"]) == ("pending", "owner_concurrency")
    assert get(tasklane, alice)["attempts"] == 0
    assert get(tasklane, bob, owner=BOB)["status"] == "completed"
    limits.free_slot(f"slots#normal#{ALICE}", f"running-elsewhere@{far}")  # the other run ends
    tasklane.pass_time(2)  # and its message comes back
    tasklane.process("normal", [m for m in messages if json.loads(m["Body"])["task_id"] == alice])
    assert get(tasklane, alice)["status"] == "completed"


def test_an_owners_flood_stays_away_longer_each_time_it_is_held_and_says_why_once(
    tasklane, monkeypatch, limits, visibility_calls
):
    """Held for its owner's share, a message comes back after 2-6 s, then 4-12 s, 8-24 s, ... up to a
    minute: a flood spreads out behind other owners' messages instead of standing in front of them.
    Its waiting reason is written on its first hold, not on every one."""
    from tasklane.data.tasks.store import TaskStore
    from tasklane.logic import throttling
    from tasklane.model import clock

    writes: list[str] = []
    original = TaskStore.mark_waiting
    monkeypatch.setattr(TaskStore, "mark_waiting", lambda self, t, r: writes.append(r) or original(self, t, r))
    reconfigure(tasklane, monkeypatch, OWNER_CONCURRENCY_CAP="1")
    far = clock.epoch(clock.now()) + 3600
    assert limits.hold_slot(f"slots#normal#{ALICE}", f"running-elsewhere@{far}", 1, clock.epoch(clock.now()))
    task_id = submit(tasklane, "echo", {})
    message = tasklane.receive("normal")[0]
    for receives in (1, 2, 3):  # the fourth would be sent afresh: the DLQ's receives are for crashes
        message["Attributes"]["ApproximateReceiveCount"] = str(receives)
        tasklane.process("normal", [message])
    assert [2 <= visibility_calls[0] <= 6, 4 <= visibility_calls[1] <= 12, 8 <= visibility_calls[2] <= 24] == [True] * 3
    assert {throttling.slot_retry_seconds(n) for n in range(5, 200) for _ in range(5)} <= set(range(32, 61))
    assert (writes, get(tasklane, task_id)["waiting_for"]) == (["owner_concurrency"], "owner_concurrency")


def test_a_processor_passing_over_a_flood_sends_it_away_for_longer(tasklane, monkeypatch, limits, visibility_calls):
    """Forty of one owner's messages held within seconds: the later ones stay away ~half a second for
    each held before them (up to a minute), so the pass over the flood reaches what lies behind it."""
    from tasklane.model import clock

    reconfigure(tasklane, monkeypatch, OWNER_CONCURRENCY_CAP="1")
    moment = clock.now()
    monkeypatch.setattr(clock, "now", lambda: moment)  # all within the same moment, however slow this machine
    far = clock.epoch(clock.now()) + 3600
    assert limits.hold_slot(f"slots#normal#{ALICE}", f"running-elsewhere@{far}", 1, clock.epoch(clock.now()))
    for _ in range(40):
        submit(tasklane, "echo", {})
    while messages := tasklane.receive("normal"):
        tasklane.process("normal", messages)
    # The pass over the flood holds each message once (on a slow machine, a message held for 2 s may
    # come back before the pass ends and be held again: the pass is its first 40 holds).
    assert len(visibility_calls) >= 40
    first_pass = visibility_calls[:40]
    assert max(first_pass[:4]) <= 6  # the first few: as any held message
    assert min(first_pass[-5:]) >= 15
    assert max(visibility_calls) <= 60


def test_a_slot_whose_run_died_is_freed_when_its_lease_ends(limits):
    key = "slots#normal#carol"
    assert limits.hold_slot(key, "dead@100", 1, 50)
    assert not limits.hold_slot(key, "next@300", 1, 99)  # the dead run's lease has not ended yet
    assert limits.hold_slot(key, "next@300", 1, 101)  # it has: its slot is taken back


def test_a_run_gives_its_slot_back_when_it_ends(tasklane, monkeypatch, limits):
    reconfigure(tasklane, monkeypatch, OWNER_CONCURRENCY_CAP="1")
    for _ in range(3):
        submit(tasklane, "echo", {})
        tasklane.drain("normal")
    item = tasklane.dynamodb.get_item(
        TableName=tasklane.stack.names["LimitsTable"], Key={"limit_key": {"S": f"slots#normal#{ALICE}"}}
    ).get("Item", {})
    assert item.get("holders", {}).get("SS", []) == []
