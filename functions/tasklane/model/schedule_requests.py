"""The pydantic shapes of the schedules routes: a schedule to create, a pause or resume, and the task
each firing submits (an ordinary submission). Only the schedules function loads them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator

from tasklane.model.requests import Model, SubmitRequest


class ScheduledSubmission(SubmitRequest):
    """The task a recurring schedule submits at each firing: an ordinary submission, started by the firing."""

    @field_validator("run_at")
    @classmethod
    def starts_at_each_firing(cls, value: datetime | None) -> datetime | None:
        if value is not None:
            raise ValueError("a schedule's task starts at each firing: give no run_at (delay_seconds may follow it)")
        return value


class ScheduleRequest(Model):
    """POST /schedules: a name of the caller's, a cron or a rate, its time zone, and the task to submit."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$", examples=["nightly-report"])
    cron: str | None = Field(
        default=None,
        validate_default=True,
        description="EventBridge cron: minutes hours day-of-month month day-of-week year (one of the days '?')",
        examples=["0 9 ? * MON-FRI *"],
    )
    rate: str | None = Field(
        default=None, validate_default=True, description="N minute(s), hour(s) or day(s)", examples=["15 minutes"]
    )
    timezone: str = Field(default="UTC", description="IANA time zone the cron is read in", examples=["Europe/Paris"])
    task: ScheduledSubmission

    @field_validator("name")
    @classmethod
    def reachable_by_url(cls, value: str) -> str:
        """`.` and `..` are path segments every HTTP client folds away: /schedules/.. could never be read."""
        if value in (".", ".."):
            raise ValueError("'.' and '..' cannot be used: HTTP clients remove them from a URL's path")
        return value

    # tasklane.model.recurrence (and cronsim) are imported where they are used: the submit function,
    # which loads this module too, never needs them.
    @field_validator("cron")
    @classmethod
    def valid_cron(cls, value: str | None) -> str | None:
        from tasklane.model.recurrence import parse_cron

        return None if value is None else parse_cron(value).expression

    @field_validator("rate")
    @classmethod
    def one_of_cron_or_rate(cls, value: str | None, info: ValidationInfo) -> str | None:
        # A cron that failed its own check is absent from info.data (and reported there).
        cron = info.data.get("cron", "invalid")
        if value is None and cron is None:
            raise ValueError("give cron or rate")
        if value is not None and cron is not None:
            raise ValueError("give cron or rate, not both")
        from tasklane.model.recurrence import parse_rate

        return None if value is None else parse_rate(value)

    @field_validator("timezone")
    @classmethod
    def valid_timezone(cls, value: str) -> str:
        from tasklane.model.recurrence import parse_timezone

        parse_timezone(value)
        return value


class SchedulePatch(Model):
    """PATCH /schedules/{name}: what to change, any of the fields below (at least one), each checked as
    on create. A cron replaces a rate and a rate a cron; `task` names the task's fields to change."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    cron: str | None = Field(default=None, description="a new cron (replaces a rate)", examples=["0 9 ? * * *"])
    rate: str | None = Field(default=None, description="a new rate (replaces a cron)", examples=["1 hour"])
    timezone: str | None = Field(default=None, description="a new IANA time zone", examples=["Europe/Paris"])
    task: dict[str, Any] | None = Field(
        default=None,
        description="the task's fields to change, as in POST /schedules' task (a field set to null is removed)",
        examples=[{"payload": {"report": "weekly"}, "priority": "high"}],
    )
    paused: bool | None = Field(default=None, strict=True, description="pause (true) or resume (false)")

    @field_validator("cron", "rate", "timezone", "task", "paused", mode="before")
    @classmethod
    def not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("cannot be null: leave the field out to keep it")
        return value

    @field_validator("cron")
    @classmethod
    def valid_cron(cls, value: str) -> str:
        from tasklane.model.recurrence import parse_cron

        return parse_cron(value).expression

    @field_validator("rate")
    @classmethod
    def one_of_cron_or_rate(cls, value: str, info: ValidationInfo) -> str:
        if "cron" in info.data and info.data["cron"] is not None:
            raise ValueError("give cron or rate, not both")
        from tasklane.model.recurrence import parse_rate

        return parse_rate(value)

    @field_validator("timezone")
    @classmethod
    def valid_timezone(cls, value: str) -> str:
        from tasklane.model.recurrence import parse_timezone

        parse_timezone(value)
        return value

    @model_validator(mode="after")
    def changes_something(self) -> SchedulePatch:
        if not self.model_fields_set:
            raise ValueError("give at least one of cron, rate, timezone, task and paused to change")
        return self
