"""The schedule routes of the client: recurring schedules that submit a task at each firing."""

from __future__ import annotations

from typing import Any

from tasklane_client.connection import Connection, quote


class ScheduleRoutes:
    """/schedules."""

    connection: Connection

    def create_schedule(
        self,
        name: str,
        task: dict[str, Any],
        *,
        cron: str | None = None,
        rate: str | None = None,
        timezone: str = "UTC",
    ) -> dict[str, Any]:
        """A recurring schedule: `cron` ("0 9 ? * MON-FRI *", EventBridge's six fields) or `rate`
        ("15 minutes"), read in `timezone`; each firing submits `task`, a submission body
        ({"task_type", "payload", "priority", ...}). The schedule, with its next fire times."""
        body = {"name": name, "cron": cron, "rate": rate, "timezone": timezone, "task": task}
        return self.connection.call("POST", "/schedules", {k: v for k, v in body.items() if v is not None})

    def list_schedules(self) -> list[dict[str, Any]]:
        """Your schedules, each with its next fire time."""
        return self.connection.call("GET", "/schedules")["items"]

    def get_schedule(self, name: str) -> dict[str, Any]:
        """One of your schedules with its next five fire times."""
        return self.connection.call("GET", f"/schedules/{quote(name)}")

    def edit_schedule(self, name: str, **changes: Any) -> dict[str, Any]:
        """Change what is given of `cron`, `rate` (one replaces the other), `timezone`, `task` (its
        fields merged into the task; a task field given as None is removed) and `paused`; the rest
        stays. The schedule as edited, with its next fire times."""
        body = {k: v for k, v in changes.items() if v is not None}
        return self.connection.call("PATCH", f"/schedules/{quote(name)}", body)

    def pause_schedule(self, name: str) -> dict[str, Any]:
        return self.connection.call("PATCH", f"/schedules/{quote(name)}", {"paused": True})

    def resume_schedule(self, name: str) -> dict[str, Any]:
        return self.connection.call("PATCH", f"/schedules/{quote(name)}", {"paused": False})

    def delete_schedule(self, name: str) -> None:
        self.connection.call("DELETE", f"/schedules/{quote(name)}")
