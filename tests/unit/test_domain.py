"""Pure rules: backoff, cursors, the registry and the models' limits."""

from __future__ import annotations

import random
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from tasklane.logic.running import BACKOFF_CAP_SECONDS, TaskTimedOut, backoff_seconds, time_limit
from tasklane.model import cursor
from tasklane.model.errors import BadRequest, UnknownTaskType, ValidationFailed
from tasklane.model.ids import is_task_id, new_task_id
from tasklane.model.requests import SubmitRequest
from tasklane.task_types import get_task_type, task_types

OWNER = "arn:aws:iam::123456789012:user/alice"


@given(st.integers(min_value=1, max_value=30), st.integers())
def test_backoff_floor_doubles_and_is_capped(attempt, seed):
    delay = backoff_seconds(attempt, random.Random(seed))
    ceiling = min(BACKOFF_CAP_SECONDS, 2 * 2**attempt)
    assert ceiling // 2 <= delay <= ceiling


def test_backoff_grows_across_attempts_whatever_the_jitter():
    rng = random.Random(7)
    delays = [backoff_seconds(a, rng) for a in range(1, 8)]
    assert delays == sorted(delays)


def test_a_cursor_round_trips_and_is_opaque():
    task_id = new_task_id()
    position = f"2026-11-23T10:00:00.000Z#000#{task_id}"
    text = cursor.encode(position)
    assert task_id not in text  # opaque
    assert cursor.decode(text) == position


@given(st.text(min_size=1, max_size=200))
def test_any_other_cursor_is_a_bad_request(text):
    try:
        position = cursor.decode(text)
    except BadRequest:
        return
    assert is_task_id(position.rsplit("#", 1)[1])


def test_registry_has_the_builtins():
    assert {"echo", "compute", "sleep", "fail", "resize_image", "generate_report", "send_email"} <= set(
        task_types(demo=True)
    )


def test_the_declared_builtin_names_are_the_registrys():
    """A processor tells a registered type from a built-in by these names alone (without importing
    the built-ins): they must be exactly the registry's, demo types apart."""
    from tasklane.task_types import BUILTIN_NAMES, DEMO_NAMES, is_builtin

    every = task_types(demo=True)
    assert {name for name, t in every.items() if not t.demo} == BUILTIN_NAMES
    assert {name for name, t in every.items() if t.demo} == DEMO_NAMES
    assert all(is_builtin(name) for name in every)
    assert not is_builtin("my.type")


def test_a_processor_running_a_registered_type_never_imports_the_builtins():
    """Resolving a registered type's name loads neither the built-in types nor pydantic."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from tasklane.task_types import is_builtin\n"
        "assert not is_builtin('wordcount')\n"
        "assert 'tasklane.task_types.builtin' not in sys.modules, 'built-ins imported'\n"
        "assert 'pydantic' not in sys.modules, 'pydantic imported'\n"
        "assert 'tasklane.task_types.registry' not in sys.modules, 'registry imported'\n"
        "assert 'tasklane.model.rates' not in sys.modules, 'rate parser imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env={"PYTHONPATH": "functions"})


def test_a_builtin_type_whose_name_is_not_declared_is_refused_when_it_registers():
    """Were it registered, a processor that never imports the built-ins would take its tasks for a
    registered type's (and fail them): its module does not load until its name is declared."""
    from tasklane.task_types.registry import task

    def run(payload, context):
        return None

    run.__module__ = "tasklane.task_types.builtin"
    with pytest.raises(
        ValueError, match=r"^task type 'thumbnail': add its name to tasklane.task_types' declared names$"
    ):
        task("thumbnail", payload=None)(run)  # type: ignore[arg-type]
    run.__module__ = "tasklane.task_types.demo"
    with pytest.raises(ValueError, match="declared names"):
        task("thumbnail", payload=None)(run)  # type: ignore[arg-type]


def test_unknown_type_names_the_field_and_the_known_types():
    with pytest.raises(UnknownTaskType) as error:
        get_task_type("nope", demo=True)
    assert error.value.details[0]["field"] == "task_type"
    assert "compute" in error.value.details[0]["message"]


def test_invalid_payload_names_the_nested_field():
    with pytest.raises(ValidationFailed) as error:
        get_task_type("resize_image", demo=False).parse_payload({"source_key": "a.jpg", "width": 0, "height": 10})
    assert [d["field"] for d in error.value.details] == ["payload.width"]


@given(
    st.fixed_dictionaries(
        {
            "task_type": st.text(max_size=80),
            "delay_seconds": st.integers(),
            "max_attempts": st.integers(),
            "priority": st.text(max_size=10),
        }
    )
)
def test_submit_request_accepts_only_values_in_range(body):
    try:
        request = SubmitRequest.model_validate(body)
    except ValidationError:
        return
    assert request.delay_seconds is not None
    assert 0 <= request.delay_seconds <= 31_536_000
    assert request.max_attempts is not None
    assert 1 <= request.max_attempts <= 10
    assert request.priority in ("high", "normal", "low")


def test_time_limit_interrupts_a_running_task():
    started = time.monotonic()
    with pytest.raises(TaskTimedOut), time_limit(0.2):
        time.sleep(5)
    assert time.monotonic() - started < 3  # the task would sleep 5 s


def test_task_ids_are_uuid4():
    assert is_task_id(new_task_id())
    assert not is_task_id("../etc/passwd")
