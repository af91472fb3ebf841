"""Time in the two forms tasklane stores: ISO 8601 UTC text and epoch seconds."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())
