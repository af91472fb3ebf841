"""The simulation patches tasklane's seams and environment for its scenarios: each test puts them back."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tasklane.data import idempotency
from tasklane.settings import settings
from tasklane.settings.task_types import task_type_settings
from tasklane.settings.webhooks import webhook_settings
from tests.simulation.world import seams


@pytest.fixture(autouse=True)
def _world_removed_after_each_test() -> Iterator[None]:
    environment = dict(os.environ)
    yield
    seams.restore()
    os.environ.clear()
    os.environ.update(environment)
    settings.cache_clear()
    task_type_settings.cache_clear()
    webhook_settings.cache_clear()
    idempotency._guarded.cache_clear()
