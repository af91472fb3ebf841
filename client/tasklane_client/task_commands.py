"""`tasklane submit | batch | get | cancel | retry | result | wait | list`: one task, or many, at a time."""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable
from itertools import islice
from typing import Any, TextIO

from tasklane_client import scheduling
from tasklane_client.command import (
    EXIT_CANCELLED,
    EXIT_ERROR,
    EXIT_FAILED,
    EXIT_TIMEOUT,
    LANES,
    Context,
    payload,
    read_input,
    task_options,
)
from tasklane_client.errors import TaskCancelled, TaskFailed, TasklaneError, UsageError, WaitTimeout
from tasklane_client.render import ProgressBar, show, show_task, summary, table
from tasklane_client.values import Writable

STATUSES = ("scheduled", "pending", "processing", "completed", "failed", "cancelled")


def add_parsers(commands: Any) -> None:
    submit = commands.add_parser("submit", help="submit a task")
    submit.add_argument("task_type")
    task_options(submit)
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
    listing.add_argument("--status", choices=STATUSES)
    listing.add_argument("--type", dest="task_type")
    listing.add_argument("--priority", choices=LANES)
    listing.add_argument("--schedule", metavar="NAME", help="the tasks of this recurring schedule")
    listing.add_argument("--limit", type=int, default=20)


def _submit(c: Context) -> int:
    a = c.args
    task = c.client.submit(
        a.task_type,
        payload(a.payload),
        priority=a.priority,
        delay_seconds=a.delay_seconds,
        run_at=a.run_at,
        max_attempts=a.max_attempts,
        timeout_seconds=a.timeout_seconds,
        callback_url=a.callback_url,
        idempotency_key=a.idempotency_key,
    )
    if a.wait:
        return wait(c, task["task_id"], None)
    show(task, a, c.out, lambda t: print(t["task_id"], file=c.out))
    return 0


def error_text(error: dict[str, Any] | None) -> str | None:
    """An API error on one line: its message, then its fields' messages in brackets."""
    if not error:
        return None
    details = [d for d in error.get("details") or [] if isinstance(d, dict) and "field" in d]
    fields = "; ".join(f"{d['field']}: {d['message']}" for d in details)
    return f"{error['message']} ({fields})" if fields else str(error["message"])


def _batch_lines(name: str) -> list[Any]:
    tasks = []
    for number, line in enumerate(read_input(name).splitlines(), start=1):
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
        {"index": r["index"], "task_id": (r.get("task") or {}).get("task_id"), "error": error_text(r.get("error"))}
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


def wait(c: Context, task_id: str, timeout: float | None) -> int:
    """Wait for a task behind a progress bar, then show it; the exit code says how it ended."""
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


COMMANDS: dict[str, Callable[[Context], int]] = {
    "submit": _submit,
    "batch": _batch,
    "get": _task_command("get"),
    "cancel": _task_command("cancel"),
    "retry": _task_command("retry"),
    "result": _result,
    "wait": lambda c: wait(c, c.args.task_id, c.args.timeout),
    "list": _list,
}
