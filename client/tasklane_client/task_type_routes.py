"""The task-type routes of the client: the types you may submit, and your own."""

from __future__ import annotations

from typing import Any

from tasklane_client.connection import Connection, quote


class TaskTypeRoutes:
    """/task-types."""

    connection: Connection

    def put_task_type(self, name: str, definition: dict[str, Any]) -> dict[str, Any]:
        """Register (or replace) your task type `name`: {"target": {"url": ...} | {"lambda": ARN}, "mode",
        "payload_schema", "priority", "timeout_seconds", "max_attempts", "rate_limit", "description"}."""
        return self.connection.call("PUT", f"/task-types/{quote(name)}", definition)

    def list_task_types(self) -> list[dict[str, Any]]:
        """Every type you may submit: the built-ins (with their payload schemas), then yours."""
        return self.connection.call("GET", "/task-types")["items"]

    def get_task_type(self, name: str) -> dict[str, Any]:
        return self.connection.call("GET", f"/task-types/{quote(name)}")

    def delete_task_type(self, name: str) -> None:
        self.connection.call("DELETE", f"/task-types/{quote(name)}")
