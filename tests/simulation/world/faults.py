"""What can go wrong in one scenario, and how often: drawn from the scenario's seed, so that some
scenarios are calm and others stormy. During the drain at the end every fault is off."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass
class Faults:
    rng: random.Random
    db_throttle: float = 0.0  # a call refused after the SDK's retries
    db_retried: float = 0.0  # a write applied, its answer lost, the SDK sent it again
    db_lost: float = 0.0  # a write applied, its answer lost for good (the caller sees an error)
    crash: float = 0.0  # the invocation dies before or after a call
    sqs_fail: float = 0.0
    sqs_duplicate: float = 0.0
    skew_ms: int = 0  # each invocation's clock is off by up to this much, either way
    quiet: bool = False

    @classmethod
    def draw(cls, rng: random.Random) -> Faults:
        level = rng.choice([0.0, 0.3, 1.0, 1.0, 2.0])  # calm, light, usual, usual, stormy
        return cls(
            rng=rng,
            db_throttle=0.01 * level,
            db_retried=0.015 * level,
            db_lost=0.01 * level,
            crash=0.006 * level,
            sqs_fail=0.01 * level,
            sqs_duplicate=0.04 * level,
            skew_ms=rng.choice([0, 0, 20, 100]),
        )

    def _roll(self, p: float) -> bool:
        return not self.quiet and p > 0 and self.rng.random() < p

    def dynamodb(self, write: bool) -> str | None:
        if self._roll(self.crash):
            return self.rng.choice(["crash-before", "crash-after"])
        if self._roll(self.db_throttle):
            return "throttled"
        if write and self._roll(self.db_retried):
            return "retried"
        if write and self._roll(self.db_lost):
            return "lost"
        return None

    def unprocessed(self) -> bool:
        """An item of a BatchWriteItem left unprocessed (throttled)."""
        return self._roll(self.db_throttle * 5)

    def sqs(self) -> str | None:
        if self._roll(self.crash):
            return "crash-before"
        return "fail" if self._roll(self.sqs_fail) else None

    def sqs_entry_fails(self) -> bool:
        return self._roll(self.sqs_fail)

    def duplicate(self) -> bool:
        return self._roll(self.sqs_duplicate)
