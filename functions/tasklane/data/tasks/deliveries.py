"""A task item's callback: its URL, and the bounded list of its last deliveries (oldest first)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tasklane.limits import WEBHOOK_DELIVERIES_KEPT
from tasklane.model.callbacks import Callback, CallbackDelivery
from tasklane.model.errors import ServiceUnavailable

_ATTEMPTS = 3  # a trim that races another delivery's write is read again and redone
# The only attributes of a task item the delivery log reads or writes (the key, and the list).
DELIVERY_ATTRIBUTES = ("task_id", "callback_deliveries")


def callback_of(item: dict[str, Any]) -> Callback | None:
    """The callback a task item holds, if it was submitted with one."""
    url = item.get("callback_url", {}).get("S")
    if url is None:
        return None
    entries = item.get("callback_deliveries", {}).get("L", [])
    return Callback(url, tuple(_delivery(e["M"]) for e in entries))


def _delivery(m: dict[str, Any]) -> CallbackDelivery:
    return CallbackDelivery(
        at=m["at"]["S"],
        attempt=int(m["attempt"]["N"]),
        status=m["status"]["S"],
        delivered=m["delivered"]["BOOL"],
        status_code=int(m["status_code"]["N"]) if "status_code" in m else None,
        error=m["error"]["S"] if "error" in m else None,
    )


def _entry(d: CallbackDelivery) -> dict[str, Any]:
    m: dict[str, Any] = {
        "at": {"S": d.at},
        "attempt": {"N": str(d.attempt)},
        "status": {"S": d.status},
        "delivered": {"BOOL": d.delivered},
    }
    if d.status_code is not None:
        m["status_code"] = {"N": str(d.status_code)}
    if d.error is not None:
        m["error"] = {"S": d.error}
    return {"M": m}


class DeliveryLog:
    """Appends a delivery to its task's list, keeping the last WEBHOOK_DELIVERIES_KEPT. A task gone with its
    retention keeps nothing (the write's condition fails and is let go)."""

    def __init__(self, client: Any, table_name: str, keep: int = WEBHOOK_DELIVERIES_KEPT) -> None:
        self._db = client
        self._table = table_name
        self.keep = keep

    def record(self, task_id: str, delivery: CallbackDelivery) -> None:
        # Every request names only DELIVERY_ATTRIBUTES and reads nothing else of the task (no ALL_OLD): the
        # webhook function's policy allows these attributes only (template.yaml, dynamodb:Attributes).
        entry = _entry(delivery)
        try:
            # The common case, one write: the list is shorter than the bound.
            self._db.update_item(
                TableName=self._table,
                Key={"task_id": {"S": task_id}},
                UpdateExpression="SET callback_deliveries = "
                "list_append(if_not_exists(callback_deliveries, :none), :one)",
                ConditionExpression="attribute_exists(task_id) AND "
                "(attribute_not_exists(callback_deliveries) OR size(callback_deliveries) < :keep)",
                ExpressionAttributeValues={":none": {"L": []}, ":one": {"L": [entry]}, ":keep": {"N": str(self.keep)}},
            )
            return
        except ClientError as exc:
            self._rejected(exc)
        except BotoCoreError as exc:
            raise ServiceUnavailable(f"UpdateItem failed: {exc}") from exc
        for _ in range(_ATTEMPTS):
            kept = self._deliveries(task_id)
            if kept is None:
                return  # the task is gone
            try:
                self._db.update_item(
                    TableName=self._table,
                    Key={"task_id": {"S": task_id}},
                    UpdateExpression="SET callback_deliveries = :kept",
                    ConditionExpression="attribute_exists(task_id) AND size(callback_deliveries) = :size",
                    ExpressionAttributeValues={
                        ":kept": {"L": [*kept[len(kept) - self.keep + 1 :], entry]},
                        ":size": {"N": str(len(kept))},
                    },
                )
                return
            except ClientError as exc:
                self._rejected(exc)
            except BotoCoreError as exc:
                raise ServiceUnavailable(f"UpdateItem failed: {exc}") from exc
        raise ServiceUnavailable("the task's deliveries kept changing under the write")

    def _deliveries(self, task_id: str) -> list[dict[str, Any]] | None:
        """The task's deliveries as stored (None when the task is gone), read alone."""
        try:
            answer = self._db.get_item(
                TableName=self._table,
                Key={"task_id": {"S": task_id}},
                ProjectionExpression=", ".join(DELIVERY_ATTRIBUTES),
                ConsistentRead=True,
            )
        except (ClientError, BotoCoreError) as exc:
            raise ServiceUnavailable(f"GetItem failed: {exc}") from exc
        item = answer.get("Item")
        return None if item is None else list(item.get("callback_deliveries", {}).get("L", []))

    @staticmethod
    def _rejected(exc: ClientError) -> None:
        """A failed condition is the caller's to read again; any other error is the service's."""
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise ServiceUnavailable(f"UpdateItem failed: {exc}") from exc
