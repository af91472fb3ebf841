"""`tasklane dlq list | retry`: the tasks failed by their dead-letter queue (or every failed one)."""

from __future__ import annotations

from typing import Any

from tasklane_client.client import Client
from tasklane_client.command import EXIT_USAGE, Context, confirmed
from tasklane_client.render import show, summary, table


def add_parser(commands: Any) -> None:
    dlq = commands.add_parser("dlq", help="the tasks failed by their dead-letter queue")
    dlq.add_argument("action", choices=("list", "retry"))
    dlq.add_argument("--all-failed", action="store_true", help="every failed task, not only dead-lettered ones")
    dlq.add_argument("--dry-run", action="store_true", help="retry: list what would be retried, change nothing")
    dlq.add_argument("--yes", "-y", action="store_true", help="retry: do not ask for confirmation")


def dead_lettered(client: Client, all_failed: bool) -> list[dict[str, Any]]:
    """The caller's failed tasks whose error is DeadLettered (every failed one with `all_failed`)."""
    return [
        t for t in client.list(status="failed") if all_failed or (t.get("error") or {}).get("type") == "DeadLettered"
    ]


def run(c: Context) -> int:
    failed = dead_lettered(c.client, c.args.all_failed)
    if c.args.action == "list":
        columns = ("task_id", "type", "priority", "attempts", "created_at", "error")
        show(failed, c.args, c.out, lambda ts: table(map(summary, ts), columns, c.out))
        return 0
    which = "failed" if c.args.all_failed else "dead-lettered"
    if c.args.dry_run or not failed:
        show(failed, c.args, c.out, lambda ts: print(f"would retry {len(ts)} {which} task(s)", file=c.out))
        return 0
    if not c.args.yes and not confirmed(f"retry {len(failed)} {which} task(s)?", c.err):
        print("tasklane: nothing retried (pass --yes to retry without asking)", file=c.err)
        return EXIT_USAGE
    retried = [c.client.retry(t["task_id"]) for t in failed]
    show(retried, c.args, c.out, lambda ts: print(f"retried {len(ts)} task(s)", file=c.out))
    return 0
