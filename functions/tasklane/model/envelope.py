"""What a target gets: the body POSTed to a url target, or the event a Lambda target is invoked with.
The envelope's `task_id` + `attempt` is a target's idempotency key (delivery is at least once)."""

from __future__ import annotations

import json
from typing import Any

from tasklane.records import record


@record(slots=True)
class Completion:
    """How an async target finishes its attempt: the attempt's token and its four routes."""

    token: str
    complete_url: str
    fail_url: str
    heartbeat_url: str
    # where to ask for a fresh result_upload, signed when asked (a result PUT long after the start);
    # None in an envelope sent before the route existed
    result_upload_url: str | None = None


@record(slots=True)
class ResultUpload:
    """Where a target may put a result too large to answer with (a Lambda's answer is at most 6 MB):
    a presigned URL to PUT the result's JSON to (at most `max_bytes`), then answer RESULT_UPLOADED."""

    url: str
    max_bytes: int
    method: str = "PUT"


# A target's answer (a url target's 2xx body, a Lambda's return value, or an async `complete`'s
# result) saying that its result is the object it PUT to the envelope's result_upload URL.
RESULT_UPLOADED = {"tasklane": "result_uploaded"}


@record(slots=True, kw_only=True)
class Envelope:
    """One attempt of a task handed to its target."""

    task_id: str
    task_type: str
    attempt: int
    max_attempts: int
    deadline: str  # ISO 8601 UTC: the attempt fails if no result comes by then
    payload: dict[str, Any] | None = None  # inline, or (a large payload) None and payload_url
    payload_url: str | None = None
    inputs: list[Any] | None = None  # the results a workflow step waited for; None outside workflows
    inputs_url: str | None = None  # inputs too large to travel inline: a short-lived URL, and their size
    inputs_size: int | None = None
    correlation_id: str | None = None
    completion: Completion | None = None  # async mode only
    result_upload: ResultUpload | None = None

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "task_id": self.task_id,
            "task_type": self.task_type,
            "attempt": self.attempt,
            "max_attempts": self.max_attempts,
            "deadline": self.deadline,
        }
        if self.payload_url is not None:
            body["payload_url"] = self.payload_url
        else:
            body["payload"] = self.payload
        body["inputs"] = self.inputs
        if self.inputs_url is not None:
            body["inputs_url"], body["inputs_size"] = self.inputs_url, self.inputs_size
        body["correlation_id"] = self.correlation_id
        if self.completion is not None:
            c = self.completion
            body["completion"] = {
                "token": c.token,
                "complete_url": c.complete_url,
                "fail_url": c.fail_url,
                "heartbeat_url": c.heartbeat_url,
            }
            if c.result_upload_url is not None:
                body["completion"]["result_upload_url"] = c.result_upload_url
        if self.result_upload is not None:
            u = self.result_upload
            body["result_upload"] = {"url": u.url, "method": u.method, "max_bytes": u.max_bytes}
        return body

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, text: str | bytes) -> Envelope:
        """The one parser (targets written in Python, and the tests)."""
        data = json.loads(text)
        completion, upload = data.get("completion"), data.get("result_upload")
        return cls(
            task_id=data["task_id"],
            task_type=data["task_type"],
            attempt=data["attempt"],
            max_attempts=data["max_attempts"],
            deadline=data["deadline"],
            payload=data.get("payload"),
            payload_url=data.get("payload_url"),
            inputs=data.get("inputs"),
            inputs_url=data.get("inputs_url"),
            inputs_size=data.get("inputs_size"),
            correlation_id=data.get("correlation_id"),
            completion=Completion(**completion) if completion else None,
            result_upload=ResultUpload(**upload) if upload else None,
        )
