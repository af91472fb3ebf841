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


def test_get_shows_the_next_try_and_every_attempt_with_its_error(tasklane):
    from tests.functional.test_client import cli
    from tests.functional.test_lifecycle import get, submit

    task_id = submit(tasklane, "fail", {"message": "boom"}, max_attempts=3).body["task_id"]
    tasklane.process("normal", tasklane.receive("normal"))
    task = get(tasklane, task_id)
    code, out, _ = cli(tasklane, "get", task_id)
    assert code == 0
    lines = out.splitlines()
    assert f"next try    {task['next_attempt_at']}" in lines
    assert f"attempt 1   failed at {task['updated_at']}: IntentionalFailure: boom" in lines
