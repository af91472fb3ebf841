"""The type of a task as submission and the processors see it: a built-in (tasklane.task_types), or
one of its owner's registered types (tasklane.logic.task_types).

Submission reads a registered type afresh (a consistent read: a type just put is used at once).
Processors and the rate holder keep each definition for CACHE_SECONDS per container, so a change
(or a deletion) reaches tasks that start at most that long after it; tasks already running keep the
definition they started with.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tasklane.data.services import HasTaskTypes
from tasklane.model.errors import UnknownTaskType
from tasklane.model.lanes import Lane
from tasklane.model.registered_types import MAX_ASYNC_TIMEOUT_SECONDS, NAME, RegisteredType
from tasklane.records import record
from tasklane.task_types import get_task_type

CACHE_SECONDS = 30
MAX_CACHED = 1000
_CACHE: dict[tuple[str, str], tuple[float, RegisteredType | None]] = {}


@record
class OfferedType:
    """What a submission needs of its type: its defaults, its limit, and its payload check."""

    name: str
    timeout_seconds: int
    max_attempts: int
    priority: Lane | None  # a registered type's default lane; built-ins default to the request's
    max_timeout_seconds: int | None  # above the processor's limit (async types only), else None
    check_payload: Callable[[dict[str, Any]], dict[str, Any]]
    registered: RegisteredType | None = None


def offered(name: str, owner: str, services: HasTaskTypes) -> OfferedType:
    """The type `name` as `owner` may submit it; UnknownTaskType (422) when there is none."""
    try:
        builtin = get_task_type(name)
    except UnknownTaskType:
        found = services.task_types.get(owner, name) if NAME.match(name) else None
        if found is None:
            raise
        return _registered(found)
    return OfferedType(
        builtin.name,
        builtin.timeout_seconds,
        builtin.max_attempts,
        None,
        None,
        lambda payload: builtin.parse_payload(payload).model_dump(mode="json"),
    )


def _registered(found: RegisteredType) -> OfferedType:
    def check(payload: dict[str, Any]) -> dict[str, Any]:
        from tasklane.logic import payload_schemas  # the validator loads with the first registered type

        payload_schemas.validate(found.payload_schema, payload, found.name)
        return payload

    longest = MAX_ASYNC_TIMEOUT_SECONDS if found.mode == "async" else None
    return OfferedType(
        found.name, found.timeout_seconds, found.max_attempts, found.priority, longest, check, registered=found
    )


def registered_type(owner: str, name: str, services: HasTaskTypes) -> RegisteredType | None:
    """The owner's registered type `name` as a processor sees it: cached for CACHE_SECONDS (a
    deletion too), None when it does not exist (or a built-in has the name)."""
    key = (owner, name)
    now = time.monotonic()
    cached = _CACHE.get(key)
    if cached is not None and now - cached[0] < CACHE_SECONDS:
        return cached[1]
    found = services.task_types.get(owner, name, consistent=False) if NAME.match(name) else None
    if len(_CACHE) >= MAX_CACHED:
        _CACHE.clear()  # bounded: a container serving many owners reads them again
    _CACHE[key] = (now, found)
    return found


def forget_cached() -> None:
    """Forget every cached definition (tests; a container keeps them for CACHE_SECONDS)."""
    _CACHE.clear()
