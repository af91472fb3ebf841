"""The settings of completion events and webhooks: set in Globals, read by the functions that
publish, post or take a callback."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from typing import ClassVar
from urllib.parse import urlsplit

from tasklane.records import record
from tasklane.settings.environment import EVERY_FUNCTION, flag, from_env, required_env, variable


def _port(url: str) -> int | None:
    """The port of an endpoint URL (its scheme's default when none is written); None without one."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
        return parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None


@record
class WebhookSettings:
    """Completion events and webhooks (tasklane.logic.events, tasklane.logic.webhooks): set in Globals."""

    READ_BY: ClassVar[str] = EVERY_FUNCTION

    event_bus_name: str = variable("EVENT_BUS_NAME")
    webhook_queue_url: str = variable("WEBHOOK_QUEUE_URL")
    webhook_dead_letter_queue_url: str = variable("WEBHOOK_DEAD_LETTER_QUEUE_URL")
    secrets_table_name: str = variable("WEBHOOK_SECRETS_TABLE_NAME")
    # CallbackAllowLoopback: http://127.0.0.1 (and nothing else private) may be a callback, for local stacks.
    allow_loopback: bool = variable("CALLBACK_ALLOW_LOOPBACK", parse=flag)
    # The first backoff of a failed delivery; it doubles up to a cap.
    retry_base_seconds: int = variable("WEBHOOK_RETRY_BASE_SECONDS", parse=int)
    # The local stack's own API port, never a callback's even where the loopback is allowed: the
    # emulator gives its functions AWS_ENDPOINT_URL (on AWS it is unset, and no port is closed).
    emulator_port: int | None = variable("AWS_ENDPOINT_URL", parse=_port, optional=True)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> WebhookSettings:
        return from_env(cls, env)

    @property
    def closed_port(self) -> int | None:
        """The loopback port no callback may use: the emulator's, where the loopback is open at all."""
        return self.emulator_port if self.allow_loopback else None


WEBHOOK_REQUIRED_ENV = required_env(WebhookSettings)


@cache
def webhook_settings() -> WebhookSettings:
    """The settings of events and webhooks, parsed on first use."""
    return WebhookSettings.from_env()
