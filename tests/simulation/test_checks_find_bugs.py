"""The simulation is only worth its seeds if it fails on a broken tasklane: each test here breaks one
guarantee on purpose and requires a violation within a few scenarios."""

from __future__ import annotations

import pytest

from tasklane.data.tasks import workflow_tasks
from tasklane.logic import claims, execution
from tests.simulation.simulation import run_scenario
from tests.simulation.world import actors
from tests.simulation.world.history import Violation


def _first_violation(seeds: range, steps: int = 500, wanted: tuple[str, ...] = ()) -> str:
    """The first violation (of one of the `wanted` kinds, when given: a planted bug may break
    other guarantees on the way, e.g. a duplicate run also spends a rate start)."""
    for seed in seeds:
        try:
            run_scenario(seed, steps)
        except Violation as exc:
            if not wanted or any(w in str(exc) for w in wanted):
                return str(exc)
    raise AssertionError("no scenario found the planted bug")


def test_a_lease_that_ends_before_the_run_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(execution, "LEASE_SKEW_SECONDS", -3600)  # the lease is over as the run starts
    # A duplicate takes the task over while it runs, or the owner's slot (held until the lease ends)
    # is taken by another run.
    assert _first_violation(range(20), wanted=("two live runs", "tasks at once"))


def test_a_rate_not_held_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(claims, "rate_of", lambda message, services: (None, ""))
    # A run with no start granted, or (found first, at its claim) more claims in a second than the rate.
    assert _first_violation(range(20), wanted=("without a start granted", "starts within"))


def test_a_rate_granted_twice_as_fast_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    real = claims.rate_of
    monkeypatch.setattr(
        claims,
        "rate_of",
        lambda message, services: (
            ((r := found[0]) and type(r)(r.count * 2, r.per_seconds), found[1])
            if (found := real(message, services))
            else found
        ),
    )
    # Rated bursts (actors.rated_burst) give the rate something to space: found within 40 seeds.
    assert "starts within" in _first_violation(range(40))


def test_no_reconciler_loses_tasks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(actors, "reconcile", lambda services: None)
    assert "lost" in _first_violation(range(20))


def test_a_barrier_counted_down_twice_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each end counts its barrier down by two: the next node is released before its last input
    ended (or the barrier goes below zero)."""
    real = workflow_tasks.n_attr
    monkeypatch.setattr(workflow_tasks, "n_attr", lambda v: real(-2 if v == -1 else v))
    found = _first_violation(range(20))
    assert "before its input" in found or "below zero" in found


def test_a_release_that_does_not_wait_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tasks after a barrier are released as soon as any input ends."""
    from tasklane.logic.workflows import progress

    real = progress.advance
    monkeypatch.setattr(
        progress, "after_end", lambda stored, services, *, failed: _advance_anyway(stored, services, real)
    )
    assert "before its input" in _first_violation(range(20))


def _advance_anyway(stored, services, advance):  # type: ignore[no-untyped-def]
    from tasklane.logic.workflows import progress

    workflow_id, index = stored.task.workflow_id, stored.workflow_before
    workflow = services.store.workflows().get_workflow(workflow_id) if workflow_id else None
    if workflow is None or index is None or index == workflow.plan.end.index:
        return
    progress.start(workflow, index, services.store.workflows(), services)


def test_a_completion_accepted_without_its_lease_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """An async attempt's end is written whatever its lease: a late worker's call is taken."""
    from tasklane.data.tasks.store import TaskStore
    from tasklane.logic import async_tasks

    monkeypatch.setattr(async_tasks, "_holds", lambda stored, now: True)
    monkeypatch.setattr(TaskStore, "within_lease", lambda self: self)
    assert "after its lease" in _first_violation(range(40), wanted=("after its lease",))


def test_a_completion_by_an_earlier_attempts_token_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any token the task ever had ends its current attempt (a stale worker finishes a newer attempt)."""
    from tasklane.logic import async_tasks
    from tasklane.model.errors import InvalidTransition, TaskNotFound
    from tasklane.model.task import TaskStatus

    def any_attempt(task_id, token, services, now):  # type: ignore[no-untyped-def]
        stored = services.store.get(task_id)
        if stored is None or all(kept != async_tasks.token_hash(token) for _, kept in stored.tokens):
            raise TaskNotFound(task_id)
        if stored.task.status is not TaskStatus.PROCESSING or stored.async_until is None:
            raise InvalidTransition(task_id, stored.task.status.value, "finish")
        if not async_tasks._holds(stored, now):
            raise async_tasks._over(stored)
        return stored

    monkeypatch.setattr(async_tasks, "_attempt_of", any_attempt)
    assert "token" in _first_violation(range(40), wanted=("token",))


def test_a_webhook_for_an_unfinished_task_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every status change of a task with a callback is taken for its end and posted."""
    from tasklane.data.tasks.changes import StatusChange

    monkeypatch.setattr(StatusChange, "terminal", property(lambda self: True))
    assert "did not finish so" in _first_violation(range(40))


def test_a_webhook_never_attempted_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """The events logic loses the webhook of some ends (its queue send is dropped)."""
    from tasklane.data.webhook_queue import WebhookQueue

    real = WebhookQueue.send
    monkeypatch.setattr(WebhookQueue, "send", lambda self, body: None if '"failed"' in body else real(self, body))
    assert "never attempted" in _first_violation(range(40))
