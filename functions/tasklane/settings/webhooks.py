"""The settings of completion events and webhooks: set in Globals, read by the functions that
publish, post or take a callback."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import ClassVar

from tasklane.settings.environment import EVERY_FUNCTION, flag, from_env, required_env, variable


@dataclass(frozen=True)
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

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> WebhookSettings:
        return from_env(cls, env)


WEBHOOK_REQUIRED_ENV = required_env(WebhookSettings)


@cache
def webhook_settings() -> WebhookSettings:
    """The settings of events and webhooks, parsed on first use."""
    return WebhookSettings.from_env()
