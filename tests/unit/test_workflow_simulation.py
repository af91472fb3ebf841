"""Random workflows under duplicate deliveries, crashes between writes, lost answers and children
ending at the same instant (tests/unit/workflow_sim.py): every node starts once, after everything it
waits for, and every workflow ends. A fixed set of seeds here; bench/workflow_simulation.py runs 10,000."""

from __future__ import annotations

import pytest

from tests.unit.workflow_sim import simulate


@pytest.mark.parametrize("seed", range(40))
def test_random_workflows_start_every_node_once_after_what_it_waits_for(seed):
    outcome = simulate(seed, trees=5, max_tasks=30)
    assert outcome.violations == []
    assert (outcome.started_twice, outcome.never_started, outcome.started_early, outcome.not_finished) == (0, 0, 0, 0)
    assert outcome.wrong_results == 0
    assert outcome.tasks > 0


def test_without_the_reconciler_a_crash_after_a_tasks_end_would_strand_the_workflow(monkeypatch):
    """The check can fail: with the repair pass turned off, crashes leave workflows unfinished."""
    from tasklane.logic.workflows import repair

    monkeypatch.setattr(repair, "repair_workflows", lambda services: None)
    stranded = sum(simulate(seed, trees=5, max_tasks=30, crash=0.3).not_finished for seed in range(10))
    assert stranded > 0
