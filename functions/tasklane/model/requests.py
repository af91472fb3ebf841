"""The pydantic shapes of API requests and of the answers that exist only in the API.

Only the API functions import this module; the task itself is a dataclass in tasklane.model.task.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tasklane.model import callbacks, values
from tasklane.model.errors import ValidationFailed, field_details
from tasklane.model.lanes import Lane
from tasklane.model.limits import MAX_BATCH_SIZE, MAX_CALLBACK_URL_CHARS
from tasklane.model.task import Task
from tasklane.settings import webhook_settings


class Model(BaseModel):
    """Schemas are built on first use, not at import: a function pays only for the models it touches."""

    model_config = ConfigDict(defer_build=True)


class SubmitRequest(Model):
    """One task as a client submits it; the payload is checked against its type's model later."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    task_type: str = Field(min_length=1, max_length=64, examples=["compute"])
    payload: dict[str, Any] = Field(default_factory=dict, examples=[{"n": 1000000}])
    priority: Lane = Lane.NORMAL
    delay_seconds: int = Field(default=0, ge=0, le=900)
    max_attempts: int | None = Field(default=None, ge=1, le=10)
    timeout_seconds: int | None = Field(default=None, ge=1)
    callback_url: str | None = Field(
        default=None,
        max_length=MAX_CALLBACK_URL_CHARS,
        # No example: the API's fuzz tests draw from its OpenAPI document, and a real host there would
        # send a webhook off the developer's machine.
        description="https URL that gets the task's summary, signed, when it completes, fails or is cancelled",
    )

    @field_validator("callback_url")
    @classmethod
    def public_https(cls, url: str | None) -> str | None:
        """As written: https, no credentials, no private address (the name's addresses are checked later)."""
        if url is not None:
            callbacks.parse_target(url, allow_loopback=webhook_settings().allow_loopback)
        return url

    @field_validator("payload")
    @classmethod
    def storable(cls, payload: dict[str, Any]) -> dict[str, Any]:
        """Refuse what JSON, DynamoDB or the answer could not carry, naming where it is."""
        found = values.problems(payload, "payload")
        if found:
            raise ValueError("; ".join(f"{p['field'][:100]}: {p['message']}" for p in found[:3]))
        return payload


class BatchRequest(Model):
    """Items are validated one by one so that valid items are accepted beside invalid ones."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    tasks: list[Any] = Field(min_length=1, max_length=MAX_BATCH_SIZE)


class WriteHeaders(Model):
    """The request headers the write routes read (names as API Gateway hands them, any case)."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    idempotency_key: str | None = Field(
        default=None,
        alias="idempotency-key",
        title="Idempotency-Key",
        min_length=1,
        max_length=128,
        description="Replays the original answer for 24 h",
    )


_NOT_AN_OBJECT = "Input should be a valid dictionary or object to extract fields from"


def parse_request[M: BaseModel](shape: type[M], body: Any, headers: Mapping[str, str]) -> tuple[M, WriteHeaders]:
    """A request's JSON body (None when there is none) as `shape`, and its headers; every problem of
    both in one ValidationFailed, each naming its field (`payload.n`, `idempotency-key`, `body`)."""
    errors: list[Any] = []
    found = None
    try:
        found = WriteHeaders.model_validate({name.lower(): value for name, value in headers.items()})
    except ValidationError as exc:
        errors += exc.errors()
    request = None
    if body is None:
        errors.append({"loc": ("body",), "msg": "Field required"})
    elif not isinstance(body, dict):
        errors.append({"loc": ("body",), "msg": _NOT_AN_OBJECT})
    else:
        try:
            request = shape.model_validate(body)
        except ValidationError as exc:
            errors += exc.errors()
    if errors or request is None or found is None:
        raise ValidationFailed("the request is not valid", field_details(errors))
    return request, found


class ErrorBody(Model):
    code: str
    message: str
    details: Any = None


class AcceptedItem(Model):
    index: int
    task: Task


class RejectedItem(Model):
    index: int
    error: ErrorBody


class BatchResponse(Model):
    """One result per submitted item, in order: the accepted task or the item's error."""

    results: list[AcceptedItem | RejectedItem]
