"""The pydantic shape of PUT /task-types/{name}: a type's target, mode, payload schema and defaults.
Only the task-types function loads it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from tasklane.limits import MAX_CALLBACK_URL_CHARS
from tasklane.model.lanes import Lane
from tasklane.model.registered_types import MAX_ASYNC_TIMEOUT_SECONDS
from tasklane.model.requests import Model

MAX_ARN_CHARS = 256


class TargetRequest(Model):
    """Exactly one of `url` (an https endpoint) or `lambda` (a function ARN)."""

    model_config = ConfigDict(extra="forbid", defer_build=True, populate_by_name=True)

    url: str | None = Field(
        default=None,
        max_length=MAX_CALLBACK_URL_CHARS,
        description="https URL POSTed the task's envelope; its 2xx JSON answer is the result, or "
        '{"tasklane": "result_uploaded"} once the result was PUT to the envelope\'s result_upload.url',
    )
    function: str | None = Field(
        default=None,
        alias="lambda",
        max_length=MAX_ARN_CHARS,
        description="ARN of the Lambda function invoked with the task's envelope; its return value is the result, "
        'or {"tasklane": "result_uploaded"} once the result (beyond Lambda\'s 6 MB) was PUT to result_upload.url',
        examples=["arn:aws:lambda:us-east-1:123456789012:function:resize"],
    )

    @model_validator(mode="after")
    def exactly_one(self) -> TargetRequest:
        if (self.url is None) == (self.function is None):
            raise ValueError("give exactly one of url or lambda")
        return self


class TaskTypeRequest(Model):
    """A task type of your own: where it runs, how, what its payload looks like, and its defaults."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    target: TargetRequest
    mode: Literal["sync", "async"] = "sync"
    payload_schema: dict[str, Any] = Field(
        default_factory=dict,
        description="JSON Schema of the payload (Draft 2020-12 unless $schema says otherwise); {} takes any object. "
        "Its regexes run on RE2 (linear time): lookarounds and backreferences are refused",
        examples=[{"type": "object", "properties": {"width": {"type": "integer"}}, "required": ["width"]}],
    )
    priority: Lane = Lane.NORMAL
    timeout_seconds: int | None = Field(
        default=None,
        ge=1,
        le=MAX_ASYNC_TIMEOUT_SECONDS,
        description="sync: at most the processor's limit; by default 60, or that limit when it is lower",
    )
    max_attempts: int = Field(default=3, ge=1, le=10)
    rate_limit: str | None = Field(default=None, examples=["10/s"], description='e.g. "5/s", "100/m", "1000/h"')
    heartbeat_seconds: int | None = Field(
        default=None, ge=10, le=MAX_ASYNC_TIMEOUT_SECONDS, description="async only: fail an attempt silent this long"
    )
    description: str | None = Field(default=None, max_length=1000)

    @field_validator("rate_limit")
    @classmethod
    def a_rate(cls, value: str | None) -> str | None:
        if value is not None:
            from tasklane.model.rates import parse_rate

            return str(parse_rate(value))
        return value

    @model_validator(mode="after")
    def heartbeat_for_async(self) -> TaskTypeRequest:
        if self.heartbeat_seconds is not None:
            if self.mode != "async":
                raise ValueError("heartbeat_seconds applies to async types only")
            if self.timeout_seconds is not None and self.heartbeat_seconds >= self.timeout_seconds:
                raise ValueError("heartbeat_seconds must be shorter than timeout_seconds")
        return self
