"""Execution rates: "5/s", "100/m", "1000/h", as a task type declares its limit and a stack overrides it."""

from __future__ import annotations

import math
import re

from tasklane.records import record

SPACING_MARGIN = 1.10
_RATE = re.compile(r"^\s*(?P<count>\d+)\s*/\s*(?P<unit>s|m|h)\s*$")
_SECONDS = {"s": 1, "m": 60, "h": 3600}


@record(slots=True)
class Rate:
    """At most `count` starts per `per_seconds`, spaced evenly (no burst: one start every interval)."""

    count: int
    per_seconds: int

    @property
    def interval_ms(self) -> int:
        """The time between two starts, with a 10% margin: the processors' clocks, and the claim write
        that follows a grant must never put one more start into a window than the rate allows."""
        return max(1, math.ceil(self.per_seconds * 1000 * SPACING_MARGIN / self.count))

    def __str__(self) -> str:
        unit = {1: "s", 60: "m", 3600: "h"}[self.per_seconds]
        return f"{self.count}/{unit}"


def parse_rate(text: str) -> Rate:
    """A rate from its text; ValueError naming the expected form otherwise."""
    match = _RATE.match(text)
    if not match or int(match["count"]) < 1:
        raise ValueError(f"invalid rate {text!r}: expected a positive count per s, m or h, e.g. 5/s, 100/m, 1000/h")
    return Rate(int(match["count"]), _SECONDS[match["unit"]])


def parse_overrides(text: str) -> dict[str, Rate | None]:
    """A stack's per-type overrides: "send_email=10/s,resize_image=none" (none lifts a type's limit)."""
    overrides: dict[str, Rate | None] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"invalid rate override {part!r}: expected task_type=RATE or task_type=none")
        overrides[name.strip()] = None if value.strip().lower() == "none" else parse_rate(value)
    return overrides
