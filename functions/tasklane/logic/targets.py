"""Running a task of a registered type: its target (a URL or a Lambda function) gets the envelope,
and its answer becomes the attempt's outcome. The lane machinery around it (claim, time limit,
retries and backoff, rate limits, DLQ, events, webhooks) is the built-ins', unchanged."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from tasklane.data.services import (
    HasClaims,
    HasLimits,
    HasNotifications,
    HasQueues,
    HasSettings,
    HasStore,
    HasTargetFunctions,
    HasTaskTypes,
    HasValues,
)
from tasklane.logic.offered_types import registered_type
from tasklane.logic.target_outcomes import TaskTypeRemoved
from tasklane.task_types import get_task_type, is_builtin

if TYPE_CHECKING:
    from tasklane.data.tasks.codec import StoredTask
    from tasklane.model.message import TaskMessage


class TypeRunning(HasTaskTypes, HasSettings, HasValues, HasStore, HasTargetFunctions, HasNotifications, Protocol):
    """What running a task of a registered type touches: its record (task-types table), then its
    target's call (the values bucket, an async attempt's token in the tasks table, a Lambda target, the
    owner's signing secret)."""


class Processing(TypeRunning, HasQueues, HasLimits, HasClaims, Protocol):
    """What processing a lane message touches: besides a registered type's run, the lane queues, the
    limits table (the owner's slots) and a rate-limited claim (the tasks and limits tables together)."""


def runnable_type(stored: StoredTask, message: TaskMessage, services: TypeRunning) -> Any:
    """What runs the task: its built-in type, or a TargetRun of the owner's registered type (from the
    processor's cache); TaskTypeRemoved when that type was deleted."""
    name = stored.task.task_type
    if is_builtin(name):
        return get_task_type(name)  # UnknownTaskType for a demo type this stack does not offer
    found = registered_type(stored.owner, name, services)
    if found is None:
        raise TaskTypeRemoved(name)
    from tasklane.logic.target_calls import TargetRun

    return TargetRun(found, stored, message, services)
