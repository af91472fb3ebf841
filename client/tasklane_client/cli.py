"""The `tasklane` command.

Exit codes: 0 done; 1 an error (API, endpoint, credentials); 2 bad usage (arguments, unreadable or
invalid --payload/batch input); 3 the task failed; 4 the task was cancelled; 5 `wait` timed out;
130 interrupted (Ctrl-C); 141 the reader of the output went away (`tasklane list | head -1`): what
a shell reports for a tool ended by SIGPIPE, so that `set -o pipefail` sees tasklane as it sees
`cat`, with no traceback. Errors go to stderr, output to stdout.
"""

from __future__ import annotations

import argparse
import codecs
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, TextIO

from tasklane_client import bulk, scheduling, task_types, workflows
from tasklane_client.client import Client, Writable
from tasklane_client.discovery import Target, resolve
from tasklane_client.errors import (
    AuthError,
    NotFound,
    TaskCancelled,
    TaskFailed,
    TasklaneError,
    UsageError,
    WaitTimeout,
)
from tasklane_client.render import ProgressBar, show, show_task, summary, table

EXIT_ERROR, EXIT_USAGE, EXIT_FAILED, EXIT_CANCELLED, EXIT_TIMEOUT = 1, 2, 3, 4, 5
EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 130, 141
LANES = ("high", "normal", "low")


def _read_input(name: str) -> bytes:
    """The bytes of a file named on the command line; - is stdin."""
    if name == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(name).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {name}: {exc.strerror or exc}") from None


def _payload(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    # Bytes, not text: json detects UTF-8/16/32 (and a BOM) itself, whatever the locale says.
    raw = _read_input(text[1:]) if text.startswith("@") else text
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise UsageError(f"--payload is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise UsageError("--payload must be a JSON object")
    return value


def _dead_lettered(client: Client, all_failed: bool) -> list[dict[str, Any]]:
    return [
        t for t in client.list(status="failed") if all_failed or (t.get("error") or {}).get("type") == "DeadLettered"
    ]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tasklane", description="Submit, watch and operate tasklane tasks.")
    _global_options(parser)
    commands = parser.add_subparsers(dest="command", required=True)

    submit = commands.add_parser("submit", help="submit a task")
    submit.add_argument("task_type")
    _task_options(submit)
    scheduling.add_start_options(submit)
    submit.add_argument("--idempotency-key")
    submit.add_argument("--callback-url", help="https URL that gets the task's signed summary when it ends")
    submit.add_argument("--wait", action="store_true", help="then wait for it with a progress bar")

    batch = commands.add_parser("batch", help="submit tasks from a JSON-lines file (- for stdin)")
    batch.add_argument("file")
    batch.add_argument("--idempotency-key")

    result = commands.add_parser("result", help="print a completed task's result (JSON)")
    result.add_argument("task_id")
    result.add_argument(
        "--output", "-o", metavar="FILE", help="write the result's JSON to FILE, streamed (- for stdout)"
    )

    for name, text in (
        ("get", "show a task (a large payload or result as its size and URL)"),
        ("cancel", "cancel a pending task"),
        ("retry", "retry a failed or cancelled task"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("task_id")

    wait = commands.add_parser("wait", help="wait for a task with a live progress bar")
    wait.add_argument("task_id")
    wait.add_argument("--timeout", type=float)

    listing = commands.add_parser("list", help="list your tasks, newest first")
    listing.add_argument("--status", choices=("scheduled", "pending", "processing", "completed", "failed", "cancelled"))
    listing.add_argument("--type", dest="task_type")
    listing.add_argument("--priority", choices=("high", "normal", "low"))
    listing.add_argument("--schedule", metavar="NAME", help="the tasks of this recurring schedule")
    listing.add_argument("--limit", type=int, default=20)

    commands.add_parser(
        "stats",
        help="per lane: queued, in flight, delayed, messages in its DLQ now, your tasks dead-lettered in the "
        "last hour, age of the oldest message",
    )

    console = commands.add_parser(
        "console", help="serve the web console on localhost, signing its API calls with your credentials"
    )
    console.add_argument("--port", type=_port, default=8765, help="local port (0: any free one); default 8765")
    console.add_argument("--no-browser", action="store_true", help="print the URL instead of opening a browser")

    secret = commands.add_parser("webhook-secret", help="print your webhook signing secret (made on first use)")
    secret.add_argument("--rotate", action="store_true", help="replace it first; the old one stops signing at once")

    dlq = commands.add_parser("dlq", help="the tasks failed by their dead-letter queue")
    dlq.add_argument("action", choices=("list", "retry"))
    dlq.add_argument("--all-failed", action="store_true", help="every failed task, not only dead-lettered ones")
    dlq.add_argument("--dry-run", action="store_true", help="retry: list what would be retried, change nothing")
    dlq.add_argument("--yes", "-y", action="store_true", help="retry: do not ask for confirmation")

    scheduling.add_parser(commands, _task_options)
    bulk.add_parser(commands, LANES)
    workflows.add_parser(commands)
    task_types.add_parser(commands)
    for command in _subcommands(parser):
        _global_options(command, after_command=True)
    return parser


def _global_options(parser: argparse.ArgumentParser, after_command: bool = False) -> None:
    """Where the API is, and --json: taken before the subcommand or after it (`tasklane get ID --json`).
    After it they default to nothing, so that a flag given before is not overwritten."""
    default: Any = argparse.SUPPRESS if after_command else None
    where = parser.add_argument_group(
        "where (flags, then TASKLANE_* environment, then stack outputs, then the local stack)"
    )
    where.add_argument(
        "--endpoint", default=default, help="API base URL, e.g. https://abc.execute-api.us-east-1.amazonaws.com/v1"
    )
    where.add_argument(
        "--api-key", default=default, help="API key (AuthMode=api_key); otherwise requests are signed with SigV4"
    )
    where.add_argument("--stack-name", default=default, help="read the endpoint and queues from this stack's outputs")
    where.add_argument("--region", default=default)
    where.add_argument("--profile", default=default, help="AWS profile for SigV4 and for the stack's outputs")
    parser.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS if after_command else False,
        help="machine-readable output",
    )


def _subcommands(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Every subcommand's parser, nested ones (`schedules get`) included."""
    found: list[argparse.ArgumentParser] = []
    for action in parser._actions:  # argparse offers no public list of its subparsers
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                found += [sub, *_subcommands(sub)]
    return found


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: give a number from 0 to 65535 (0: any free one)")
    return int(text)


def _task_options(command: argparse.ArgumentParser) -> None:
    """What a submission sets beside its type: for `submit` and for a schedule's task."""
    command.add_argument("--payload", help="JSON object, or @file (up to 1 MiB; @- reads stdin)")
    command.add_argument("--priority", choices=LANES)
    command.add_argument("--max-attempts", type=int)
    command.add_argument("--timeout", type=int, dest="timeout_seconds")


@dataclass
class Context:
    client: Client
    target: Target
    args: argparse.Namespace
    out: TextIO
    err: TextIO


def _submit(c: Context) -> int:
    a = c.args
    task = c.client.submit(
        a.task_type,
        _payload(a.payload),
        priority=a.priority,
        delay_seconds=a.delay_seconds,
        run_at=a.run_at,
        max_attempts=a.max_attempts,
        timeout_seconds=a.timeout_seconds,
        callback_url=a.callback_url,
        idempotency_key=a.idempotency_key,
    )
    if a.wait:
        return _wait(c, task["task_id"], None)
    show(task, a, c.out, lambda t: print(t["task_id"], file=c.out))
    return 0


def _error_text(error: dict[str, Any] | None) -> str | None:
    if not error:
        return None
    details = [d for d in error.get("details") or [] if isinstance(d, dict) and "field" in d]
    fields = "; ".join(f"{d['field']}: {d['message']}" for d in details)
    return f"{error['message']} ({fields})" if fields else str(error["message"])


def _batch_lines(name: str) -> list[Any]:
    tasks = []
    for number, line in enumerate(_read_input(name).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            tasks.append(json.loads(line))
        except ValueError as exc:
            raise UsageError(f"{name} line {number} is not valid JSON: {exc}") from None
    return tasks


def _batch(c: Context) -> int:
    tasks = _batch_lines(c.args.file)
    results = c.client.submit_batch(tasks, idempotency_key=c.args.idempotency_key)
    rows = [
        {"index": r["index"], "task_id": (r.get("task") or {}).get("task_id"), "error": _error_text(r.get("error"))}
        for r in results
    ]
    show(results, c.args, c.out, lambda _: table(rows, ("index", "task_id", "error"), c.out))
    return EXIT_ERROR if any(r.get("error") for r in results) else 0


def _list(c: Context) -> int:
    pages = c.client.list(
        status=c.args.status,
        task_type=c.args.task_type,
        priority=c.args.priority,
        schedule=c.args.schedule,
        page_size=min(100, c.args.limit),
    )
    tasks = list(islice(pages, c.args.limit))
    columns = ("task_id", "type", "priority", "status", "attempts", "progress", "created_at", "error")
    show(tasks, c.args, c.out, lambda ts: table(map(summary, ts), columns, c.out))
    return 0


def _dlq(c: Context) -> int:
    failed = _dead_lettered(c.client, c.args.all_failed)
    if c.args.action == "list":
        columns = ("task_id", "type", "priority", "attempts", "created_at", "error")
        show(failed, c.args, c.out, lambda ts: table(map(summary, ts), columns, c.out))
        return 0
    which = "failed" if c.args.all_failed else "dead-lettered"
    if c.args.dry_run or not failed:
        show(failed, c.args, c.out, lambda ts: print(f"would retry {len(ts)} {which} task(s)", file=c.out))
        return 0
    if not c.args.yes and not _confirmed(f"retry {len(failed)} {which} task(s)?", c.err):
        print("tasklane: nothing retried (pass --yes to retry without asking)", file=c.err)
        return EXIT_USAGE
    retried = [c.client.retry(t["task_id"]) for t in failed]
    show(retried, c.args, c.out, lambda ts: print(f"retried {len(ts)} task(s)", file=c.out))
    return 0


def _confirmed(question: str, err: TextIO) -> bool:
    """Ask on the terminal; without one (a script, a pipe) the answer is no: scripts pass --yes."""
    if not sys.stdin.isatty():
        print(f"tasklane: {question} needs confirmation: pass --yes (stdin is not a terminal)", file=err)
        return False
    print(f"{question} [y/N] ", end="", file=err, flush=True)
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def _stats_command(c: Context) -> int:
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
    columns = ("lane", "queued", "in_flight", "delayed", "in_dlq_now", "dead_lettered_1h", "oldest_age_s")
    show(rows, c.args, c.out, lambda rs: table(rs, columns, c.out))
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


def _task_command(action: str) -> Callable[[Context], int]:
    def command(c: Context) -> int:
        show_task(getattr(c.client, action)(c.args.task_id), c.args, c.out)
        return 0

    return command


def _result(c: Context) -> int:
    if c.args.output is None:
        print(json.dumps(c.client.result(c.args.task_id), indent=2 if c.args.json else None), file=c.out)
        return 0
    if c.args.output == "-":
        written, where = c.client.download_result(c.args.task_id, _binary(c.out)), "stdout"
    else:
        try:
            written, where = c.client.download_result(c.args.task_id, c.args.output), c.args.output
        except OSError as exc:
            raise TasklaneError(f"cannot write {c.args.output}: {exc.strerror or exc}") from None
    print(f"tasklane: wrote {written} bytes to {where}", file=c.err)
    return 0


class _TextSink:
    """Bytes into a text stream that has no binary buffer under it (an io.StringIO)."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.decoder = codecs.getincrementaldecoder("utf-8")()

    def write(self, data: bytes, /) -> int:
        return self.out.write(self.decoder.decode(data))


def _binary(out: TextIO) -> Writable:
    """Where raw bytes for `out` go: its binary buffer, after what was already written as text."""
    buffer = getattr(out, "buffer", None)
    if buffer is None:
        return _TextSink(out)
    out.flush()
    return buffer


COMMANDS: dict[str, Callable[[Context], int]] = {
    "submit": _submit,
    "batch": _batch,
    "get": _task_command("get"),
    "cancel": _task_command("cancel"),
    "retry": _task_command("retry"),
    "result": _result,
    "wait": lambda c: _wait(c, c.args.task_id, c.args.timeout),
    "list": _list,
    "stats": _stats_command,
    "console": _console,
    "dlq": _dlq,
    "webhook-secret": _webhook_secret,
    "bulk": lambda c: bulk.run(c.client, c.args, c.out, c.err),
    "types": lambda c: task_types.run(c.client, c.args, c.out),
    "schedules": lambda c: scheduling.run(c.client, c.args, _payload(getattr(c.args, "payload", None)), c.out),
    "workflows": lambda c: workflows.run(c.client, c.args, c.out, c.err),
}


def run(args: argparse.Namespace, out: TextIO, err: TextIO, target_for: Callable[..., Target] = resolve) -> int:
    target = target_for(
        endpoint=args.endpoint,
        api_key=args.api_key,
        stack_name=args.stack_name,
        region=args.region,
        profile=args.profile,
    )
    client = Client(target.endpoint, target.auth, transport=getattr(target, "transport", None))
    return COMMANDS[args.command](Context(client, target, args, out, err))


def _wait(c: Context, task_id: str, timeout: float | None) -> int:
    args, out, err = c.args, c.out, c.err
    bar = ProgressBar(err if args.json else out)
    code, timed_out = 0, None
    try:
        task = c.client.wait(task_id, timeout, on_update=bar)
    except TaskFailed as exc:
        task, code = exc.task, EXIT_FAILED
    except TaskCancelled as exc:
        task, code = exc.task, EXIT_CANCELLED
    except WaitTimeout as exc:
        task, code, timed_out = {}, EXIT_TIMEOUT, exc
    finally:
        bar.close()  # however the wait ends, before anything else is written
    if timed_out is not None:
        print(f"tasklane: {timed_out}", file=err)
    else:
        show_task(task, args, out)
    return code


def _silence_stdout() -> None:
    """Point stdout at /dev/null: its reader is gone, and the interpreter flushes it once more at exit."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a file descriptor (tests): nothing left to flush into a closed pipe
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def _what_to_check(code: str | None) -> str:
    """What a 404 asks its reader to check, by what was not found."""
    if code == "schedule_not_found":
        return "check the schedule's name (tasklane schedules list) and the credentials or API key you use"
    if code == "task_not_found":
        return "check the task id and the credentials or API key you use"
    return "check the endpoint, and the credentials or API key you use"


def _error_lines(exc: TasklaneError) -> list[str]:
    """An API error as the CLI prints it: its fields inline (as `batch` shows them), other details below."""
    fields = [d for d in exc.details if isinstance(d, dict) and "field" in d] if isinstance(exc.details, list) else []
    if fields:
        inline = "; ".join(f"{d['field']}: {d['message']}" for d in fields)
        return [f"tasklane: {exc} ({inline})"]
    lines = [f"tasklane: {exc}"]
    if exc.details:
        lines.append(json.dumps(exc.details, indent=2))
    return lines


MISSING_KEY = (
    "pass --api-key KEY or set TASKLANE_API_KEY (the stack's API key: "
    "aws apigateway get-api-key --include-value --api-key <ApiKeyId output>)"
)


def main(argv: Sequence[str] | None = None, target_for: Callable[..., Target] = resolve) -> int:
    args = build_parser().parse_args(argv)
    try:
        code = run(args, sys.stdout, sys.stderr, target_for)
        sys.stdout.flush()  # a closed pipe shows here when the output was still buffered
        return code
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except UsageError as exc:
        print(f"tasklane: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except NotFound as exc:
        print(f"tasklane: {exc.message} (for this caller: {_what_to_check(exc.code)})", file=sys.stderr)
    except AuthError as exc:
        print(f"tasklane: {exc}", file=sys.stderr)
        if exc.code in ("invalid_api_key", "no_route_or_unsigned", None) or "API key" in exc.message:
            print(f"tasklane: {MISSING_KEY}", file=sys.stderr)
    except TasklaneError as exc:
        for line in _error_lines(exc):
            print(line, file=sys.stderr)
    except Exception as exc:  # no input may end in a traceback: say what failed, and how to see more
        if os.environ.get("TASKLANE_DEBUG"):
            raise
        print(
            f"tasklane: unexpected error: {type(exc).__name__}: {exc} (TASKLANE_DEBUG=1 shows where)", file=sys.stderr
        )
    return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
