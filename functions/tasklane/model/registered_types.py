"""A task type registered at run time by its owner: where its code runs (a URL or a Lambda function),
how (sync or async), the JSON Schema of its payload and its defaults.

Plain dataclasses: processors read these without pydantic. The request shape that creates one is
tasklane.model.task_type_requests (the task-types function's only).
"""

from __future__ import annotations

import json
import re
from typing import Any

from tasklane.model.lanes import Lane
from tasklane.records import record

NAME_PATTERN = r"^[a-z][a-z0-9_.-]{0,63}$"
NAME = re.compile(NAME_PATTERN)
KINDS = ("url", "lambda")
MODES = ("sync", "async")
# Async work is finished through the API; it may take up to a week (Cloud Tasks' and QStash's limits
# are shorter; Step Functions' task tokens last a year).
MAX_ASYNC_TIMEOUT_SECONDS = 7 * 24 * 3600
# A type's schema as its owner sent it, bounded: the table item holds it, and every submission of the
# type compiles it once per container.
MAX_SCHEMA_BYTES = 64 * 1024


@record(slots=True)
class Target:
    """Where a registered type's tasks run: `kind` url (its https URL) or lambda (its function ARN)."""

    kind: str
    address: str

    def public(self) -> dict[str, str]:
        return {self.kind: self.address}


@record(slots=True, kw_only=True)
class RegisteredType:
    """One owner's task type: its target, its mode, its payload's schema and its defaults."""

    owner: str
    name: str
    target: Target
    mode: str = "sync"
    payload_schema: dict[str, Any]
    priority: Lane = Lane.NORMAL
    timeout_seconds: int = 60
    max_attempts: int = 3
    rate_limit: str | None = None
    heartbeat_seconds: int | None = None
    description: str | None = None
    created_at: str
    updated_at: str

    @property
    def kind(self) -> str:
        return self.target.kind

    def public(self) -> dict[str, Any]:
        """The type as GET /task-types shows it to its owner."""
        return {
            "name": self.name,
            "kind": self.kind,
            "target": self.target.public(),
            "mode": self.mode,
            "payload_schema": self.payload_schema,
            "priority": self.priority.value,
            "timeout_seconds": self.timeout_seconds,
            "max_attempts": self.max_attempts,
            "rate_limit": self.rate_limit,
            "heartbeat_seconds": self.heartbeat_seconds,
            "description": self.description,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }

    def to_record(self) -> dict[str, Any]:
        """What the task-types table keeps (the schema as its JSON text)."""
        record = self.public()
        record["payload_schema"] = json.dumps(self.payload_schema, separators=(",", ":"))
        record["owner"] = self.owner
        return record

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> RegisteredType:
        """The one parser of a stored type (tasklane.data.task_types reads the item into `record`)."""
        (kind, address), *_ = record["target"].items()
        return cls(
            owner=record["owner"],
            name=record["name"],
            target=Target(kind, address),
            mode=record["mode"],
            payload_schema=json.loads(record["payload_schema"]),
            priority=Lane(record["priority"]),
            timeout_seconds=int(record["timeout_seconds"]),
            max_attempts=int(record["max_attempts"]),
            rate_limit=record.get("rate_limit"),
            heartbeat_seconds=int(record["heartbeat_seconds"]) if record.get("heartbeat_seconds") else None,
            description=record.get("description"),
            created_at=record["created_at"],
            updated_at=record["updated_at"],
        )
