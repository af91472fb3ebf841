"""A task's values as a run uses them: its payload read back (from the item or the values bucket), its
result kept as the item will hold it (inline when small, else in the values bucket, written first)."""

from __future__ import annotations

import json
from typing import Any, Protocol

from tasklane.data.bucket import ValueMissing, result_key
from tasklane.data.services import HasSettings, HasValues
from tasklane.data.tasks.codec import StoredTask, StoredValue
from tasklane.limits import INLINE_VALUE_BYTES
from tasklane.model import values
from tasklane.model.errors import TasklaneError

# Inline results deeper than this are kept in the values bucket, whose text is never parsed again.
MAX_INLINE_RESULT_DEPTH = 200


class ResultKeeping(HasValues, HasSettings, Protocol):
    """What keeping a result touches: the values bucket (and the result size limit of the settings)."""


class Unfinishable(TasklaneError):
    """The task cannot succeed on another attempt; `type` names why in the task's error."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.type = error_type


def read_payload(stored: StoredTask, services: HasValues) -> dict[str, Any]:
    if stored.payload_key is None:
        return stored.task.payload or {}
    try:
        payload: dict[str, Any] = json.loads(services.values.get(stored.payload_key))
    except ValueMissing:
        raise Unfinishable("PayloadMissing", "the payload's object is gone from the values bucket") from None
    return payload


def keep_result(stored: StoredTask, attempt: int, result: Any, services: ResultKeeping) -> StoredValue:
    """The result as the item will keep it: inline when small, else its object, written first."""
    try:
        encoded = values.encode(result)
    except values.ValueNotStorable as exc:
        raise Unfinishable("ResultNotSerializable", f"the result has no JSON form: {exc}") from None
    limit = services.settings.max_result_bytes
    if len(encoded) > limit:
        raise Unfinishable("ResultTooLarge", f"the result is {len(encoded)} bytes of JSON; the limit is {limit}")
    if len(encoded) <= INLINE_VALUE_BYTES and values.depth(result) <= MAX_INLINE_RESULT_DEPTH:
        return StoredValue(len(encoded), text=encoded.decode())
    key = result_key(stored.task.task_id, attempt)
    services.values.put(key, encoded)
    return StoredValue(len(encoded), key=key)
