"""The simulation is only worth its seeds if it fails on a broken tasklane: each test here breaks one
guarantee on purpose and requires a violation within a few scenarios."""

from __future__ import annotations

import pytest

from tasklane.logic import claims, execution
from tests.simulation.simulation import run_scenario
from tests.simulation.world import actors
from tests.simulation.world.history import Violation


def _first_violation(seeds: range, steps: int = 500) -> str:
    for seed in seeds:
        try:
            run_scenario(seed, steps)
        except Violation as exc:
            return str(exc)
    raise AssertionError("no scenario found the planted bug")


def test_a_lease_that_ends_before_the_run_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(execution, "LEASE_SKEW_SECONDS", -3600)  # the lease is over as the run starts
    found = _first_violation(range(20))
    # A duplicate takes the task over while it runs, or the owner's slot (held until the lease ends)
    # is taken by another run.
    assert "two live runs" in found or "tasks at once" in found


def test_a_rate_not_held_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(claims, "rate_of", lambda message, services: (None, ""))
    assert "without a start granted" in _first_violation(range(20))


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
    assert "starts within" in _first_violation(range(200))


def test_no_reconciler_loses_tasks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(actors, "reconcile", lambda services: None)
    assert "lost" in _first_violation(range(20))
