"""The data-access objects of completion events and webhooks, wired from settings on first use
(apart from tasklane.data.services, so that a function that never notifies never loads them)."""

from __future__ import annotations

from functools import cache, cached_property
from typing import TYPE_CHECKING, Protocol

from tasklane.data import aws
from tasklane.settings import settings
from tasklane.settings.webhooks import WebhookSettings, webhook_settings

if TYPE_CHECKING:
    from tasklane.data.bus import EventBus
    from tasklane.data.secrets import WebhookSecrets
    from tasklane.data.tasks.deliveries import DeliveryLog
    from tasklane.data.webhook_queue import WebhookQueue


# What a use case of events and webhooks touches, one resource each (Notifications has them all).


class HasBus(Protocol):
    @property
    def bus(self) -> EventBus:
        """The stack's event bus."""


class HasWebhookQueue(Protocol):
    @property
    def webhook_queue(self) -> WebhookQueue:
        """The webhook queue and its DLQ."""


class HasSecrets(Protocol):
    @property
    def secrets(self) -> WebhookSecrets:
        """The webhook secrets table."""


class HasDeliveries(Protocol):
    @property
    def deliveries(self) -> DeliveryLog:
        """A task item's deliveries (tasks table)."""


class HasWebhookSettings(Protocol):
    @property
    def settings(self) -> WebhookSettings:
        """The webhook settings."""


class Notifications:
    def __init__(self, settings: WebhookSettings, table_name: str) -> None:
        self.settings = settings
        self._table_name = table_name

    @cached_property
    def bus(self) -> EventBus:
        from tasklane.data.bus import EventBus

        return EventBus(aws.events(), self.settings.event_bus_name)

    @cached_property
    def webhook_queue(self) -> WebhookQueue:
        from tasklane.data.webhook_queue import WebhookQueue

        s = self.settings
        return WebhookQueue(aws.sqs(), s.webhook_queue_url, s.webhook_dead_letter_queue_url)

    @cached_property
    def secrets(self) -> WebhookSecrets:
        from tasklane.data.secrets import WebhookSecrets

        return WebhookSecrets(aws.dynamodb(), self.settings.secrets_table_name)

    @cached_property
    def deliveries(self) -> DeliveryLog:
        from tasklane.data.tasks.deliveries import DeliveryLog

        return DeliveryLog(aws.dynamodb(), self._table_name)


@cache
def notifications() -> Notifications:
    return Notifications(webhook_settings(), settings().table_name)
