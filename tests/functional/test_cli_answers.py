"""What the `tasklane` command prints for what a newcomer types: no traceback, and answers to act on."""

from __future__ import annotations

from tasklane_client.cli import main
from tasklane_client.discovery import Target

from tests.functional.test_client import ENDPOINT, InProcess


def run_main(tasklane, *argv):
    target = Target(ENDPOINT, None, "test")
    target.transport = InProcess(tasklane)  # type: ignore[attr-defined]
    return main(list(argv), target_for=lambda **_: target)


def test_an_unknown_schedule_asks_to_check_its_name_not_a_task_id(tasklane, capsys):
    assert run_main(tasklane, "schedules", "get", "nope") == 1
    err = capsys.readouterr().err
    assert "schedule 'nope' not found" in err
    assert "check the schedule's name (tasklane schedules list)" in err
    assert "task id" not in err


def test_an_unknown_task_asks_to_check_the_task_id(tasklane, capsys):
    assert run_main(tasklane, "get", "0b9a8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d") == 1
    assert "check the task id and the credentials" in capsys.readouterr().err
