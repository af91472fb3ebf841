"""`tasklane stats | console | webhook-secret`: the queue's overview, the web console, your signing secret."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from tasklane_client.command import Context
from tasklane_client.errors import UsageError
from tasklane_client.render import show, table

STATS_COLUMNS = ("lane", "queued", "in_flight", "delayed", "in_dlq_now", "dead_lettered_1h", "oldest_age_s")


def add_parsers(commands: Any) -> None:
    commands.add_parser(
        "stats",
        help="per lane: queued, in flight, delayed, messages in its DLQ now, your tasks dead-lettered in the "
        "last hour, age of the oldest message",
    )

    console = commands.add_parser(
        "console", help="serve the web console on localhost, signing its API calls with your credentials"
    )
    console.add_argument("--port", type=port, default=8765, help="local port (0: any free one); default 8765")
    console.add_argument("--no-browser", action="store_true", help="print the URL instead of opening a browser")

    secret = commands.add_parser("webhook-secret", help="print your webhook signing secret (made on first use)")
    secret.add_argument("--rotate", action="store_true", help="replace it first; the old one stops signing at once")


def port(text: str) -> int:
    """--port: 0 to 65535."""
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: give a number from 0 to 65535 (0: any free one)")
    return int(text)


def _stats(c: Context) -> int:
    """Per lane, from GET /stats: what sits in its DLQ now, and your tasks it dead-lettered in the last hour
    (the dead-letter function fails a task and empties the DLQ, so the first is mostly 0)."""
    rows = [
        {
            "lane": lane["lane"],
            "queued": lane["queued"],
            "in_flight": lane["in_flight"],
            "delayed": lane["delayed"],
            "in_dlq_now": lane["dlq"],
            "dead_lettered_1h": lane.get("dead_lettered_last_hour", 0),
            "oldest_age_s": lane.get("oldest_age_seconds"),
        }
        for lane in c.client.stats()["lanes"]
    ]
    show(rows, c.args, c.out, lambda rs: table(rs, STATS_COLUMNS, c.out))
    return 0


def _console(c: Context) -> int:
    import webbrowser

    from tasklane_client.console import ConsoleProxy, serve

    try:
        proxy = ConsoleProxy(c.target.endpoint, c.target.auth, c.args.port)
    except OSError as exc:
        raise UsageError(f"cannot listen on 127.0.0.1:{c.args.port}: {exc.strerror or exc}") from None
    serve(proxy, None if c.args.no_browser else webbrowser.open, lambda line: print(line, file=c.out, flush=True))
    return 0


def _webhook_secret(c: Context) -> int:
    secret = c.client.rotate_webhook_secret() if c.args.rotate else c.client.webhook_secret()
    show({"secret": secret}, c.args, c.out, lambda _: print(secret, file=c.out))
    return 0


COMMANDS: dict[str, Callable[[Context], int]] = {
    "stats": _stats,
    "console": _console,
    "webhook-secret": _webhook_secret,
}
