"""The webhook secrets table: one signing secret per owner, encrypted at rest (KMS), never logged."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tasklane.model.errors import ServiceUnavailable
from tasklane.records import record


@record
class WebhookSecret:
    """An owner's webhook signing secret and when it was made."""

    secret: str
    created_at: str  # when this secret was made: first use, or the last rotation


class WebhookSecrets:
    """Get, create once, and replace an owner's secret; one item per owner."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name

    def get(self, owner: str) -> WebhookSecret | None:
        try:
            item = self._db.get_item(TableName=self._table, Key={"owner": {"S": owner}}, ConsistentRead=True).get(
                "Item"
            )
        except (ClientError, BotoCoreError) as exc:
            raise ServiceUnavailable(f"GetItem failed: {exc}") from exc
        return WebhookSecret(item["secret"]["S"], item["created_at"]["S"]) if item else None

    def create(self, owner: str, fresh: WebhookSecret) -> WebhookSecret:
        """Keep `fresh` unless the owner has a secret already; the secret that holds."""
        try:
            self._db.put_item(
                TableName=self._table,
                Item=self._item(owner, fresh),
                ConditionExpression="attribute_not_exists(#owner)",
                ExpressionAttributeNames={"#owner": "owner"},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return fresh
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise ServiceUnavailable(f"PutItem failed: {exc}") from exc
            item: dict[str, Any] = exc.response.get("Item") or {}  # type: ignore[assignment]
            if item:
                return WebhookSecret(item["secret"]["S"], item["created_at"]["S"])
            existing = self.get(owner)  # an emulator that does not send the old item back
            if existing is None:
                raise ServiceUnavailable("the webhook secret vanished while it was created") from None
            return existing
        except BotoCoreError as exc:
            raise ServiceUnavailable(f"PutItem failed: {exc}") from exc

    def replace(self, owner: str, fresh: WebhookSecret) -> None:
        try:
            self._db.put_item(TableName=self._table, Item=self._item(owner, fresh))
        except (ClientError, BotoCoreError) as exc:
            raise ServiceUnavailable(f"PutItem failed: {exc}") from exc

    @staticmethod
    def _item(owner: str, fresh: WebhookSecret) -> dict[str, Any]:
        return {"owner": {"S": owner}, "secret": {"S": fresh.secret}, "created_at": {"S": fresh.created_at}}
