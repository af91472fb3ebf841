"""CI's share of the simulation: a fixed set of seeds (make simulate explores fresh ones)."""

from __future__ import annotations

import pytest

from tests.simulation.simulation import run_scenario

CI_SEEDS = range(200)
STEPS = 500


@pytest.mark.parametrize("seed", CI_SEEDS)
def test_scenario(seed: int) -> None:
    counts = run_scenario(seed, STEPS)
    assert counts["lost"] == counts["unexpected"] == counts["duplicated"] == 0
    assert counts["steps"] == STEPS


def test_a_seed_replays_exactly() -> None:
    assert run_scenario(7, 200) == run_scenario(7, 200)
