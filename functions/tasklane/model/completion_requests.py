"""The bodies of the async completion routes: POST /tasks/{id}/complete, /fail, /heartbeat and
/result-upload. Each carries the attempt's token, which alone authenticates it
(tasklane.logic.async_tasks)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from tasklane.limits import MAX_PROGRESS_MESSAGE_CHARS
from tasklane.model.requests import Model

# A token is 43 characters (32 bytes, URL-safe base64); anything much longer is not one.
MAX_TOKEN_CHARS = 128


class CompleteRequest(Model):
    token: str = Field(min_length=1, max_length=MAX_TOKEN_CHARS, description="the attempt's completion token")
    result: Any = Field(
        default=None,
        description='the task\'s result (any JSON value), or {"tasklane": "result_uploaded"} once the result '
        "was PUT to the envelope's result_upload URL (results of any size up to the result limit)",
    )


class FailureError(Model):
    type: str = Field(min_length=1, max_length=128, examples=["RenderFailed"])
    message: str = Field(default="", max_length=2000)


class FailRequest(Model):
    token: str = Field(min_length=1, max_length=MAX_TOKEN_CHARS, description="the attempt's completion token")
    error: FailureError
    retry: bool = Field(default=False, description="retry with backoff while attempts remain")


class HeartbeatProgress(Model):
    percent: float = Field(ge=0, le=100)
    message: str | None = Field(default=None, max_length=MAX_PROGRESS_MESSAGE_CHARS)


class HeartbeatRequest(Model):
    token: str = Field(min_length=1, max_length=MAX_TOKEN_CHARS, description="the attempt's completion token")
    progress: HeartbeatProgress | None = None


class ResultUploadRequest(Model):
    token: str = Field(min_length=1, max_length=MAX_TOKEN_CHARS, description="the attempt's completion token")
