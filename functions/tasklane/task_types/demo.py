"""Demo task types, for trying failure and large values: registered only where the stack sets
DemoTaskTypes=true (the local stack and the tests). On a shared deployment `fail` would let any caller
kill a processor invocation, and with it the other tasks of its batch."""

from __future__ import annotations

import os
import signal
import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tasklane.task_types.registry import TaskContext, task


class SleepPayload(BaseModel):
    model_config = ConfigDict(defer_build=True)  # built with its first payload, as the built-ins

    seconds: float = Field(ge=0, le=840)


@task("sleep", payload=SleepPayload, timeout_seconds=120, demo=True)
def sleep(payload: SleepPayload, ctx: TaskContext) -> dict[str, float]:
    """Sleep, reporting progress about once a second."""
    end = time.monotonic() + payload.seconds
    while (left := end - time.monotonic()) > 0:
        time.sleep(min(1.0, left))
        done = payload.seconds - max(0.0, end - time.monotonic())
        ctx.report_progress(100 * done / payload.seconds, f"slept {done:.1f}s of {payload.seconds:g}s")
    return {"slept": payload.seconds}


class FailPayload(BaseModel):
    model_config = ConfigDict(defer_build=True)  # built with its first payload, as the built-ins

    message: str = "task failed on purpose"
    # raise: an ordinary exception (retried, then failed); crash: the process dies, the message is
    # redelivered and reaches the DLQ; hang: blocks the timeout signal, so only the Lambda timeout stops it.
    mode: Literal["raise", "crash", "hang"] = "raise"
    succeed_on_attempt: int | None = Field(default=None, ge=1, le=10)


class IntentionalFailure(Exception):
    """Raised by the `fail` task type."""


@task("fail", payload=FailPayload, timeout_seconds=30, max_attempts=3, demo=True)
def fail(payload: FailPayload, ctx: TaskContext) -> dict[str, int]:
    """Fail as asked; with succeed_on_attempt, succeed from that attempt on."""
    if payload.succeed_on_attempt is not None and ctx.attempt >= payload.succeed_on_attempt:
        return {"succeeded_on_attempt": ctx.attempt}
    if payload.mode == "crash":
        os._exit(70)
    if payload.mode == "hang":
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        time.sleep(10_000)
    raise IntentionalFailure(payload.message)


class BlobPayload(BaseModel):
    model_config = ConfigDict(defer_build=True)  # built with its first payload, as the built-ins

    size: int = Field(ge=0, le=64 * 1024 * 1024)


@task("blob", payload=BlobPayload, timeout_seconds=30, max_attempts=1, demo=True)
def blob(payload: BlobPayload, ctx: TaskContext) -> dict[str, str]:
    """Return `size` bytes of data: a result as large as asked, to try the values bucket and its limit."""
    return {"data": "x" * payload.size}
