"""`tasklane bulk cancel|retry`: one action on every task of a filter, run by the server."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from tasklane_client.command import EXIT_USAGE
from tasklane_client.render import show
from tasklane_client.scheduling import moment

if TYPE_CHECKING:
    from tasklane_client.client import Client

# The statuses each action starts from (as the API says): the filter's choices for it.
APPLIES_TO = {"cancel": ("pending", "scheduled"), "retry": ("failed", "cancelled")}
PAST = {"cancel": "cancelled", "retry": "retried"}


def add_parser(commands: Any, lanes: Sequence[str]) -> None:
    bulk = commands.add_parser("bulk", help="cancel or retry every task of a filter (run by the server)")
    bulk.add_argument("action", choices=tuple(APPLIES_TO))
    bulk.add_argument("--status", choices=sorted({s for ss in APPLIES_TO.values() for s in ss}))
    bulk.add_argument("--type", dest="task_type")
    bulk.add_argument("--priority", choices=lanes)
    bulk.add_argument("--created-after", type=moment, metavar="MOMENT", help="ISO 8601 with a zone (inclusive)")
    bulk.add_argument("--created-before", type=moment, metavar="MOMENT", help="ISO 8601 with a zone (exclusive)")
    go = bulk.add_mutually_exclusive_group()
    go.add_argument("--yes", action="store_true", help="go ahead without asking")
    go.add_argument("--dry-run", action="store_true", help="only count the tasks that match")
    bulk.add_argument("--timeout", type=float, help="stop waiting after this many seconds (it goes on)")


def _filter(args: argparse.Namespace) -> dict[str, str]:
    fields = {
        "status": args.status,
        "task_type": args.task_type,
        "priority": args.priority,
        "created_after": args.created_after,
        "created_before": args.created_before,
    }
    return {k: v for k, v in fields.items() if v is not None}


def _count(client: Client, args: argparse.Namespace, out: TextIO) -> dict[str, Any]:
    started = client.start_bulk(args.action, _filter(args), dry_run=True)
    return client.wait_bulk(started["bulk_id"], args.timeout)


def _which(args: argparse.Namespace) -> str:
    statuses = [args.status] if args.status else list(APPLIES_TO[args.action])
    return " or ".join(statuses)


def run(client: Client, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.dry_run or not args.yes:
        counted = _count(client, args, out)
        if args.dry_run:
            message = f"{counted['matched']} {_which(args)} tasks match; nothing changed (dry run)"
            show(counted, args, out, lambda _: print(message, file=out))
            return 0
        if counted["matched"] == 0:
            show(counted, args, out, lambda _: print(f"no {_which(args)} tasks match; nothing to do", file=out))
            return 0
        question = f"{args.action} {counted['matched']} {_which(args)} tasks? [y/N] "
        if not sys.stdin.isatty():
            print(f"tasklane: {counted['matched']} tasks match; pass --yes to {args.action} them", file=err)
            return EXIT_USAGE
        print(question, end="", file=err, flush=True)
        if input().strip().lower() not in ("y", "yes"):
            print("nothing changed", file=err)
            return 0
    started = client.start_bulk(args.action, _filter(args))

    def tell(progress: dict[str, Any]) -> None:
        if not args.json:
            line = f"\r{progress['status']}: {progress['changed']} {PAST[args.action]}, {progress['skipped']} skipped"
            print(line, end="", file=err, flush=True)

    done = client.wait_bulk(started["bulk_id"], args.timeout, on_update=tell)
    if not args.json:
        print(file=err)
    message = (
        f"{done['changed']} of {done['matched']} matching tasks {PAST[args.action]}"
        f" ({done['skipped']} skipped: moved by something else first); bulk id {done['bulk_id']}"
    )
    show(done, args, out, lambda _: print(message, file=out))
    return 0
