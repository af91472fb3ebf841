"""An in-memory SQS (standard queues with a redrive policy) with a seed's faults: a message may be
delivered twice, visible messages come in any order, a received message comes back once its
visibility timeout passes (however long its invocation still runs), and a message received more
than maxReceiveCount times goes to its dead-letter queue instead of being delivered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from tests.simulation.world.runtime import World


@dataclass
class Message:
    message_id: str
    body: str
    visible_ms: int
    receives: int = 0
    handle: str | None = None  # the receipt handle of its latest receive


@dataclass
class Queue:
    url: str
    visibility_seconds: int
    dead_letter: Queue | None = None
    max_receives: int = 0
    messages: dict[str, Message] = field(default_factory=dict)


class FakeSQS:
    """The lanes, their DLQs, and the client calls tasklane's data/queues.py makes."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.queues: dict[str, Queue] = {}
        self._ids = 0

    def add_queue(
        self, url: str, visibility_seconds: int, dead_letter: Queue | None = None, max_receives: int = 0
    ) -> Queue:
        queue = Queue(url, visibility_seconds, dead_letter, max_receives)
        self.queues[url] = queue
        return queue

    def _next_id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}-{self._ids}"

    def _call(self, operation: str) -> None:
        self.world.point(f"sqs.{operation}")
        fault = self.world.faults.sqs()
        if fault == "crash-before":
            self.world.crash(f"before {operation}")
        if fault == "fail":
            self.world.note_fault(f"sqs {operation} failed")
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "sim"}}, operation)

    def put(self, queue: Queue, body: str, delay_seconds: int = 0) -> None:
        message = Message(self._next_id("m"), body, self.world.now_ms() + delay_seconds * 1000)
        queue.messages[message.message_id] = message
        self.world.history.sent(queue.url, body)

    # --- the client's calls -----------------------------------------------------------------------

    def send_message(self, QueueUrl: str, MessageBody: str, DelaySeconds: int = 0, **kw: Any) -> dict:
        self._call("SendMessage")
        self.put(self.queues[QueueUrl], MessageBody, DelaySeconds)
        return {"MessageId": "sent"}

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict:
        self._call("SendMessageBatch")
        failed = []
        for entry in Entries:
            if self.world.faults.sqs_entry_fails():
                self.world.note_fault("sqs batch entry failed")
                failed.append({"Id": entry["Id"], "Code": "InternalError", "SenderFault": False})
                continue
            self.put(self.queues[QueueUrl], entry["MessageBody"], entry.get("DelaySeconds", 0))
        ok = [{"Id": e["Id"]} for e in Entries if e["Id"] not in {f["Id"] for f in failed}]
        return {"Successful": ok, "Failed": failed}

    def change_message_visibility_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict:
        self._call("ChangeMessageVisibilityBatch")
        queue, failed = self.queues[QueueUrl], []
        for entry in Entries:
            message = self._by_handle(queue, entry["ReceiptHandle"])
            if message is None or message.visible_ms <= self.world.now_ms():
                failed.append({"Id": entry["Id"], "Code": "MessageNotInflight", "SenderFault": True})
                continue
            message.visible_ms = self.world.now_ms() + int(entry["VisibilityTimeout"]) * 1000
        return {"Successful": [], "Failed": failed}

    def change_message_visibility(self, QueueUrl: str, ReceiptHandle: str, VisibilityTimeout: int) -> dict:
        self._call("ChangeMessageVisibility")
        message = self._by_handle(self.queues[QueueUrl], ReceiptHandle)
        if message is None or message.visible_ms <= self.world.now_ms():
            raise ClientError({"Error": {"Code": "MessageNotInflight", "Message": "sim"}}, "ChangeMessageVisibility")
        message.visible_ms = self.world.now_ms() + int(VisibilityTimeout) * 1000
        return {}

    def get_queue_attributes(self, QueueUrl: str, AttributeNames: list[str]) -> dict:
        self._call("GetQueueAttributes")
        queue, now = self.queues[QueueUrl], self.world.now_ms()
        visible = sum(1 for m in queue.messages.values() if m.visible_ms <= now)
        return {
            "Attributes": {
                "ApproximateNumberOfMessages": str(visible),
                "ApproximateNumberOfMessagesNotVisible": str(len(queue.messages) - visible),
            }
        }

    # --- the event source mapping's side ----------------------------------------------------------

    def _by_handle(self, queue: Queue, handle: str) -> Message | None:
        message = queue.messages.get(handle.split("/", maxsplit=1)[0])
        return message if message is not None and message.handle == handle else None

    def receive(self, queue: Queue, limit: int) -> list[Message]:
        """Up to `limit` visible messages in a seeded order; each now in flight for the queue's
        visibility timeout. One received past its budget goes to the DLQ instead; one may also stay
        behind as a duplicate (a standard queue delivers at least once)."""
        now, rng = self.world.now_ms(), self.world.rng
        visible = [m for m in queue.messages.values() if m.visible_ms <= now]
        rng.shuffle(visible)
        taken: list[Message] = []
        for message in visible:
            if len(taken) == limit:
                break
            if queue.dead_letter is not None and message.receives >= queue.max_receives:
                del queue.messages[message.message_id]
                self.put(queue.dead_letter, message.body)
                self.world.history.dead_lettered(message.body)
                continue
            message.receives += 1
            message.handle = f"{message.message_id}/{message.receives}"
            message.visible_ms = now + queue.visibility_seconds * 1000
            taken.append(message)
            if self.world.faults.duplicate():
                self.world.note_fault("sqs delivered a message twice")
                copy_ = Message(self._next_id("dup"), message.body, now + rng.randint(0, 30_000))
                queue.messages[copy_.message_id] = copy_
        return taken

    def delete(self, queue: Queue, message: Message) -> None:
        """An acknowledged record: deleted if its receipt handle is still current (as SQS does)."""
        current = queue.messages.get(message.message_id)
        if current is not None and current.handle == message.handle:
            del queue.messages[message.message_id]

    def backlog(self) -> int:
        return sum(len(q.messages) for q in self.queues.values())
