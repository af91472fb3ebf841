"""The `tasklane` command.

Exit codes: 0 done; 1 an error (API, endpoint, credentials); 2 bad usage (arguments, unreadable or
invalid --payload/batch input); 3 the task failed; 4 the task was cancelled; 5 `wait` timed out;
130 interrupted (Ctrl-C); 141 the reader of the output went away (`tasklane list | head -1`): what
a shell reports for a tool ended by SIGPIPE, so that `set -o pipefail` sees tasklane as it sees
`cat`, with no traceback. Errors go to stderr, output to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from tasklane_client import bulk, dlq, operating, scheduling, task_commands, task_types, workflows
from tasklane_client.client import Client
from tasklane_client.command import (
    EXIT_BROKEN_PIPE,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    LANES,
    Context,
    payload,
    task_options,
)
from tasklane_client.discovery import Target, resolve
from tasklane_client.errors import AuthError, NotFound, TasklaneError, UsageError

__all__ = ["COMMANDS", "UsageError", "build_parser", "main", "run"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tasklane", description="Submit, watch and operate tasklane tasks.")
    _global_options(parser)
    commands = parser.add_subparsers(dest="command", required=True)
    task_commands.add_parsers(commands)
    operating.add_parsers(commands)
    dlq.add_parser(commands)
    scheduling.add_parser(commands, task_options)
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


COMMANDS: dict[str, Callable[[Context], int]] = {
    **task_commands.COMMANDS,
    **operating.COMMANDS,
    "dlq": dlq.run,
    "bulk": lambda c: bulk.run(c.client, c.args, c.out, c.err),
    "types": lambda c: task_types.run(c.client, c.args, c.out),
    "schedules": lambda c: scheduling.run(c.client, c.args, payload(getattr(c.args, "payload", None)), c.out),
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
