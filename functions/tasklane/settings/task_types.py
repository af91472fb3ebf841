"""The settings of task types of your own (tasklane.logic.task_types, tasklane.logic.targets): set in
Globals, read by the functions that register, resolve or run such a type."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache

from tasklane.records import record


@record
class TaskTypeSettings:
    """Where registered types live, how many an owner may have, and which functions may be targets."""

    table_name: str
    max_per_owner: int  # MaxTaskTypesPerOwner
    # TargetFunctionArns: ARN patterns (IAM wildcards * and ?) of the functions a type may invoke; none
    # by default. The processors' role may invoke exactly these.
    target_function_arns: tuple[str, ...]
    account_id: str  # the stack's own account: a target function must be in it
    api_url: str = ""  # the API's base URL, for an async envelope's completion routes (processors only)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> TaskTypeSettings:
        patterns = tuple(p.strip() for p in env["TARGET_FUNCTION_ARNS"].split(",") if p.strip())
        return cls(
            table_name=env["TASK_TYPES_TABLE_NAME"],
            max_per_owner=int(env["MAX_TASK_TYPES_PER_OWNER"]),
            target_function_arns=patterns,
            account_id=env["STACK_ACCOUNT_ID"],
            api_url=env.get("API_URL", "").rstrip("/"),
        )


TASK_TYPES_REQUIRED_ENV = (
    "TASK_TYPES_TABLE_NAME",
    "MAX_TASK_TYPES_PER_OWNER",
    "TARGET_FUNCTION_ARNS",
    "STACK_ACCOUNT_ID",
)


@cache
def task_type_settings() -> TaskTypeSettings:
    """The settings of registered task types, parsed on first use."""
    return TaskTypeSettings.from_env()
