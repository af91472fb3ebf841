"""The task types this deployment runs: the built-ins (tasklane.task_types.builtin, where yours go)
and, where the stack sets DemoTaskTypes=true, the demo types that exist to test failure."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from tasklane.model.errors import UnknownTaskType
from tasklane.settings import settings

if TYPE_CHECKING:
    from tasklane.model.rates import Rate
    from tasklane.task_types.registry import TaskType

# The names of the built-in and demo types, declared apart from the types themselves so that a
# processor running a registered type tells its name from a built-in's without importing every
# built-in (and pydantic with them): a test checks them against the registry. A type added to
# builtin.py adds its name here.
BUILTIN_NAMES = frozenset({"echo", "compute", "add", "resize_image", "generate_report", "send_email"})
DEMO_NAMES = frozenset({"sleep", "fail", "blob"})


def is_builtin(name: str) -> bool:
    """Whether `name` is a built-in's (or a demo type's, offered or not), never a registered type's:
    one of the declared names, or of a type already registered with `@task` in this process."""
    if name in BUILTIN_NAMES or name in DEMO_NAMES:
        return True
    # Registering with @task loads the registry: where it is not loaded, no type is registered, and a
    # processor running a registered type does not load it (nor the rate parser) to learn that.
    registry = sys.modules.get("tasklane.task_types.registry")
    return registry is not None and name in registry.registered()


def task_types(demo: bool | None = None) -> dict[str, TaskType]:
    """Every type offered here (demo types where `demo`, by default where the stack offers them)."""
    # Registration happens on import; the demo types are not even imported where they are not offered.
    import tasklane.task_types.builtin  # noqa: F401
    from tasklane.task_types.registry import registered

    offer_demo = settings().demo_task_types if demo is None else demo
    if offer_demo:
        import tasklane.task_types.demo  # noqa: F401
    return {name: t for name, t in registered().items() if offer_demo or not t.demo}


def get_task_type(name: str, demo: bool | None = None) -> TaskType:
    types = task_types(demo)
    try:
        return types[name]
    except KeyError:
        raise UnknownTaskType(name, sorted(types)) from None


def rate_limit(task_type: TaskType) -> Rate | None:
    """The rate this deployment holds a type to: the stack's override (RateLimits), else its own."""
    overrides = settings().rate_limits
    return overrides.get(task_type.name, task_type.rate_limit)
