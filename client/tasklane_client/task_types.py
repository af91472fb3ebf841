"""`tasklane types list|get|put|delete`: the task types you may submit, and your own."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from tasklane_client.render import show, table

if TYPE_CHECKING:
    from tasklane_client.client import Client

COLUMNS = ("name", "kind", "mode", "target", "priority", "timeout_seconds", "max_attempts", "rate_limit")


def add_parser(commands: Any) -> None:
    types = commands.add_parser("types", help="the task types you may submit: the built-ins and your own")
    verbs = types.add_subparsers(dest="verb", required=True)
    verbs.add_parser("list", help="every type you may submit")
    verbs.add_parser("get", help="a type with its payload schema").add_argument("name")
    verbs.add_parser("delete", help="delete a type of yours").add_argument("name")
    put = verbs.add_parser("put", help="register or replace a type of yours")
    put.add_argument("name")
    target = put.add_mutually_exclusive_group(required=True)
    target.add_argument("--url", help="https URL POSTed each task (signed like a webhook)")
    target.add_argument("--lambda", dest="function", metavar="ARN", help="Lambda function invoked with each task")
    put.add_argument("--schema", help="the payload's JSON Schema: JSON text, or @FILE")
    put.add_argument("--priority", choices=("high", "normal", "low"))
    put.add_argument("--timeout", type=int, dest="timeout_seconds")
    put.add_argument("--max-attempts", type=int, dest="max_attempts")
    put.add_argument("--rate-limit", dest="rate_limit", help='e.g. "5/s", "100/m"')
    put.add_argument("--description")


def _schema(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    from tasklane_client.errors import UsageError

    source = Path(text[1:]).read_text() if text.startswith("@") else text
    try:
        schema = json.loads(source)
    except ValueError as exc:
        raise UsageError(f"--schema is not JSON: {exc}") from None
    if not isinstance(schema, dict):
        raise UsageError("--schema must be a JSON object")
    return schema


def definition(args: argparse.Namespace) -> dict[str, Any]:
    """The PUT body from the command's options (what is not given takes the API's defaults)."""
    body: dict[str, Any] = {"target": {"url": args.url} if args.url else {"lambda": args.function}}
    options = {
        "payload_schema": _schema(args.schema),
        "priority": args.priority,
        "timeout_seconds": args.timeout_seconds,
        "max_attempts": args.max_attempts,
        "rate_limit": args.rate_limit,
        "description": args.description,
    }
    return body | {k: v for k, v in options.items() if v is not None}


def _row(item: dict[str, Any]) -> dict[str, Any]:
    target = item.get("target") or {}
    return {
        **{column: item.get(column) for column in COLUMNS},
        "target": next(iter(target.values()), ""),
        "rate_limit": item.get("rate_limit") or "",
    }


def run(client: Client, args: argparse.Namespace, out: TextIO) -> int:
    verb = args.verb
    if verb == "list":
        items = client.list_task_types()
        show(items, args, out, lambda found: table(map(_row, found), COLUMNS, out))
    elif verb == "get":
        found = client.get_task_type(args.name)
        show(found, args, out, lambda item: print(json.dumps(item, indent=2), file=out))
    elif verb == "put":
        saved = client.put_task_type(args.name, definition(args))
        show(saved, args, out, lambda item: print(f"saved {item['name']} ({item['kind']}, {item['mode']})", file=out))
    else:
        client.delete_task_type(args.name)
        show({"name": args.name, "deleted": True}, args, out, lambda _: print(f"deleted {args.name}", file=out))
    return 0
