"""The webhook queue: one message per delivery to make, held back between attempts (backoff through
its visibility timeout), and its dead-letter queue for deliveries given up after a day."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tasklane.model.errors import ServiceUnavailable


class WebhookQueue:
    def __init__(self, client: Any, url: str, dead_letter_url: str) -> None:
        self._sqs = client
        self._url = url
        self._dead_letter_url = dead_letter_url

    def send(self, body: str) -> None:
        self._send(self._url, body)

    def give_up(self, body: str) -> None:
        """Keep a delivery that never succeeded on the dead-letter queue (14 days)."""
        self._send(self._dead_letter_url, body)

    def postpone(self, receipt_handle: str, seconds: int) -> None:
        """Let the message come back only after `seconds` (the backoff of a failed attempt)."""
        try:
            self._sqs.change_message_visibility(
                QueueUrl=self._url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
            )
        except (ClientError, BotoCoreError) as exc:
            raise ServiceUnavailable(f"ChangeMessageVisibility failed: {exc}") from exc

    def _send(self, url: str, body: str) -> None:
        try:
            self._sqs.send_message(QueueUrl=url, MessageBody=body)
        except (ClientError, BotoCoreError) as exc:
            raise ServiceUnavailable(f"SendMessage failed: {exc}") from exc
