"""How the `tasklane` command shows tasks: tables, one task's fields, and a live progress bar."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TextIO


def table(rows: Iterable[dict[str, Any]], columns: Sequence[str], out: TextIO) -> None:
    rows = list(rows)
    cells = [[("" if r.get(c) is None else str(r.get(c))) for c in columns] for r in rows]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(columns)]
    print("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip(), file=out)
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip(), file=out)


def summary(task: dict[str, Any]) -> dict[str, Any]:
    error = task.get("error") or {}
    progress = task.get("progress") or {}
    return {
        "task_id": task["task_id"],
        "type": task["task_type"],
        "priority": task["priority"],
        "status": task["status"],
        "attempts": f"{task['attempts']}/{task['max_attempts']}",
        "progress": f"{progress['percent']:.0f}%" if progress else "",
        "created_at": task["created_at"],
        "error": f"{error.get('type')}: {error.get('message')}" if error else "",
    }


def show(value: Any, args: argparse.Namespace, out: TextIO, render: Callable[[Any], None] | None = None) -> None:
    if args.json or render is None:
        print(json.dumps(value, indent=2), file=out)
    else:
        render(value)


def _large_value(task: dict[str, Any], key: str) -> str | None:
    """`<N bytes at URL>` for a value that lives behind a presigned URL, else None."""
    url = task.get(f"{key}_url")
    if not url:
        return None
    size = task.get(f"{key}_size")
    return f"<{size} bytes at {url}>" if size is not None else f"<at {url}>"


def _callback(callback: dict[str, Any]) -> str:
    deliveries = callback.get("deliveries") or []
    if not deliveries:
        return f"{callback['url']} (no delivery yet)"
    last = deliveries[-1]
    outcome = "delivered" if last["delivered"] else f"failed: {last.get('status_code') or last.get('error')}"
    return f"{callback['url']} (attempt {last['attempt']} {outcome})"


def _outcome(h: dict[str, Any]) -> str:
    error = h.get("error") or {}
    reason = f": {error.get('type')}: {error.get('message')}" if error else ""
    return f"{h['outcome']} at {h['at']}{reason}"


def show_task(task: dict[str, Any], args: argparse.Namespace, out: TextIO) -> None:
    def render(t: dict[str, Any]) -> None:
        for key, value in summary(t).items():
            print(f"{key:<11} {value}", file=out)
        if t.get("next_attempt_at"):  # waiting after a failed attempt: its error is shown above
            print(f"{'next try':<11} {t['next_attempt_at']}", file=out)
        if t.get("deadline"):  # running: when its time limit ends
            print(f"{'deadline':<11} {t['deadline']}", file=out)
        for h in t.get("attempt_history") or []:
            print(f"{'attempt ' + str(h['attempt']):<11} {_outcome(h)}", file=out)
        if t.get("waiting_for"):  # held back by its type's rate or its owner's share of the lane
            print(f"{'waiting for':<11} {t['waiting_for'].replace('_', ' ')}", file=out)
        if t.get("callback"):  # its webhook, and how the last delivery went
            print(f"{'callback':<11} {_callback(t['callback'])}", file=out)
        # An inline payload is left out as it always was; a large one is one line: where to read it.
        payload = _large_value(t, "payload")
        if payload:
            print(f"{'payload':<11} {payload}", file=out)
        result = _large_value(t, "result") or (json.dumps(t["result"]) if t.get("result") is not None else None)
        if result:
            print(f"{'result':<11} {result}", file=out)

    show(task, args, out, render)


class ProgressBar:
    """One line redrawn in place on a terminal; a line per change otherwise."""

    def __init__(self, out: TextIO, width: int = 30) -> None:
        self.out, self.width, self.last = out, width, ""
        self.live = out.isatty()

    def __call__(self, task: dict[str, Any]) -> None:
        progress = task.get("progress") or {}
        percent = 100.0 if task["status"] == "completed" else float(progress.get("percent") or 0)
        filled = int(self.width * percent / 100)
        line = (
            f"[{'#' * filled}{'-' * (self.width - filled)}] {percent:5.1f}%  {task['status']:<10} "
            f"attempt {task['attempts']}/{task['max_attempts']}  {progress.get('message') or ''}"
        ).rstrip()
        if line == self.last:
            return
        self.last = line
        if self.live:
            print("\r" + line.ljust(100), end="", file=self.out, flush=True)
        else:
            print(line, file=self.out, flush=True)

    def close(self) -> None:
        if self.live and self.last:
            print(file=self.out)
