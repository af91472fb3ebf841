"""The task-type registry: a name, a pydantic payload model and the function that runs it.

Task types register themselves with `@task`; tasklane.task_types imports them and looks them up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypedDict, Unpack

from tasklane.model.errors import ValidationFailed, field_details
from tasklane.model.rates import Rate, parse_rate
from tasklane.records import record
from tasklane.task_types import BUILTIN_NAMES, DEMO_NAMES

if TYPE_CHECKING:
    from pydantic import BaseModel


class TaskContext(Protocol):
    """What a running task may use: its identity and a way to report progress."""

    task_id: str
    attempt: int
    inputs: list[Any]  # in a workflow: the results of what the task waited for, in order; else []

    def report_progress(self, percent: float, message: str | None = None) -> None: ...

    def remaining_seconds(self) -> float: ...


@record
class TaskType:
    """A registered task type: its payload model, its function and how it runs."""

    name: str
    payload: type[BaseModel]
    run: Callable[[Any, TaskContext], Any]
    timeout_seconds: int
    max_attempts: int
    demo: bool = False  # offered only where the stack sets DemoTaskTypes=true
    rate_limit: Rate | None = None  # starts across every processor; a stack may override it (RateLimits)

    def parse_payload(self, payload: dict[str, Any]) -> BaseModel:
        """Validate a payload against this type's model; field paths start at `payload`. Strictly, as JSON:
        true and false are not numbers, nor "5" a number (lax pydantic would read true as 1). A payload
        the JSON reader cannot take (an integer past its range, which tasklane accepts up to
        MAX_INTEGER_DIGITS) is validated as before, laxly."""
        import json

        from pydantic import ValidationError  # loaded with the payload models, by the first task

        try:
            try:
                return self.payload.model_validate_json(json.dumps(payload), strict=True)
            except ValidationError as exc:
                if not any(e["type"] == "json_invalid" for e in exc.errors(include_url=False)):
                    raise
            return self.payload.model_validate(payload)
        except ValidationError as exc:
            raise ValidationFailed(
                f"invalid payload for task type {self.name!r}",
                field_details(exc.errors(include_url=False), prefix=("payload",)),
            ) from None


_TYPES: dict[str, TaskType] = {}

# The modules whose types are built in, and the names tasklane.task_types declares for each.
_DECLARING = {"tasklane.task_types.builtin": BUILTIN_NAMES, "tasklane.task_types.demo": DEMO_NAMES}


class TaskOptions(TypedDict, total=False):
    """How a task type runs: its default timeout and attempts, whether it is a demo type, its rate."""

    timeout_seconds: int
    max_attempts: int
    demo: bool
    rate_limit: str  # e.g. "5/s", "100/m", "1000/h"


def task(
    name: str, *, payload: type[BaseModel], **options: Unpack[TaskOptions]
) -> Callable[[Callable[[Any, TaskContext], Any]], Callable[[Any, TaskContext], Any]]:
    """Register a function as the task type `name`."""
    rate = options.get("rate_limit")

    def register(func: Callable[[Any, TaskContext], Any]) -> Callable[[Any, TaskContext], Any]:
        if name in _TYPES:
            raise ValueError(f"task type {name!r} is registered twice")
        if func.__module__ in _DECLARING and name not in _DECLARING[func.__module__]:
            # A processor tells a built-in's name from a registered type's by the declared names alone.
            raise ValueError(f"task type {name!r}: add its name to tasklane.task_types' declared names")
        _TYPES[name] = TaskType(
            name,
            payload,
            func,
            timeout_seconds=options.get("timeout_seconds", 60),
            max_attempts=options.get("max_attempts", 3),
            demo=options.get("demo", False),
            rate_limit=parse_rate(rate) if rate else None,
        )
        return func

    return register


def registered() -> dict[str, TaskType]:
    """Every type registered so far, demo types included."""
    return _TYPES
