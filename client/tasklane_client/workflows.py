"""Workflows from Python and the command line: `chain`, `group`, `chord` build the body of
POST /workflows; `tasklane workflows submit FILE [--wait] | get ID | list | cancel ID`."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from tasklane_client.render import show, table

if TYPE_CHECKING:
    from tasklane_client.client import Client

Node = dict[str, Any]
FINISHED = ("completed", "failed", "cancelled")


def task(task_type: str, payload: dict[str, Any] | None = None, **options: Any) -> Node:
    """A task node: a submission (priority, max_attempts, timeout_seconds, callback_url ...)."""
    return {"task": {"task_type": task_type, "payload": payload or {}, **options}}


def _node(value: Node | tuple[str, dict[str, Any]] | str) -> Node:
    if isinstance(value, str):
        return task(value)
    if isinstance(value, tuple):
        return task(*value)
    return value


def chain(*nodes: Node | tuple[str, dict[str, Any]] | str) -> Node:
    """One node after another; each step gets `inputs: [previous result]`."""
    return {"chain": [_node(n) for n in nodes]}


def group(*nodes: Node | tuple[str, dict[str, Any]] | str) -> Node:
    """All at once; its result is the list of its members' results, in order."""
    return {"group": [_node(n) for n in nodes]}


def chord(members: Node, then: Node | tuple[str, dict[str, Any]] | str) -> Node:
    """`members` (a group, or one node) and then `then`, whose inputs are their results in order."""
    listed = members.get("group", [members])
    return {"chord": {"group": listed, "then": _node(then)}}


def workflow_body(root: Node, *, on_failure: str = "fail", callback_url: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"root": root, "on_failure": on_failure}
    if callback_url is not None:
        body["callback_url"] = callback_url
    return body


# --- the command ------------------------------------------------------------------------------------


def add_parser(commands: Any) -> None:
    workflows = commands.add_parser("workflows", help="chains, groups and chords of tasks")
    verbs = workflows.add_subparsers(dest="verb", required=True)
    submit = verbs.add_parser("submit", help="submit a workflow from a JSON file (- for stdin)")
    submit.add_argument("file", help='{"root": node, "on_failure", "callback_url"} or just a node')
    submit.add_argument("--on-failure", choices=("fail", "continue"), default=None)
    submit.add_argument("--wait", action="store_true", help="then wait for it with a progress bar")
    submit.add_argument("--timeout", type=float, default=None, help="seconds to wait at most")
    verbs.add_parser("get", help="a workflow: status, counts, tree, result").add_argument("workflow_id")
    verbs.add_parser("cancel", help="cancel what has not started").add_argument("workflow_id")
    verbs.add_parser("list", help="your workflows, newest first")


def _read(path: str) -> dict[str, Any]:
    text = sys.stdin.read() if path == "-" else Path(path).read_text()
    body: dict[str, Any] = json.loads(text)
    return body if "root" in body else {"root": body}


def _tree_lines(node: Node, depth: int = 0) -> list[str]:
    pad = "  " * depth
    if "task" in node:
        t = node["task"]
        return [f"{pad}{t.get('status') or '?':<10} {t.get('task_type') or ''} {t['task_id']}"]
    if "chord" in node:
        lines = [f"{pad}chord"]
        for member in node["chord"]["group"]:
            lines += _tree_lines(member, depth + 1)
        return [*lines, f"{pad}then", *_tree_lines(node["chord"]["then"], depth + 1)]
    kind = "chain" if "chain" in node else "group"
    return [f"{pad}{kind}"] + [line for member in node[kind] for line in _tree_lines(member, depth + 1)]


def _show_one(workflow: dict[str, Any], args: argparse.Namespace, out: TextIO) -> None:
    def render(w: dict[str, Any]) -> None:
        counts = w["counts"]
        print(f"workflow_id  {w['workflow_id']}", file=out)
        print(f"status       {w['status']}", file=out)
        print("counts       " + ", ".join(f"{k} {v}" for k, v in counts.items()), file=out)
        if w.get("error"):
            print(f"error        {json.dumps(w['error'])}", file=out)
        if w["status"] == "completed":
            print(f"result       {w.get('result_url') or json.dumps(w.get('result'))}", file=out)
        for line in _tree_lines(w["tree"]):
            print(f"  {line}", file=out)

    show(workflow, args, out, render)


class WorkflowBar:
    """Finished tasks out of the total, one line redrawn in place on a terminal."""

    def __init__(self, out: TextIO, width: int = 30) -> None:
        self.out, self.width, self.last = out, width, ""
        self.live = out.isatty()

    def __call__(self, workflow: dict[str, Any]) -> None:
        counts = workflow["counts"]
        done = counts["completed"] + counts["failed"] + counts["cancelled"]
        filled = int(self.width * done / max(1, counts["total"]))
        line = f"[{'#' * filled}{'-' * (self.width - filled)}] {done}/{counts['total']}  {workflow['status']}"
        if line != self.last:
            self.last = line
            print(("\r" + line.ljust(80)) if self.live else line, end="" if self.live else "\n", file=self.out)

    def close(self) -> None:
        if self.live and self.last:
            print(file=self.out)


def wait(
    client: Client, workflow_id: str, timeout: float | None, on_update: Callable[[dict[str, Any]], None]
) -> dict[str, Any]:
    """Poll the workflow until it ends (or `timeout` passes); its last answer."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        workflow = client.get_workflow(workflow_id)
        on_update(workflow)
        if workflow["status"] in FINISHED or (deadline is not None and time.monotonic() >= deadline):
            return workflow
        time.sleep(1.0)


def run(client: Client, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    verb = args.verb
    if verb == "submit":
        body = _read(args.file)
        if args.on_failure:
            body["on_failure"] = args.on_failure
        workflow = client.submit_workflow(
            body["root"], on_failure=body.get("on_failure", "fail"), callback_url=body.get("callback_url")
        )
        if args.wait:
            bar = WorkflowBar(err if args.json else out)
            workflow = wait(client, workflow["workflow_id"], args.timeout, bar)
            bar.close()
        _show_one(workflow, args, out)
        return {"completed": 0, "failed": 1, "cancelled": 3}.get(workflow["status"], 0)
    if verb == "list":
        rows = client.list_workflows()
        columns = ("workflow_id", "status", "total", "created_at", "finished_at")
        show(rows, args, out, lambda ws: table(({c: w.get(c) or "" for c in columns} for w in ws), columns, out))
        return 0
    action = {"get": client.get_workflow, "cancel": client.cancel_workflow}[verb]
    _show_one(action(args.workflow_id), args, out)
    return 0
