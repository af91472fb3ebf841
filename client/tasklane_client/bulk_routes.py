"""The bulk routes of the client: one action on every task of a filter, run by the server."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tasklane_client.connection import Connection, quote
from tasklane_client.errors import TasklaneError


class BulkRoutes:
    """/tasks/bulk."""

    connection: Connection

    def start_bulk(self, action: str, filter: dict[str, Any] | None = None, *, dry_run: bool = False) -> dict[str, Any]:
        """Cancel ("cancel") or retry ("retry") every task of yours that `filter` selects ({"status",
        "task_type", "priority", "created_after", "created_before"}), on the server, in the background;
        `dry_run` only counts them. {"bulk_id", "status": "running", "dry_run"}: follow get_bulk."""
        body = {"action": action, "filter": filter or {}, "dry_run": dry_run}
        return self.connection.call("POST", "/tasks/bulk", body)

    def get_bulk(self, bulk_id: str) -> dict[str, Any]:
        """A bulk action's progress: {"status": "running" | "done", "matched", "changed", "skipped", ...}."""
        return self.connection.call("GET", f"/tasks/bulk/{quote(bulk_id)}")

    def wait_bulk(
        self,
        bulk_id: str,
        timeout: float | None = None,
        *,
        poll_seconds: float = 1.0,
        on_update: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Poll a bulk action until it is done (WaitTimeout after `timeout` seconds); its last progress."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            progress = self.get_bulk(bulk_id)
            if on_update:
                on_update(progress)
            if progress["status"] == "done":
                return progress
            if deadline is not None and time.monotonic() >= deadline:
                message = f"bulk action {bulk_id} still running after {timeout:g}s"
                raise TasklaneError(message, code="wait_timeout", details=progress)
            time.sleep(poll_seconds)
