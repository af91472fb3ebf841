"""Time in the two forms tasklane stores: ISO 8601 UTC text and epoch seconds."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now() -> datetime:
    """The current UTC time at the millisecond precision tasklane stores."""
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def sleep(seconds: float) -> None:
    """Wait (through here, so that tests can move tasklane's clock instead)."""
    time.sleep(seconds)
