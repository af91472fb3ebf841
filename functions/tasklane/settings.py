"""Runtime settings, read once from the environment the template sets."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache

from tasklane.lanes import Lane


@dataclass(frozen=True)
class Settings:
    table_name: str
    idempotency_table_name: str
    queue_urls: dict[Lane, str]
    auth_mode: str
    retention_days: int
    max_task_timeout_seconds: int
    max_receive_count: int
    visibility_timeout_seconds: int
    sweep_shards: int
    owner_shards: int
    pending_grace_seconds: int
    values_bucket: str
    max_result_bytes: int
    demo_task_types: bool

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            table_name=env["TABLE_NAME"],
            idempotency_table_name=env["IDEMPOTENCY_TABLE_NAME"],
            queue_urls={lane: env[f"{lane.name}_QUEUE_URL"] for lane in Lane},
            auth_mode=env.get("AUTH_MODE", "iam"),
            retention_days=int(env.get("TASK_RETENTION_DAYS", "30")),
            max_task_timeout_seconds=int(env.get("PROCESSOR_TIMEOUT_SECONDS", "300")) - 30,
            max_receive_count=int(env.get("MAX_RECEIVE_COUNT", "5")),
            visibility_timeout_seconds=int(env.get("VISIBILITY_TIMEOUT_SECONDS", "1800")),
            sweep_shards=int(env.get("SWEEP_SHARDS", "8")),
            owner_shards=int(env.get("OWNER_SHARDS", "8")),
            pending_grace_seconds=int(env.get("PENDING_GRACE_SECONDS", "300")),
            values_bucket=env["VALUES_BUCKET"],
            max_result_bytes=int(env.get("MAX_RESULT_BYTES", str(10 * 1024 * 1024))),
            demo_task_types=env.get("DEMO_TASK_TYPES", "false").lower() == "true",
        )


# Every variable Settings.from_env reads; the template test checks each is set.
REQUIRED_ENV = (
    "TABLE_NAME",
    "IDEMPOTENCY_TABLE_NAME",
    "VALUES_BUCKET",
    "MAX_RESULT_BYTES",
    "DEMO_TASK_TYPES",
    *(f"{lane.name}_QUEUE_URL" for lane in Lane),
)


@cache
def settings() -> Settings:
    """The settings of this container, parsed on first use."""
    return Settings.from_env()
