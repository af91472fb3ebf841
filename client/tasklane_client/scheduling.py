"""`tasklane submit --at/--in` and `tasklane schedules list|get|create|edit|pause|resume|delete`."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO

from tasklane_client.render import show, table

if TYPE_CHECKING:
    from tasklane_client.client import Client

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def duration(text: str) -> int:
    """`90s`, `15m`, `2h`, `3d`, `1h30m` (or plain seconds) as seconds, for `--in`."""
    if text.isdigit():
        return int(text)
    match = _DURATION.match(text.strip().lower())
    if not text.strip() or not match or not any(match.groups()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 90s, 15m, 2h, 3d or 1h30m")
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


def moment(text: str) -> str:
    """An ISO 8601 moment with its zone, for `--at` (the API refuses one without)."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not ISO 8601, e.g. 2026-12-01T09:00:00Z") from None
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no zone: add Z (UTC) or an offset such as +01:00")
    return text


def add_start_options(submit: argparse.ArgumentParser) -> None:
    """When a submitted task may start: --delay SECONDS, --in DURATION or --at MOMENT (one of them)."""
    start = submit.add_mutually_exclusive_group()
    start.add_argument("--delay", type=int, dest="delay_seconds", help="seconds from now (up to a year)")
    start.add_argument("--in", type=duration, dest="delay_seconds", metavar="DURATION", help="e.g. 90s, 15m, 2h, 3d")
    start.add_argument("--at", type=moment, dest="run_at", metavar="MOMENT", help="ISO 8601 with a zone")


def add_parser(commands: Any, task_options: Callable[[argparse.ArgumentParser], None]) -> None:
    schedules = commands.add_parser("schedules", help="your recurring schedules")
    verbs = schedules.add_subparsers(dest="verb", required=True)
    verbs.add_parser("list", help="your schedules and the next time each fires")
    for verb, text in (
        ("get", "a schedule with its next five fire times"),
        ("pause", "stop a schedule firing until it is resumed"),
        ("resume", "let a paused schedule fire again"),
        ("delete", "delete a schedule"),
    ):
        verbs.add_parser(verb, help=text).add_argument("name")
    create = verbs.add_parser("create", help="a schedule that submits a task at each firing")
    create.add_argument("name")
    create.add_argument("task_type")
    when = create.add_mutually_exclusive_group(required=True)
    when.add_argument("--cron", help="EventBridge cron, six fields, e.g. '0 9 ? * MON-FRI *'")
    when.add_argument("--rate", help="e.g. '15 minutes', '1 hour', '2 days'")
    create.add_argument("--timezone", default="UTC", help="IANA time zone the cron is read in (default UTC)")
    task_options(create)
    edit = verbs.add_parser("edit", help="change a schedule's cron or rate, time zone or task (the rest stays)")
    edit.add_argument("name")
    new_when = edit.add_mutually_exclusive_group()
    new_when.add_argument("--cron", help="a new cron (replaces a rate)")
    new_when.add_argument("--rate", help="a new rate (replaces a cron)")
    edit.add_argument("--timezone", help="a new IANA time zone")
    edit.add_argument("--task-type", help="a new task type for the task each firing submits")
    task_options(edit)  # each one given replaces that field of the task; --payload the whole payload
    state = edit.add_mutually_exclusive_group()
    state.add_argument("--pause", dest="paused", action="store_const", const=True, help="pause it too")
    state.add_argument("--resume", dest="paused", action="store_const", const=False, help="resume it too")


COLUMNS = ("name", "when", "timezone", "task_type", "paused", "next_fire_time")


def _fire_times(schedule: dict[str, Any]) -> list[str]:
    """Each next fire time in the schedule's zone, then in UTC: `2026-12-01T09:00:00+01:00 (08:00:00Z)`."""
    utc = schedule.get("next_fire_times") or []
    local = schedule.get("next_fire_times_local") or utc
    return [f"{here} ({there[11:19]}Z)" if here != there else there for here, there in zip(local, utc, strict=False)]


def _row(schedule: dict[str, Any]) -> dict[str, Any]:
    fires = _fire_times(schedule)
    return {
        "name": schedule["name"],
        "when": f"cron({schedule['cron']})" if schedule.get("cron") else f"rate({schedule['rate']})",
        "timezone": schedule["timezone"],
        "task_type": schedule["task"]["task_type"],
        "paused": "yes" if schedule["paused"] else "",
        "next_fire_time": fires[0] if fires else "",
    }


def _show_one(schedule: dict[str, Any], args: argparse.Namespace, out: TextIO) -> None:
    def render(s: dict[str, Any]) -> None:
        for key, value in _row(s).items():
            print(f"{key:<15} {value}", file=out)
        for fire in _fire_times(s)[1:]:
            print(f"{'':<15} {fire}", file=out)

    show(schedule, args, out, render)


def _edit(client: Client, args: argparse.Namespace, payload: dict[str, Any]) -> dict[str, Any]:
    task_fields = {
        "task_type": args.task_type,
        "payload": payload if args.payload is not None else None,
        **{k: getattr(args, k, None) for k in ("priority", "max_attempts", "timeout_seconds")},
    }
    task = {k: v for k, v in task_fields.items() if v is not None}
    return client.edit_schedule(
        args.name, cron=args.cron, rate=args.rate, timezone=args.timezone, task=task or None, paused=args.paused
    )


def run(client: Client, args: argparse.Namespace, payload: dict[str, Any], out: TextIO) -> int:
    verb = args.verb
    if verb == "list":
        schedules = client.list_schedules()
        show(schedules, args, out, lambda ss: table(map(_row, ss), COLUMNS, out))
    elif verb == "create":
        options = {k: getattr(args, k, None) for k in ("priority", "max_attempts", "timeout_seconds")}
        task = {"task_type": args.task_type, "payload": payload, **{k: v for k, v in options.items() if v is not None}}
        created = client.create_schedule(args.name, task, cron=args.cron, rate=args.rate, timezone=args.timezone)
        _show_one(created, args, out)
    elif verb == "edit":
        _show_one(_edit(client, args, payload), args, out)
    elif verb == "delete":
        client.delete_schedule(args.name)
        show({"name": args.name, "deleted": True}, args, out, lambda _: print(f"deleted {args.name}", file=out))
    else:
        action = {"get": client.get_schedule, "pause": client.pause_schedule, "resume": client.resume_schedule}
        _show_one(action[verb](args.name), args, out)
    return 0
