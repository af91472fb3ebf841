"""CI's share of the simulation: a fixed set of seeds (make simulate explores fresh ones)."""

from __future__ import annotations

import pytest

from tests.simulation.simulation import run_scenario

STEPS = 500
# Seeds that found defects since fixed, kept in the fixed set: 51, 95, 121 and 154 (and, with later actors,
# 31, 48, 140, 171 and 199) found starts above
# a rate (a take that landed late left its next start in the past: 6 starts of a 5/s type within one
# second), fixed by taking the start in the claim's own transaction (tasklane.data.claims); seed 2
# (0 with later actors) found a keyed batch replayed with new task ids, fixed by ids derived per item.
CI_SEEDS = range(200)


@pytest.mark.parametrize("seed", CI_SEEDS)
def test_scenario(seed: int) -> None:
    counts = run_scenario(seed, STEPS)
    assert counts["lost"] == counts["unexpected"] == counts["duplicated"] == 0
    assert counts["steps"] == STEPS


def test_a_seed_replays_exactly() -> None:
    assert run_scenario(7, 200) == run_scenario(7, 200)


def test_a_keyed_batch_replay_never_makes_a_second_task() -> None:
    """Seed 0 (seed 2 before the async and webhook actors joined): a keyed POST /tasks/batch whose
    Lambda timed out after its tasks were stored, replayed."""
    run_scenario(0, STEPS)
