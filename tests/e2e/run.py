"""The local stacks of one e2e run, shared by its pytest-xdist workers.

The run's main process names the run (TASKLANE_E2E_RUN, inherited by the workers it starts). A state
file beside the emulators' records, per emulator, which run deployed onto it, whether that run
started it and whether the deploy failed: read and written under an exclusive lock, so that one
worker starts and deploys while the others wait, two `sam build`s never share `.aws-sam` at once, a
failed deploy fails the other workers at once instead of being tried again by each, and the main
process stops at the end what the run started (`finish`).
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from scripts import localstack
from scripts.localstack import Emulator

STATE = localstack.DEFAULT.state / f"e2e-{localstack.PORT}.json"


def run_id() -> str:
    """This run's name (tests/conftest.py sets it in the main process before any worker starts)."""
    return os.environ["TASKLANE_E2E_RUN"]


@contextmanager
def stack_lock() -> Iterator[dict[str, Any]]:
    """The run's state, held exclusively; what the block leaves in it is written back, also when the
    block raises."""
    STATE.parent.mkdir(exist_ok=True)
    with open(STATE.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        state = json.loads(STATE.read_text()) if STATE.exists() else {}
        try:
            yield state
        finally:
            STATE.write_text(json.dumps(state))
            fcntl.flock(lock, fcntl.LOCK_UN)


def deployed(
    emulator: Emulator, overrides: str = "", *, quiet: bool = False, check: Callable[[Emulator], None] | None = None
) -> None:
    """The emulator running with tasklane deployed on it for this run: started (unless one answers,
    which `check` may then refuse) and deployed by the first worker to ask, once."""
    with stack_lock() as state:
        entry = state.get(emulator.name, {})
        if entry.get("run") == run_id():
            if entry.get("failed"):
                pytest.fail(f"the stack on {emulator.endpoint} did not deploy: {entry['failed']}")
            return
        entry = state[emulator.name] = {"run": run_id(), "port": emulator.port, "auth": emulator.auth}
        entry["started"] = emulator.start()
        try:
            if check is not None and not entry["started"]:
                check(emulator)
            emulator.deploy(quiet=quiet, overrides=overrides)
        except BaseException as exc:
            entry["failed"] = f"{type(exc).__name__}: {exc}"
            raise


def finish() -> None:
    """At the end of the run (its main process): stop the emulators this run started."""
    if not STATE.exists():
        return
    with stack_lock() as state:
        for name, entry in list(state.items()):
            if entry.get("run") != run_id():
                continue
            if entry.get("started"):
                Emulator(entry["port"], auth=entry["auth"], name=name).stop()
            del state[name]
