"""SnapStart: after a restore, nothing that must differ between copies of one snapshot is shared."""

from __future__ import annotations

import random
import sys
import types

import pytest

from tasklane.data import aws, services


def test_after_a_restore_clients_services_and_random_are_new(tasklane):
    from tasklane.data import idempotency

    before = (aws.dynamodb(), aws.sqs(), services.services(), services.services().store, idempotency._guarded())
    random.seed(42)
    state = random.getstate()
    services.forget_container_state()
    after = (aws.dynamodb(), aws.sqs(), services.services(), services.services().store, idempotency._guarded())
    for old, new in zip(before, after, strict=True):
        assert new is not old
    assert random.getstate() != state  # seeded afresh from the OS, not from the snapshot's state
    other_copy = random.getstate()
    services.forget_container_state()
    assert random.getstate() != other_copy  # two restores of one snapshot draw different jitter


def test_the_hook_is_registered_where_the_runtime_offers_it(monkeypatch: pytest.MonkeyPatch):
    registered = []
    runtime = types.ModuleType("snapshot_restore_py")
    runtime.register_after_restore = registered.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", runtime)
    assert services._register_restore_hook() is True
    assert registered == [services.forget_container_state]


def test_without_the_runtime_hooks_nothing_is_registered(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # import fails, as off Lambda
    assert services._register_restore_hook() is False
    assert services.RESTORE_HOOK is False  # what the module found when it was imported here
