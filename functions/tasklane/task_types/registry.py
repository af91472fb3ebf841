"""The task-type registry: a name, a pydantic payload model and the function that runs it.

Task types register themselves with `@task`; tasklane.task_types imports them and looks them up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from tasklane.model.errors import ValidationFailed, field_details

if TYPE_CHECKING:
    from pydantic import BaseModel


class TaskContext(Protocol):
    """What a running task may use: its identity and a way to report progress."""

    task_id: str
    attempt: int

    def report_progress(self, percent: float, message: str | None = None) -> None: ...

    def remaining_seconds(self) -> float: ...


@dataclass(frozen=True)
class TaskType:
    name: str
    payload: type[BaseModel]
    run: Callable[[Any, TaskContext], Any]
    timeout_seconds: int
    max_attempts: int
    demo: bool = False  # offered only where the stack sets DemoTaskTypes=true

    def parse_payload(self, payload: dict[str, Any]) -> BaseModel:
        """Validate a payload against this type's model; field paths start at `payload`."""
        from pydantic import ValidationError  # loaded with the payload models, by the first task

        try:
            return self.payload.model_validate(payload)
        except ValidationError as exc:
            raise ValidationFailed(
                f"invalid payload for task type {self.name!r}",
                field_details(exc.errors(include_url=False), prefix=("payload",)),
            ) from None


_TYPES: dict[str, TaskType] = {}


def task(
    name: str, *, payload: type[BaseModel], timeout_seconds: int = 60, max_attempts: int = 3, demo: bool = False
) -> Callable[[Callable[[Any, TaskContext], Any]], Callable[[Any, TaskContext], Any]]:
    """Register a function as the task type `name`."""

    def register(func: Callable[[Any, TaskContext], Any]) -> Callable[[Any, TaskContext], Any]:
        if name in _TYPES:
            raise ValueError(f"task type {name!r} is registered twice")
        _TYPES[name] = TaskType(name, payload, func, timeout_seconds, max_attempts, demo)
        return func

    return register


def registered() -> dict[str, TaskType]:
    """Every type registered so far, demo types included."""
    return _TYPES
