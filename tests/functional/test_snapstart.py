"""SnapStart: after a restore, nothing that must differ between copies of one snapshot is shared."""

from __future__ import annotations

import random
import sys
import types

import pytest

from tasklane.data import aws, services


def test_after_a_restore_clients_services_and_random_are_new(tasklane):
    from tasklane.data import idempotency, notifications

    def held():
        return (
            aws.dynamodb(),
            aws.sqs(),
            services.services(),
            services.services().store,
            idempotency._guarded(),
            notifications.notifications(),
        )

    before = held()
    random.seed(42)
    state = random.getstate()
    aws.forget_container_state()
    after = held()
    for old, new in zip(before, after, strict=True):
        assert new is not old
    assert random.getstate() != state  # seeded afresh from the OS, not from the snapshot's state
    other_copy = random.getstate()
    aws.forget_container_state()
    assert random.getstate() != other_copy  # two restores of one snapshot draw different jitter


def test_the_hook_is_registered_where_the_runtime_offers_it(monkeypatch: pytest.MonkeyPatch):
    registered = []
    runtime = types.ModuleType("snapshot_restore_py")
    runtime.register_after_restore = registered.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", runtime)
    assert aws._register_restore_hook() is True
    assert registered == [aws.forget_container_state]


def test_without_the_runtime_hooks_nothing_is_registered(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # import fails, as off Lambda
    assert aws._register_restore_hook() is False
    assert aws.RESTORE_HOOK is False  # what the module found when it was imported here


@pytest.mark.parametrize(
    "handler",
    [
        "submit",
        "status",
        "processor",
        "dead_letter",
        "reconciler",
        "events",
        "webhooks",
        "promoter",
        "schedules",
        "firing",
    ],
)
def test_every_function_registers_the_hook(handler):
    """Every handler, imported in a fresh process, loads the module that registers it."""
    import subprocess
    from pathlib import Path

    functions = Path(__file__).resolve().parents[2] / "functions"
    probe = f"import sys, tasklane.handlers.{handler}; print('tasklane.data.aws' in sys.modules)"
    env = {**__import__("os").environ, "PYTHONPATH": str(functions)}
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
