"""Task types of your own: register (PUT), list with the built-ins, read and delete an owner's types.

A built-in's name is reserved (409), another owner's type does not exist (404). A target is checked
here as at every call: a URL under the webhooks' address rules, a function ARN of this account that
the stack's TargetFunctionArns allows (the processors' IAM policy names the same patterns).
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from typing import Any, Protocol

from tasklane.data.services import HasSettings, HasTaskTypes
from tasklane.logic import payload_schemas
from tasklane.model import clock
from tasklane.model.errors import BuiltinTaskType, TaskTypeNotFound, ValidationFailed
from tasklane.model.registered_types import NAME, NAME_PATTERN, RegisteredType, Target
from tasklane.model.task_type_requests import TaskTypeRequest
from tasklane.settings.task_types import TaskTypeSettings, task_type_settings
from tasklane.task_types import rate_limit, task_types

FUNCTION_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"function:(?P<name>[A-Za-z0-9_-]{1,64})(?::(?P<qualifier>\$LATEST|[A-Za-z0-9_-]{1,128}))?$"
)


DEFAULT_TIMEOUT_SECONDS = 60


class Registering(HasTaskTypes, HasSettings, Protocol):
    """What registering a type touches: the task-types table (the settings' time limit beside it)."""


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed("the task type is not valid", [{"field": field, "message": message}])


def check_name(name: str) -> None:
    if not NAME.match(name):
        raise _invalid("name", f"must match {NAME_PATTERN}: a lower-case letter, then letters, digits, _ . -")
    if name in task_types(demo=True):  # demo types too: a stack may offer them later
        raise BuiltinTaskType(name)


def check_function(arn: str, settings: TaskTypeSettings) -> None:
    """ValidationFailed naming target.lambda unless the stack lets its processors invoke `arn`."""
    match = FUNCTION_ARN.match(arn)
    if match is None:
        raise _invalid("target.lambda", "must be a Lambda function ARN: arn:aws:lambda:REGION:ACCOUNT:function:NAME")
    if match["account"] != settings.account_id:
        raise _invalid("target.lambda", "must be a function of this stack's account")
    if not any(fnmatchcase(arn, pattern) for pattern in settings.target_function_arns):
        allowed = ", ".join(settings.target_function_arns) or "none (the stack parameter TargetFunctionArns is empty)"
        raise _invalid("target.lambda", f"is not allowed by this stack's TargetFunctionArns: {allowed}")


def check_url(url: str, *, allow_loopback: bool, closed_port: int | None = None) -> None:
    """ValidationFailed naming target.url unless a webhook could be posted there (the same rules)."""
    from tasklane.destinations.check import CallbackRefused, destination
    from tasklane.destinations.receivers import NameNotResolved

    try:
        destination(url, allow_loopback=allow_loopback, closed_port=closed_port)
    except CallbackRefused as exc:
        raise _invalid("target.url", str(exc).removeprefix("callback_url ")) from None
    except NameNotResolved as exc:
        if exc.lasting:
            raise _invalid("target.url", str(exc)) from None


def register(name: str, request: TaskTypeRequest, owner: str, services: Registering) -> tuple[RegisteredType, bool]:
    """Create or replace the owner's type `name`; the type and whether it is new."""
    check_name(name)
    settings = task_type_settings()
    if request.target.url is not None:
        from tasklane.settings.webhooks import webhook_settings

        hooks = webhook_settings()
        check_url(request.target.url, allow_loopback=hooks.allow_loopback, closed_port=hooks.closed_port)
        target = Target("url", request.target.url)
    else:
        check_function(request.target.function or "", settings)
        target = Target("lambda", request.target.function or "")
    limit = services.settings.max_task_timeout_seconds
    timeout = request.timeout_seconds or min(DEFAULT_TIMEOUT_SECONDS, limit)
    if timeout > limit and request.mode != "async":  # async: up to 7 days (the request model caps it)
        raise _invalid("timeout_seconds", f"a sync type runs inside a processor: at most {limit} seconds here")
    payload_schemas.check(request.payload_schema)
    now = clock.iso(clock.now())
    task_type = RegisteredType(
        owner=owner,
        name=name,
        target=target,
        mode=request.mode,
        payload_schema=request.payload_schema,
        priority=request.priority,
        timeout_seconds=timeout,
        max_attempts=request.max_attempts,
        rate_limit=request.rate_limit,
        heartbeat_seconds=request.heartbeat_seconds,
        description=request.description,
        created_at=now,
        updated_at=now,
    )
    records = services.task_types
    while True:  # a replace that finds the type deleted meanwhile adds it again
        existing = records.get(owner, name)
        if existing is None:
            if records.add(task_type, settings.max_per_owner):
                return task_type, True
            continue
        kept = RegisteredType(**{**_fields(task_type), "created_at": existing.created_at})
        if records.replace(kept):
            return kept, False


def _fields(task_type: RegisteredType) -> dict[str, Any]:
    return {name: getattr(task_type, name) for name in RegisteredType.__dataclass_fields__}


def builtin_items() -> list[dict[str, Any]]:
    """The built-in types this deployment offers, each with its payload's JSON Schema (from its model)."""
    items = []
    for task_type in sorted(task_types().values(), key=lambda t: t.name):
        rate = rate_limit(task_type)
        items.append(
            {
                "name": task_type.name,
                "kind": "builtin",
                "target": None,
                "mode": "sync",
                "payload_schema": task_type.payload.model_json_schema(),
                "priority": "normal",
                "timeout_seconds": task_type.timeout_seconds,
                "max_attempts": task_type.max_attempts,
                "rate_limit": str(rate) if rate else None,
                "heartbeat_seconds": None,
                "description": (task_type.run.__doc__ or "").strip() or None,
            }
        )
    return items


def list_types(owner: str, services: HasTaskTypes) -> dict[str, Any]:
    """The built-ins, then the caller's own types, by name."""
    own = sorted(services.task_types.list(owner), key=lambda t: t.name)
    return {"items": [*builtin_items(), *(t.public() for t in own)]}


def get_type(owner: str, name: str, services: HasTaskTypes) -> dict[str, Any]:
    """A built-in, or one of the caller's own types (another owner's is not found)."""
    builtin = next((item for item in builtin_items() if item["name"] == name), None)
    if builtin is not None:
        return builtin
    found = services.task_types.get(owner, name) if NAME.match(name) else None
    if found is None:
        raise TaskTypeNotFound(name)
    return found.public()


def delete_type(owner: str, name: str, services: HasTaskTypes) -> None:
    if name in task_types(demo=True):
        raise BuiltinTaskType(name)
    if not NAME.match(name) or not services.task_types.delete(owner, name):
        raise TaskTypeNotFound(name)
