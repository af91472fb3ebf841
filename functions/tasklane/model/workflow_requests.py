"""The pydantic shape of POST /workflows (the submit function's only other pydantic besides
tasklane.model.requests). The tree itself is checked node by node by tasklane.logic.workflows.creation,
so that a problem is named by its node's path (`root.chain[2].task.payload.n`)."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, field_validator

from tasklane.limits import MAX_CALLBACK_URL_CHARS
from tasklane.model.requests import Model
from tasklane.model.workflow import OnFailure


class WorkflowRequest(Model):
    """A workflow: its root node, what a failed task does to it, and the webhook of its end."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    root: dict[str, Any] = Field(
        description='A node: {"task": {submission}}, {"chain": [node, ...]}, {"group": [node, ...]} or '
        '{"chord": {"group": [node, ...], "then": node}}',
        examples=[{"chain": [{"task": {"task_type": "echo", "payload": {"n": 1}}}, {"task": {"task_type": "echo"}}]}],
    )
    on_failure: OnFailure = OnFailure.FAIL
    callback_url: str | None = Field(
        default=None,
        max_length=MAX_CALLBACK_URL_CHARS,
        description="https URL that gets the workflow's summary, signed, when it completes, fails or is cancelled",
    )

    @field_validator("callback_url")
    @classmethod
    def public_https(cls, url: str | None) -> str | None:
        if url is not None:
            from tasklane.destinations.urls import parse_target

            parse_target(url, allow_loopback=True)
        return url
