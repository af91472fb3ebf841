"""What the commands of `tasklane` share: the context a command runs in, its exit codes, and the
input it reads (a file or stdin, --payload, the options a task is submitted with)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from tasklane_client.client import Client
from tasklane_client.discovery import Target
from tasklane_client.errors import UsageError

EXIT_ERROR, EXIT_USAGE, EXIT_FAILED, EXIT_CANCELLED, EXIT_TIMEOUT = 1, 2, 3, 4, 5
EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 130, 141
LANES = ("high", "normal", "low")


@dataclass
class Context:
    """A command's client, where it points, its arguments, and where it writes."""

    client: Client
    target: Target
    args: argparse.Namespace
    out: TextIO
    err: TextIO


def read_input(name: str) -> bytes:
    """The bytes of a file named on the command line; - is stdin."""
    if name == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(name).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {name}: {exc.strerror or exc}") from None


def payload(text: str | None) -> dict[str, Any]:
    """--payload: a JSON object, or @FILE (@- for stdin); none is {}."""
    if not text:
        return {}
    # Bytes, not text: json detects UTF-8/16/32 (and a BOM) itself, whatever the locale says.
    raw = read_input(text[1:]) if text.startswith("@") else text
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise UsageError(f"--payload is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise UsageError("--payload must be a JSON object")
    return value


def task_options(command: argparse.ArgumentParser) -> None:
    """What a submission sets beside its type: for `submit` and for a schedule's task."""
    command.add_argument("--payload", help="JSON object, or @file (up to 1 MiB; @- reads stdin)")
    command.add_argument("--priority", choices=LANES)
    command.add_argument("--max-attempts", type=int)
    command.add_argument("--timeout", type=int, dest="timeout_seconds")


def confirmed(question: str, err: TextIO) -> bool:
    """Ask on the terminal; without one (a script, a pipe) the answer is no: scripts pass --yes."""
    if not sys.stdin.isatty():
        print(f"tasklane: {question} needs confirmation: pass --yes (stdin is not a terminal)", file=err)
        return False
    print(f"{question} [y/N] ", end="", file=err, flush=True)
    return sys.stdin.readline().strip().lower() in ("y", "yes")
