"""An owner's webhook signing secret: made on first use (reading it, or a first delivery), rotated on
request. The secret is never logged; only its owner reads it, through the API."""

from __future__ import annotations

import secrets

from tasklane.data.notifications import HasSecrets
from tasklane.data.secrets import WebhookSecret
from tasklane.model import clock

PREFIX = "whsec_"


def _fresh() -> WebhookSecret:
    return WebhookSecret(PREFIX + secrets.token_hex(32), clock.iso(clock.now()))


def secret_for(owner: str, notifications: HasSecrets) -> WebhookSecret:
    """The owner's secret, made now if they have none."""
    return notifications.secrets.get(owner) or notifications.secrets.create(owner, _fresh())


def rotate(owner: str, notifications: HasSecrets) -> WebhookSecret:
    """A new secret for the owner; deliveries from now on are signed with it, and only with it."""
    fresh = _fresh()
    notifications.secrets.replace(owner, fresh)
    return fresh
