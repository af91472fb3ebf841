"""Delivering a webhook: check the destination again, sign, POST to the checked address, record the
attempt on the task, and retry with exponential backoff and jitter for a day, then give up to the
dead-letter queue.

2xx is delivered. Anything else (another status, a timeout, a refused destination, no address) is a
failed attempt. Redirects are not followed: a 3xx is a failure like a 500.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Protocol

from tasklane.data.notifications import HasDeliveries, HasSecrets, HasWebhookQueue, HasWebhookSettings
from tasklane.destinations import receivers
from tasklane.destinations.check import CallbackRefused, destination
from tasklane.limits import WEBHOOK_MAX_BACKOFF_SECONDS, WEBHOOK_RETRY_SECONDS
from tasklane.logic.webhook_secrets import secret_for
from tasklane.model import clock
from tasklane.model.callbacks import SIGNATURE_HEADER, CallbackDelivery, signature
from tasklane.model.webhook_message import WebhookMessage
from tasklane.observability import count, logger
from tasklane.records import record

RETRY_FOR = timedelta(seconds=WEBHOOK_RETRY_SECONDS)
MAX_BACKOFF_SECONDS = WEBHOOK_MAX_BACKOFF_SECONDS  # the longest wait between two attempts
USER_AGENT = "tasklane-webhooks/1"
# Addresses of one receiver's name tried in one delivery (the rest wait for its next attempt).
MAX_ADDRESSES_TRIED = 3


class Delivering(HasWebhookQueue, HasDeliveries, HasSecrets, HasWebhookSettings, Protocol):
    """What a delivery touches: the webhook queue (backoff, DLQ), the task's deliveries, the owner's secret."""


class DeliveryFailed(Exception):
    """This attempt failed; the message comes back after its backoff."""


@record
class WebhookDelivery:
    """One receive of a webhook message: its body, its handle, and which attempt this is."""

    body: str
    receipt_handle: str
    attempt: int  # the message's receive count


def backoff(attempt: int, base_seconds: int) -> int:
    """Seconds before the next attempt: base * 2^(attempt - 1), capped at two hours, half of it jittered
    (so that receivers coming back are not hit by every waiting delivery at once)."""
    ceiling = min(MAX_BACKOFF_SECONDS, base_seconds * 2 ** min(attempt - 1, 20))
    return max(1, round(ceiling / 2 + random.uniform(0, ceiling / 2)))  # jitter, not a secret


def deliver(delivery: WebhookDelivery, notifications: Delivering) -> None:
    """One attempt; returns when the webhook is delivered or given up, DeliveryFailed to come back."""
    message = WebhookMessage.from_json(delivery.body)
    if message is None:
        # Kept, not lost: a body no deliverer can read goes to the dead-letter queue as it came.
        logger.error("malformed webhook message given up", extra={"body_prefix": delivery.body[:200]})
        notifications.webhook_queue.give_up(delivery.body)
        return
    now = clock.now()
    code, error = _attempt(message, notifications, now)
    delivered = code is not None and 200 <= code < 300
    outcome = CallbackDelivery(clock.iso(now), delivery.attempt, message.status, delivered, code, error)
    notifications.deliveries.record(message.task_id, outcome)
    # Never the URL (it may carry a token) nor the signature.
    facts = {"task_id": message.task_id, "attempt": delivery.attempt, "status_code": code, "error": error}
    if delivered:
        logger.info("webhook delivered", extra=facts)
        count(message.priority, message.task_type, "WebhookDelivered")
        return
    logger.info("webhook attempt failed", extra=facts)
    count(message.priority, message.task_type, "WebhookFailed")
    deadline = datetime.fromisoformat(message.changed_at) + RETRY_FOR
    left = int((deadline - now).total_seconds())
    if left <= 0:
        logger.warning("webhook given up after a day", extra={"task_id": message.task_id, "attempts": delivery.attempt})
        notifications.webhook_queue.give_up(delivery.body)
        count(message.priority, message.task_type, "WebhookGivenUp")
        return
    wait = min(backoff(delivery.attempt, notifications.settings.retry_base_seconds), left)
    notifications.webhook_queue.postpone(delivery.receipt_handle, wait)
    raise DeliveryFailed(f"webhook of task {message.task_id} failed ({code or error}); next attempt in {wait}s")


def _attempt(message: WebhookMessage, notifications: Delivering, now: datetime) -> tuple[int | None, str | None]:
    """The receiver's status code, or why there was none."""
    try:
        hooks = notifications.settings
        target, addresses = destination(message.url, allow_loopback=hooks.allow_loopback, closed_port=hooks.closed_port)
    except (CallbackRefused, receivers.NameNotResolved) as exc:
        return None, str(exc)
    body = message.body.encode()
    secret = secret_for(message.owner, notifications).secret
    timestamp = clock.epoch(now)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        "Tasklane-Event-Id": message.event_id,
        "Tasklane-Task-Id": message.task_id,
    }
    error = None
    # Each was checked; the next one only when this one gives no answer, and at most a few of them:
    # each call may take receivers.TOTAL_TIMEOUT_SECONDS, and all of them fit in the function's timeout.
    for address in addresses[:MAX_ADDRESSES_TRIED]:
        try:
            return receivers.post(receivers.Post(target, address, body, headers)), None
        except receivers.ReceiverUnreachable as exc:
            error = str(exc)
    return None, error
