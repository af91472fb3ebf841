"""The stack's EventBridge bus: events put in chunks of ten, each entry's failure told apart."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tasklane.observability import logger

PUT_EVENTS_LIMIT = 10  # entries per PutEvents request


class EventBus:
    def __init__(self, client: Any, name: str) -> None:
        self._events = client
        self.name = name

    def publish(self, entries: list[dict[str, Any]]) -> set[int]:
        """Put every entry on the bus; the indexes of those that were not taken."""
        failed: set[int] = set()
        for start in range(0, len(entries), PUT_EVENTS_LIMIT):
            chunk = entries[start : start + PUT_EVENTS_LIMIT]
            try:
                answer = self._events.put_events(Entries=[{**e, "EventBusName": self.name} for e in chunk])
            except (ClientError, BotoCoreError) as exc:
                logger.warning("PutEvents failed", extra={"error": str(exc)[:300], "entries": len(chunk)})
                failed.update(range(start, start + len(chunk)))
                continue
            for offset, result in enumerate(answer.get("Entries", [])):
                if result.get("ErrorCode"):
                    logger.warning("an event was not taken", extra={"error_code": result["ErrorCode"]})
                    failed.add(start + offset)
            # An answer with fewer results than entries leaves the rest unconfirmed: put them again.
            failed.update(range(start + len(answer.get("Entries", [])), start + len(chunk)))
        return failed
