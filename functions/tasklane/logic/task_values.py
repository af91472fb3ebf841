"""A task's values as a run uses them: its payload read back (from the item or the values bucket), its
result kept as the item will hold it (inline when small, else in the values bucket, written first),
or the result a target uploaded itself (to the envelope's result_upload URL: the attempt's own key)."""

from __future__ import annotations

import json
from typing import Any, Protocol

from tasklane.data.bucket import ValueMissing, result_key
from tasklane.data.services import HasSettings, HasValues
from tasklane.data.tasks.codec import StoredTask, StoredValue
from tasklane.limits import INLINE_VALUE_BYTES
from tasklane.model import values
from tasklane.model.errors import TasklaneError
from tasklane.records import record

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


@record
class UploadedResult:
    """A result its target PUT to the attempt's key, checked (present, within the limit, JSON)."""

    value: StoredValue


def upload_url(stored: StoredTask, attempt: int, seconds: int, services: HasValues) -> str:
    """Where the attempt's target may PUT its result: the key the result is kept under."""
    return services.values.upload_url(result_key(stored.task.task_id, attempt), seconds)


def uploaded_result(stored: StoredTask, attempt: int, services: ResultKeeping) -> UploadedResult:
    """The result the target says it uploaded: Unfinishable when over the limit; ResultUploadInvalid
    (an attempt's failure, retried) when nothing was uploaded or it is not JSON."""
    key = result_key(stored.task.task_id, attempt)
    limit = services.settings.max_result_bytes
    try:
        size = services.values.size(key)
        if size > limit:
            raise Unfinishable("ResultTooLarge", f"the uploaded result is {size} bytes; the limit is {limit}")
        data = services.values.get_head(key, limit + 1)
    except ValueMissing:
        raise ResultUploadInvalid(
            "ResultUploadMissing", "the target answered result_uploaded, but nothing was PUT to its result_upload url"
        ) from None
    if len(data) > limit:  # it grew after its size was read
        raise Unfinishable("ResultTooLarge", f"the uploaded result is over the limit of {limit} bytes")
    try:
        result = json.loads(data)
    except (ValueError, RecursionError):
        start = data[:100].decode("utf-8", "replace")
        raise ResultUploadInvalid("ResultUploadNotJSON", f"the uploaded result is not JSON: {start}") from None
    if len(data) <= INLINE_VALUE_BYTES and values.depth(result) <= MAX_INLINE_RESULT_DEPTH:
        return UploadedResult(StoredValue(len(data), text=values.encode(result).decode()))
    return UploadedResult(StoredValue(len(data), key=key))


class ResultUploadInvalid(Exception):
    """The attempt's uploaded result is missing or unreadable: this attempt failed, another may not."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.type = error_type
        self.message = message


def keep_result(stored: StoredTask, attempt: int, result: Any, services: ResultKeeping) -> StoredValue:
    """The result as the item will keep it: inline when small, else its object, written first (an
    UploadedResult: as its target left it)."""
    if isinstance(result, UploadedResult):
        return result.value
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
