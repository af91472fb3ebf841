"""The pydantic shapes of API requests and of the answers that exist only in the API.

Only the API functions import this module; the task itself is a dataclass in tasklane.model.task,
and the shapes of the schedules routes are tasklane.model.schedule_requests (the schedules function's).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from math import ceil
from typing import Any, ClassVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from tasklane.limits import MAX_BATCH_SIZE, MAX_CALLBACK_URL_CHARS, MAX_DELAY_SECONDS
from tasklane.model import clock, values
from tasklane.model.errors import ValidationFailed, field_details
from tasklane.model.lanes import Lane
from tasklane.model.task import Task


class Model(BaseModel):
    """Schemas are built on first use, not at import: a function pays only for the models it touches."""

    model_config = ConfigDict(defer_build=True)


class SubmitRequest(Model):
    """One task as a client submits it; the payload is checked against its type's model later."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    task_type: str = Field(min_length=1, max_length=64, examples=["compute"])
    payload: dict[str, Any] = Field(default_factory=dict, examples=[{"n": 1000000}])
    priority: Lane = Lane.NORMAL
    delay_seconds: int | None = Field(
        default=None,
        ge=0,
        le=MAX_DELAY_SECONDS,
        strict=True,
        description="Start no sooner than this many seconds from now",
    )
    run_at: AwareDatetime | None = Field(
        default=None,
        description="Start no sooner than this moment: ISO 8601 with its zone (Z or an offset); a past moment runs now",
        examples=["2026-12-01T09:00:00Z"],
    )
    # strict: JSON's true and false are not numbers (lax pydantic would read true as 1)
    max_attempts: int | None = Field(default=None, ge=1, le=10, strict=True)
    timeout_seconds: int | None = Field(default=None, ge=1, strict=True)
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
        """As written: https, no credentials, no private address. Loopback (http://127.0.0.1) passes here
        and is judged with the name's addresses by the submission itself, which knows whether this
        deployment allows it (CallbackAllowLoopback): the model reads no settings."""
        if url is None:
            return None
        from tasklane.destinations.urls import CallbackUrl  # loaded with the first callback URL

        return CallbackUrl.parse(url)  # still a str, with where it points (the submission reads it)

    @field_validator("run_at", mode="before")
    @classmethod
    def iso_text(cls, value: Any) -> Any:
        """Only ISO 8601 text: pydantic would also read a number as epoch seconds, a silent surprise."""
        if value is not None and not isinstance(value, str):
            raise ValueError("must be ISO 8601 text with a zone, e.g. 2026-12-01T09:00:00Z")
        return value

    @field_validator("run_at")
    @classmethod
    def one_start_rule(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        """run_at and delay_seconds say the same thing twice; refusing both avoids guessing which wins."""
        if value is not None and info.data.get("delay_seconds") is not None:
            raise ValueError("give run_at or delay_seconds, not both")
        if value is not None:
            try:  # 0001-01-01T00:00:00+01:00 is a moment before the first one Python holds in UTC
                value = value.astimezone(UTC)
            except OverflowError:
                raise ValueError("must be a moment between the years 1 and 9999 in UTC") from None
        if value is not None and value - clock.now() > timedelta(seconds=MAX_DELAY_SECONDS):
            raise ValueError(f"must be at most {MAX_DELAY_SECONDS} seconds (one year) from now")
        return value

    def start_after(self, now: datetime) -> datetime:
        """The earliest moment the task may start: now, after its delay, or at run_at (a past one: now)."""
        if self.run_at is not None:
            return max(now, self.run_at.astimezone(UTC))
        return now + timedelta(seconds=self.delay_seconds or 0)

    def delay(self, now: datetime) -> int:
        """Whole seconds from now until the task may start (rounded up: never early)."""
        return ceil((self.start_after(now) - now).total_seconds())

    @field_validator("payload")
    @classmethod
    def storable(cls, payload: dict[str, Any]) -> dict[str, Any]:
        """Refuse what JSON, DynamoDB or the answer could not carry, naming where it is."""
        found = values.problems(payload, "payload")
        if found:
            # Each problem keeps its own field (payload.n): tasklane.model.errors.field_details lists them.
            raise PydanticCustomError("value_not_storable", "the payload cannot be stored", {"problems": found})
        return payload


class BatchRequest(Model):
    """Items are validated one by one so that valid items are accepted beside invalid ones."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
    OUTLINE: ClassVar[str] = '{"tasks": [{"task_type": ...}, ...]}'  # what a body that is no object is told

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


_NOT_AN_OBJECT = "must be a JSON object"


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
        outline = getattr(shape, "OUTLINE", None)
        errors.append({"loc": ("body",), "msg": f"{_NOT_AN_OBJECT}: {outline}" if outline else _NOT_AN_OBJECT})
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
