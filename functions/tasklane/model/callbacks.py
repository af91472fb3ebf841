"""A task's callback: the URL its webhook is posted to, the deliveries the task shows, and the
signature every delivery carries. The rules that URL must meet are tasklane.destinations.urls: only
the functions that take or post to a callback URL load them (and the address rules they use).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from tasklane.records import record


@record(slots=True)
class CallbackDelivery:
    """One attempt to deliver a task's webhook: the receiver's HTTP status, or why none came back."""

    at: str  # ISO 8601 UTC, as every tasklane timestamp
    attempt: int
    status: str  # the task status the webhook reported (completed, failed, cancelled)
    delivered: bool
    status_code: int | None = None
    error: str | None = None

    def public(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "attempt": self.attempt,
            "status": self.status,
            "delivered": self.delivered,
            "status_code": self.status_code,
            "error": self.error,
        }


@record(slots=True)
class Callback:
    """The callback a task was submitted with, and its last deliveries (oldest first)."""

    url: str
    deliveries: tuple[CallbackDelivery, ...] = ()

    def public(self) -> dict[str, Any]:
        return {"url": self.url, "deliveries": [d.public() for d in self.deliveries]}


SIGNATURE_HEADER = "Tasklane-Signature"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The Tasklane-Signature value: t=<unix seconds>,v1=<HMAC-SHA256 hex of "<t>.<body>"> under the
    owner's secret (its text's UTF-8 bytes are the key)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
