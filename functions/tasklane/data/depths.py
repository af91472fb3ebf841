"""How deep each lane's queue and its dead-letter queue are: GET /stats reads them (the status
function only; the functions that send and receive tasks use tasklane.data.queues)."""

from __future__ import annotations

from typing import Any

from tasklane.data.queues import sqs_errors
from tasklane.model.lanes import Lane
from tasklane.records import record

_LANE_ATTRIBUTES = [
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
]


@record(slots=True)
class LaneDepth:
    """The approximate message counts of one lane's queue and of its dead-letter queue."""

    queued: int
    in_flight: int
    delayed: int
    dead_letters: int


class LaneDepths:
    """How deep each lane and its DLQ are, for GET /stats. Reads only: the status function's role may
    call GetQueueAttributes on the six queues, nothing else."""

    def __init__(self, client: Any, queue_urls: dict[Lane, str], dead_letter_urls: dict[Lane, str]) -> None:
        self._sqs = client
        self._urls = queue_urls
        self._dead = dead_letter_urls

    def queue_name(self, lane: Lane) -> str:
        return self._urls[lane].rsplit("/", 1)[-1]

    def read(self, lane: Lane) -> LaneDepth:
        with sqs_errors("GetQueueAttributes"):
            queue = self._sqs.get_queue_attributes(QueueUrl=self._urls[lane], AttributeNames=_LANE_ATTRIBUTES)
            dead = self._sqs.get_queue_attributes(
                QueueUrl=self._dead[lane], AttributeNames=["ApproximateNumberOfMessages"]
            )
        figures, dead_figures = queue.get("Attributes", {}), dead.get("Attributes", {})
        return LaneDepth(
            queued=int(figures.get("ApproximateNumberOfMessages", 0)),
            in_flight=int(figures.get("ApproximateNumberOfMessagesNotVisible", 0)),
            delayed=int(figures.get("ApproximateNumberOfMessagesDelayed", 0)),
            dead_letters=int(dead_figures.get("ApproximateNumberOfMessages", 0)),
        )
