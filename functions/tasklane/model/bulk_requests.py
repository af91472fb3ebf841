"""The pydantic shapes of POST /tasks/bulk and of its answers. Only the submit function validates
with them; the OpenAPI document describes GET /tasks/bulk/{bulk_id} with BulkProgress too."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, ConfigDict, Field, StrictBool, ValidationError, field_validator

from tasklane.model import clock
from tasklane.model.bulk import BulkAction, BulkFilter, BulkOrder
from tasklane.model.errors import ValidationFailed, field_details
from tasklane.model.lanes import Lane
from tasklane.model.requests import Model
from tasklane.model.task import TaskStatus


class BulkFilterRequest(Model):
    """Which of the caller's tasks: every field narrows; none given means every task the action applies to."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    status: TaskStatus | None = Field(
        default=None, description="cancel: pending or scheduled; retry: failed or cancelled (default: both)"
    )
    task_type: str | None = Field(default=None, min_length=1, max_length=64)
    priority: Lane | None = None
    created_after: AwareDatetime | None = Field(default=None, description="Created at or after (ISO 8601 with zone)")
    created_before: AwareDatetime | None = Field(default=None, description="Created before (ISO 8601 with zone)")

    @field_validator("created_after", "created_before", mode="before")
    @classmethod
    def iso_text(cls, value: Any) -> Any:
        if value is not None and not isinstance(value, str):
            raise ValueError("must be ISO 8601 text with a zone, e.g. 2026-12-01T09:00:00Z")
        return value


class BulkRequest(Model):
    """POST /tasks/bulk: an action, the filter of the tasks it applies to, and whether only to count."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    action: BulkAction
    filter: BulkFilterRequest = Field(default_factory=BulkFilterRequest)
    dry_run: StrictBool = Field(default=False, description="Only count the tasks that match; change nothing")

    def order(self) -> BulkOrder:
        f = self.filter

        def text(moment: datetime | None) -> str | None:
            return clock.iso(moment) if moment else None

        found = BulkFilter(f.status, f.task_type, f.priority, text(f.created_after), text(f.created_before))
        return BulkOrder(self.action, found, self.dry_run)


class BulkAccepted(Model):
    bulk_id: str
    status: str = Field(examples=["running"])
    dry_run: bool


class BulkProgress(Model):
    bulk_id: str
    action: BulkAction
    filter: dict[str, str]
    dry_run: bool
    status: str = Field(description="running | done")
    matched: int = Field(description="Tasks of the filter in a status the action applies to")
    changed: int = Field(description="Tasks the action moved")
    skipped: int = Field(description="Matched tasks something else moved first (or whose payload expired)")
    created_at: str
    finished_at: str | None = None


def parse_bulk_request(body: Any) -> BulkRequest:
    """The body as a BulkRequest; 422 naming each field that does not validate."""
    if not isinstance(body, dict):
        raise ValidationFailed("the request is not valid", [{"field": "body", "message": "must be a JSON object"}])
    try:
        request = BulkRequest.model_validate(body)
    except ValidationError as exc:
        raise ValidationFailed("the request is not valid", field_details(exc.errors())) from None
    problems = []
    status, after, before = request.filter.status, request.filter.created_after, request.filter.created_before
    if status is not None and status not in request.action.applies_to:
        allowed = " or ".join(s.value for s in request.action.applies_to)
        message = f"{request.action.value} applies to {allowed} tasks, not {status.value} ones"
        problems.append({"field": "filter.status", "message": message})
    if after and before and after >= before:
        problems.append({"field": "filter.created_after", "message": "must be earlier than filter.created_before"})
    if problems:
        raise ValidationFailed("the request is not valid", problems)
    return request
