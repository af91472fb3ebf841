"""The workflow routes of the client: submit a tree of tasks, follow it, cancel it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tasklane_client.connection import Connection, quote


class WorkflowRoutes:
    """/workflows, and a workflow's tasks."""

    connection: Connection

    def submit_workflow(
        self,
        root: dict[str, Any],
        *,
        on_failure: str = "fail",
        callback_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Submit a tree built with tasklane_client.workflows (chain, group, chord, task); the workflow."""
        body: dict[str, Any] = {"root": root, "on_failure": on_failure}
        if callback_url is not None:
            body["callback_url"] = callback_url
        return self.connection.call("POST", "/workflows", body, idempotency_key=idempotency_key)

    def get_workflow(self, workflow_id: str) -> dict[str, Any]:
        """A workflow: status, counts, its tree with each task's id and status, the last node's result."""
        return self.connection.call("GET", f"/workflows/{quote(workflow_id)}")

    def list_workflows(self, *, limit: int = 50) -> list[dict[str, Any]]:
        """Your latest workflows, newest first."""
        return self.connection.call("GET", f"/workflows?limit={limit}")["workflows"]

    def cancel_workflow(self, workflow_id: str) -> dict[str, Any]:
        """Cancel what has not started; a running task finishes and keeps its result."""
        return self.connection.call("DELETE", f"/workflows/{quote(workflow_id)}")

    def workflow_tasks(self, workflow_id: str) -> Iterator[dict[str, Any]]:
        """The workflow's tasks in the order of its tree (summaries: no payload or result)."""
        cursor: str | None = None
        while True:
            query = f"/tasks?workflow_id={quote(workflow_id)}&limit=100" + (f"&cursor={cursor}" if cursor else "")
            page = self.connection.call("GET", query)
            yield from page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return
