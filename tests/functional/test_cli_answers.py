"""What the `tasklane` command prints for what a newcomer types: no traceback, and answers to act on."""

from __future__ import annotations

import io
import json

import pytest
from tasklane_client.cli import build_parser, main
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


def test_global_flags_are_taken_after_the_subcommand_too(tasklane):
    from tests.functional.test_client import cli

    code, out, _ = cli(tasklane, "submit", "echo", "--json")
    assert code == 0
    task_id = json.loads(out)["task_id"]
    for argv in (("get", task_id, "--json"), ("--json", "get", task_id), ("list", "--json", "--limit", "1")):
        code, out, _ = cli(tasklane, *argv)
        assert code == 0, argv
        assert json.loads(out), argv
    code, out, _ = cli(tasklane, "schedules", "list", "--json")
    assert json.loads(out) == []


def test_a_flag_before_the_subcommand_is_not_undone_by_the_subcommand(tasklane):
    args = build_parser().parse_args(["--endpoint", "http://127.0.0.1:1/v1", "--json", "get", "x"])
    assert args.endpoint == "http://127.0.0.1:1/v1"
    assert args.json is True
    args = build_parser().parse_args(["get", "x", "--endpoint", "http://127.0.0.1:2/v1"])
    assert args.endpoint == "http://127.0.0.1:2/v1"
    assert args.json is False


def test_a_422_prints_its_fields_inline(tasklane, capsys):
    assert run_main(tasklane, "submit", "compute", "--payload", '{"n": true}') == 1
    err = capsys.readouterr().err
    assert "422 validation_error: invalid payload for task type 'compute' (payload.n: must be a whole number" in err
    assert "[" not in err  # no JSON dump of the details


@pytest.mark.parametrize("port", ["99999", "65536", "-1", "abc"])
def test_a_port_out_of_range_is_a_usage_error_not_a_traceback(capsys, port):
    with pytest.raises(SystemExit) as exit_:
        main(["console", "--port", port])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "is not a port: give a number from 0 to 65535" in err
    assert "Traceback" not in err


def test_an_unexpected_failure_is_one_line_not_a_traceback(tasklane, capsys, monkeypatch):
    from tasklane_client import cli as cli_module

    def broken(c):
        raise OverflowError("port must be 0-65535.")

    monkeypatch.delenv("TASKLANE_DEBUG", raising=False)
    monkeypatch.setitem(cli_module.COMMANDS, "list", broken)
    assert run_main(tasklane, "list") == 1
    err = capsys.readouterr().err
    assert err == "tasklane: unexpected error: OverflowError: port must be 0-65535. (TASKLANE_DEBUG=1 shows where)\n"


def test_a_missing_or_wrong_api_key_says_how_to_give_one(capsys):
    from tasklane_client.errors import AuthError

    def refused(**_):
        raise AuthError("API key missing or not valid for this stage", status=403, code="invalid_api_key")

    assert main(["list"], target_for=refused) == 1
    err = capsys.readouterr().err
    assert "pass --api-key KEY or set TASKLANE_API_KEY" in err


def dead_lettered(tasklane, n):
    from tests.functional.test_client import cli
    from tests.functional.test_lifecycle import _crashed

    ids = [json.loads(cli(tasklane, "--json", "submit", "echo")[1])["task_id"] for _ in range(n)]
    for message in tasklane.receive("normal"):
        _crashed(json.loads(message["Body"])["task_id"])
        tasklane.sqs.send_message(QueueUrl=tasklane.queue_url("normal", dead=True), MessageBody=message["Body"])
    tasklane.dead_letters("normal")
    return ids


def test_dlq_retry_dry_run_lists_and_changes_nothing(tasklane):
    from tests.functional.test_client import cli

    ids = dead_lettered(tasklane, 2)
    code, out, _ = cli(tasklane, "dlq", "retry", "--all-failed", "--dry-run")
    assert code == 0
    assert out == "would retry 2 failed task(s)\n"
    _, out, _ = cli(tasklane, "--json", "dlq", "list")
    assert sorted(t["task_id"] for t in json.loads(out)) == sorted(ids)


def test_dlq_retry_asks_first_and_without_a_terminal_needs_yes(tasklane, monkeypatch):
    from tests.functional.test_client import cli

    dead_lettered(tasklane, 2)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code, out, err = cli(tasklane, "dlq", "retry", "--all-failed")
    assert code == 2
    assert "retry 2 failed task(s)? needs confirmation: pass --yes" in err
    assert json.loads(cli(tasklane, "--json", "dlq", "list")[1]) != []
    code, out, _ = cli(tasklane, "dlq", "retry", "--all-failed", "--yes")
    assert code == 0
    assert out == "retried 2 task(s)\n"


def test_dlq_retry_on_a_terminal_retries_on_yes(tasklane, monkeypatch):
    from tests.functional.test_client import cli

    dead_lettered(tasklane, 1)

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr("sys.stdin", Terminal("y\n"))
    code, out, err = cli(tasklane, "dlq", "retry")
    assert code == 0
    assert "retry 1 dead-lettered task(s)? [y/N]" in err
    assert out == "retried 1 task(s)\n"


def test_stats_shows_the_dlq_now_and_the_tasks_dead_lettered_in_the_last_hour(tasklane):
    from tests.events import api_event
    from tests.functional.test_client import cli

    dead_lettered(tasklane, 2)
    lanes = {lane["lane"]: lane for lane in tasklane.call(api_event("stats")).body["lanes"]}
    # the dead-letter function failed both and took their messages off the DLQ
    assert lanes["normal"]["dlq"] == 0
    assert lanes["normal"]["dead_lettered_last_hour"] == 2
    assert lanes["high"]["dead_lettered_last_hour"] == 0
    code, out, _ = cli(tasklane, "stats")
    assert code == 0
    header, *rows = out.splitlines()
    assert header.split() == [
        "LANE", "QUEUED", "IN_FLIGHT", "DELAYED", "IN_DLQ_NOW", "DEAD_LETTERED_1H", "OLDEST_AGE_S"
    ]  # fmt: skip
    normal = next(r.split() for r in rows if r.startswith("normal"))
    assert normal[4:6] == ["0", "2"]


def test_a_task_dead_lettered_over_an_hour_ago_is_not_counted(tasklane):
    from tests.events import api_event

    dead_lettered(tasklane, 1)
    tasklane.pass_time(3601)
    lanes = {lane["lane"]: lane for lane in tasklane.call(api_event("stats")).body["lanes"]}
    assert lanes["normal"]["dead_lettered_last_hour"] == 0
