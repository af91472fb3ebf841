"""make simulate: `python -m tests.simulation --seed N` replays scenario N; without a seed, fresh
seeds run until the budget (seconds) is spent. A failure prints its seed and exits 1."""

from __future__ import annotations

import argparse
import random
import sys
import time

from tests.simulation.simulation import run_scenario
from tests.simulation.world.history import Violation


def main() -> int:
    parser = argparse.ArgumentParser(prog="make simulate")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--budget", type=float, default=600.0)
    args = parser.parse_args()
    if args.seed is not None:
        seeds = iter([args.seed])
    else:
        first = random.SystemRandom().randrange(10**9)
        seeds = iter(range(first, first + 10**9))
    started, done, steps = time.monotonic(), 0, 0
    for seed in seeds:
        try:
            counts = run_scenario(seed, args.steps)
        except Violation as exc:
            print(f"FAILED {exc}", flush=True)
            return 1
        done, steps = done + 1, steps + counts["steps"]
        if args.seed is not None:
            print(f"seed {seed}: {counts}")
        if time.monotonic() - started > args.budget:
            break
    spent = time.monotonic() - started
    print(f"{done} scenarios, {steps} steps in {spent:.1f} s ({steps / spent:.0f} steps/s): no violation")
    return 0


if __name__ == "__main__":
    sys.exit(main())
