"""The lane queues: the only module that talks to SQS."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tasklane.model.errors import ServiceUnavailable
from tasklane.model.lanes import Lane
from tasklane.model.message import TaskMessage

_BATCH_LIMIT = 10  # entries per SendMessageBatch or ChangeMessageVisibilityBatch request
_SEND_RETRIES = 3


class QueueUnavailable(ServiceUnavailable):
    """A lane did not take or steer a message (after the SDK's retries)."""

    public_message = "a lane queue did not answer; try again shortly"


@contextmanager
def sqs_errors(action: str) -> Iterator[None]:
    """SQS errors of `action` as QueueUnavailable (the lanes and their depths share it)."""
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise QueueUnavailable(f"{action} failed: {exc}") from exc


def _attributes(message: TaskMessage) -> dict[str, Any]:
    if not message.correlation_id:
        return {}
    return {"correlation_id": {"DataType": "String", "StringValue": message.correlation_id}}


def group_id(owner: str) -> str:
    """The owner's message group: SQS fair queues share a standard queue's throughput between groups,
    so that one owner's flood does not hold the others' messages back. Ids longer than SQS allows
    (128 characters) are named by their digest."""
    return owner if len(owner) <= 128 else "sha256:" + hashlib.sha256(owner.encode()).hexdigest()


class LaneQueues:
    """Send task messages to a lane and steer messages already received."""

    def __init__(self, client: Any, queue_urls: dict[Lane, str]) -> None:
        self._sqs = client
        self._urls = queue_urls

    def url(self, lane: Lane) -> str:
        return self._urls[lane]

    def send(self, lane: Lane, message: TaskMessage, delay_seconds: int = 0) -> None:
        with sqs_errors("SendMessage"):
            self._sqs.send_message(
                QueueUrl=self._urls[lane],
                MessageBody=message.to_json(),
                DelaySeconds=min(delay_seconds, 900),
                MessageAttributes=_attributes(message),
                MessageGroupId=group_id(message.owner),
            )

    def send_many(self, lane: Lane, messages: list[tuple[TaskMessage, int]]) -> list[str]:
        """SendMessageBatch in tens, retrying failed entries; returns the task ids never sent."""
        failed: list[str] = []
        for start in range(0, len(messages), _BATCH_LIMIT):
            entries = {
                str(i): {
                    "Id": str(i),
                    "MessageBody": message.to_json(),
                    "DelaySeconds": delay,
                    "MessageAttributes": _attributes(message),
                    "MessageGroupId": group_id(message.owner),
                }
                for i, (message, delay) in enumerate(messages[start : start + _BATCH_LIMIT], start)
            }
            for _ in range(_SEND_RETRIES):
                try:
                    response = self._sqs.send_message_batch(QueueUrl=self._urls[lane], Entries=list(entries.values()))
                except (ClientError, BotoCoreError):
                    continue  # the whole request failed: every entry is tried again
                entries = {f["Id"]: entries[f["Id"]] for f in response.get("Failed", [])}
                if not entries:
                    break
            failed += [messages[int(i)][0].task_id for i in entries]
        return failed

    def waiting(self, lane: Lane) -> int:
        """Messages on a lane right now, visible or in flight (approximate): a message held back by a
        rate or a backoff is in flight, and its task is not lost."""
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        with sqs_errors("GetQueueAttributes"):
            attributes = self._sqs.get_queue_attributes(QueueUrl=self._urls[lane], AttributeNames=names)
        return sum(int(attributes["Attributes"].get(name, 0)) for name in names)

    def set_visibility_many(self, lane: Lane, changes: list[tuple[str, int]]) -> dict[int, str]:
        """ChangeMessageVisibilityBatch in tens; the changes not made, by index, with SQS's reason."""
        failed: dict[int, str] = {}
        for start in range(0, len(changes), _BATCH_LIMIT):
            chunk = changes[start : start + _BATCH_LIMIT]
            entries = [
                {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": seconds}
                for i, (handle, seconds) in enumerate(chunk, start)
            ]
            try:
                response = self._sqs.change_message_visibility_batch(QueueUrl=self._urls[lane], Entries=entries)
            except (ClientError, BotoCoreError) as exc:
                # The SDK has retried the request already; the other tens still go.
                failed.update(
                    (i, f"ChangeMessageVisibilityBatch failed: {exc}") for i in range(start, start + len(chunk))
                )
                continue
            failed.update(
                (int(f["Id"]), f"{f.get('Code')}: {f.get('Message', '')}") for f in response.get("Failed", [])
            )
        return failed
