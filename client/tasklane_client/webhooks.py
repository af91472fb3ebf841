"""For webhook receivers: check that a request came from your tasklane, unchanged and recent.

    from tasklane_client import verify_signature

    if not verify_signature(secret, request.headers["Tasklane-Signature"], request.body):
        return 400  # not from tasklane, altered, or replayed later than the tolerance

The secret is yours alone: `Client.webhook_secret()` or `tasklane webhook-secret` reads it.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "Tasklane-Signature"


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """A Tasklane-Signature value for `body` (what tasklane sends; useful to test a receiver)."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def verify_signature(
    secret: str, header: str | None, body: bytes | str, tolerance: float = 300, *, now: float | None = None
) -> bool:
    """Whether `header` (the Tasklane-Signature value) signs `body` (the raw request body, exactly as
    received) under `secret`, at a time within `tolerance` seconds of now. Compared in constant time;
    any `v1` entry may match (one per secret while several are valid)."""
    if not header:
        return False
    raw = body.encode() if isinstance(body, str) else body
    timestamp, candidates = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)
