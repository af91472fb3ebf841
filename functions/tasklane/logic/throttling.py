"""Holding a delivery back: its owner's share of the lane (OwnerConcurrencyCap) before its claim, and
the Hold its type's rate gives at the claim (tasklane.logic.claims). A held task keeps its attempts;
its message comes back when it may start, and the task shows what it waits for."""

from __future__ import annotations

import math
import random
import uuid
from typing import Protocol

from tasklane.data.services import HasLimits, HasSettings
from tasklane.model import clock
from tasklane.model.lanes import Lane
from tasklane.model.message import TaskMessage
from tasklane.records import record

RATE_LIMIT, OWNER_CONCURRENCY = "rate_limit", "owner_concurrency"
# A message held for its owner's share looks again after a few seconds, and after twice as long each
# time it is held again, up to a minute (jittered: held messages of one owner should not all come
# back at once). An owner's flood thus spreads out behind the other owners' messages instead of
# standing in front of them: on a queue that hands out messages in order, every pass over the flood
# costs the others a wait.
SLOT_RETRY_SECONDS = (2, 6)
SLOT_RETRY_MAX_SECONDS = 60


class Releasing(HasLimits, HasSettings, Protocol):
    """What holding and freeing a slot touch: the limits table (the settings say whether owners are
    capped)."""


@record
class Hold:
    """Why a delivery waits instead of starting, and how long until it is worth another look."""

    reason: str
    seconds: int


@record
class Slot:
    """A running slot of one owner on one lane, held by one run until its lease ends."""

    key: str
    entry: str


def slot_for(lane: Lane, message: TaskMessage, lease_until: int) -> Slot:
    """The slot a delivery would hold: its entry is new to each delivery (a duplicate in the same
    second must not share, and then free, the running delivery's entry)."""
    return Slot(f"slots#{lane.value}#{message.owner}", f"{message.task_id}@{lease_until}@{uuid.uuid4().hex[:12]}")


def admit(slot: Slot, services: Releasing, receives: int = 1) -> Hold | None:
    """None when the delivery may go on to claim its task (its owner's slot then held), else why it
    waits. `receives` counts this message's deliveries, this one included. (The type's rate is taken
    by the claim itself: tasklane.logic.claims.)"""
    cap = services.settings.owner_concurrency_cap
    if cap and not _hold_slot(slot, cap, services):
        return Hold(OWNER_CONCURRENCY, max(slot_retry_seconds(receives), _flood_seconds(slot.key)))
    return None


def slot_retry_seconds(receives: int) -> int:
    """How long a delivery held for its owner's share stays away: doubling with each hold, jittered."""
    low, high = (bound << min(max(receives, 1) - 1, 8) for bound in SLOT_RETRY_SECONDS)
    return min(random.randint(low, high), SLOT_RETRY_MAX_SECONDS)


# A flood is told by how many of one owner's deliveries this processor held back lately: the more it
# passes over, the longer it sends them away (half a second each, up to a minute), so that one pass
# over a flood is enough for the other owners' messages behind it to be reached.
_HELD: dict[str, list[int]] = {}  # slot key -> epoch ms of its recent holds
FLOOD_WINDOW_MS = 5000
FLOOD_SECONDS_PER_HOLD = 0.5


def _flood_seconds(key: str) -> int:
    now = clock.epoch_ms(clock.now())
    recent = [t for t in _HELD.get(key, ()) if t > now - FLOOD_WINDOW_MS]
    recent.append(now)
    _HELD[key] = recent
    if len(_HELD) > SHOWN_MEMORY:
        _HELD.pop(next(iter(_HELD)))
    seconds = math.ceil(len(recent) * FLOOD_SECONDS_PER_HOLD)
    return min(random.randint(seconds, seconds * 2), SLOT_RETRY_MAX_SECONDS)


# Attempts whose waiting reason this processor wrote: a message held again and again for the same
# reason costs one write, not one a hold (bounded; another processor may write it once more).
_SHOWN: dict[str, str] = {}
SHOWN_MEMORY = 10_000


def already_shown(key: str, reason: str) -> bool:
    """True when this processor has shown `reason` on the attempt `key` already."""
    return _SHOWN.get(key) == reason


def shown(key: str, reason: str) -> None:
    """Remember that the attempt `key` now shows `reason`."""
    if len(_SHOWN) >= SHOWN_MEMORY:
        _SHOWN.pop(next(iter(_SHOWN)))
    _SHOWN[key] = reason


# Owners found at their cap a moment ago: the rest of a batch of one owner's flood is held without
# asking the table again, so that a flood is passed over at the speed of the queue.
_AT_CAP: dict[str, int] = {}  # slot key -> epoch ms until which it counts as full
AT_CAP_MEMORY_MS = 1000


def _hold_slot(slot: Slot, cap: int, services: HasLimits) -> bool:
    now = clock.now()
    if _AT_CAP.get(slot.key, 0) > clock.epoch_ms(now):
        return False
    if services.limits.hold_slot(slot.key, slot.entry, cap, clock.epoch(now)):
        _AT_CAP.pop(slot.key, None)
        return True
    _AT_CAP[slot.key] = clock.epoch_ms(now) + AT_CAP_MEMORY_MS
    return False


def release(slot: Slot, services: Releasing) -> None:
    """Free the owner's slot once the run is over, or once its delivery claimed nothing (a no-op
    without a cap)."""
    if services.settings.owner_concurrency_cap:
        services.limits.free_slot(slot.key, slot.entry)
