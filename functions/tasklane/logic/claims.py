"""A delivery's claim of its task. A task of a rate-limited type is claimed together with its type's
start (one transaction, one moment: tasklane.data.claims), so the rate holds on the tasks' own
`started_at` across processors whose clocks and latencies differ, and a delivery that claims nothing
spends nothing. A task of a type without a rate pays one conditional write, as it always did."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from tasklane.data.claims import RateRefused, RateStart, claim_change
from tasklane.data.services import HasClaims, HasSettings, HasStore, HasTaskTypes
from tasklane.data.tasks.codec import StoredTask
from tasklane.logic.throttling import RATE_LIMIT, Hold
from tasklane.model import clock
from tasklane.model.errors import UnknownTaskType
from tasklane.model.message import TaskMessage
from tasklane.records import record
from tasklane.task_types import get_task_type, is_builtin, rate_limit

if TYPE_CHECKING:
    from tasklane.model.rates import Rate

# A start due within this long is waited for in place, as a worker would, rather than sent back to
# the lane: the next message of a batch of one type is usually one interval away, and a second's
# trip through the queue per message would hold a type far under its rate.
WAIT_IN_PLACE_MS = 2000


class Claiming(HasStore, HasClaims, HasSettings, HasTaskTypes, Protocol):
    """What a claim touches: the tasks table (and with a rate the limits table), the owner's task types
    for a registered type's rate."""


@record
class Claimed:
    """The task as this delivery's claim left it, the claim's moment and the run's lease."""

    stored: StoredTask
    now: datetime
    lease_until: int


def claim(message: TaskMessage, services: Claiming, lease_for: Callable[[datetime], int]) -> Claimed | Hold:
    """Claim the message's task now (its lease from `lease_for(now)`), or the Hold of its type's rate
    when the next start is further away than a wait in place. TransitionRejected, with the task as it
    is, when the task may not be claimed (no start spent)."""
    rate, key = rate_of(message, services)
    limit = message.timeout_seconds or services.settings.max_task_timeout_seconds  # shown as its deadline
    waited = 0
    while True:
        now = clock.now()
        lease_until = lease_for(now)
        if rate is None:
            stored = services.store.mark_processing(message.task_id, message.owner, now, lease_until, limit)
            return Claimed(stored, now, lease_until)
        change = claim_change(message.owner, now, lease_until, limit)
        start = RateStart(key, rate.interval_ms)
        try:
            stored = services.claims.claim_with_start(
                message.task_id, message.attempt, change, start, clock.epoch_ms(now)
            )
        except RateRefused as refused:
            if waited + refused.wait_ms > WAIT_IN_PLACE_MS:
                return Hold(RATE_LIMIT, math.ceil(refused.wait_ms / 1000))
            clock.sleep(refused.wait_ms / 1000)
            waited += refused.wait_ms
            continue
        return Claimed(stored, now, lease_until)


def rate_of(message: TaskMessage, services: HasTaskTypes) -> tuple[Rate | None, str]:
    """The rate the message's type is held to and the limit's key: a built-in's (shared by every
    owner), or a registered type's (its owner's own: two owners' types of one name do not share)."""
    task_type = message.task_type
    if task_type is None:
        return None, ""  # a message from before messages named their type: not held
    if is_builtin(task_type):
        try:
            return rate_limit(get_task_type(task_type)), f"rate#{task_type}"
        except UnknownTaskType:
            return None, ""  # a demo type this stack does not offer: the claim fails it with the reason
    from tasklane.logic.offered_types import registered_type

    found = registered_type(message.owner, task_type, services)
    if found is None or found.rate_limit is None:
        return None, ""  # unknown: the claim fails it with the reason
    from tasklane.model.rates import parse_rate  # only where a registered type has a rate

    return parse_rate(found.rate_limit), f"rate#{message.owner}#{task_type}"
