"""Every message the API and the `tasklane` command print, each seen once: the catalogue's rows
(tests/functional/messages_api.py, messages_cli.py) are driven one by one and their exact text checked;
the code has no error code or message without a row; docs/messages.md lists them as the catalogue does."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.functional.messages_api import API, GATEWAY, Message
from tests.functional.messages_cli import CLI
from tests.functional.task_types_helpers import RECEIVER, RECEIVER_ADDRESS
from tests.functional.test_async_targets import receiver  # noqa: F401  # a fixture


class World:
    """The in-process stack, with what a row needs to set up its case (fixtures and settings)."""

    def __init__(self, tasklane: Any, resolver: Any, target: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.tasklane, self.resolver, self.receiver, self.monkeypatch = tasklane, resolver, target, monkeypatch
        if resolver is not None:  # a task type's target resolves (nothing is sent there)
            resolver.names[urlsplit(RECEIVER).hostname] = [RECEIVER_ADDRESS]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.tasklane, name)

    def limit_schedules(self, limit: int) -> None:
        from tasklane.settings import scheduler

        self.monkeypatch.setenv("MAX_SCHEDULES_PER_OWNER", str(limit))
        scheduler.scheduler_settings.cache_clear()

    def limit_task_types(self, limit: int) -> None:
        from tasklane.settings import task_types

        self.monkeypatch.setenv("MAX_TASK_TYPES_PER_OWNER", str(limit))
        task_types.task_type_settings.cache_clear()


@pytest.fixture
def world(tasklane, resolver, monkeypatch):
    return World(tasklane, resolver, None, monkeypatch)


@pytest.fixture
def world_with_receiver(request, tasklane, monkeypatch):
    """With an async target's receiver on 127.0.0.1 (test_async_targets' fixture), names not stubbed."""
    return World(tasklane, None, request.getfixturevalue("receiver"), monkeypatch)


def _id(row: Message) -> str:
    return f"{row.status}-{row.code}-{row.produce.__name__}"


@pytest.mark.parametrize("row", API, ids=[_id(r) for r in API])
def test_the_api_answers_each_message_of_the_catalogue(request, row):
    needs_receiver = row.produce.__name__ in ("_result_not_kept", "_stale_token", "_attempt_over")
    world = request.getfixturevalue("world_with_receiver" if needs_receiver else "world")
    (status, code, message), values = row.produce(world)
    assert (status, code, message) == (row.status, row.code, row.text.format(**values))


# --- the guard: no error code or message in the code without its row --------------------------------

PACKAGE = Path(__file__).parents[2] / "functions" / "tasklane"
PLACEHOLDER = re.compile(r"\{[^{}]*\}")
# Messages of errors that never reach a caller as such, and why.
NOT_ANSWERED = {
    "not an object": "a workflow node's problem: answered as a detail of 'the workflow is not valid'",
}
# Answered, but not driven by a row yet: each is named here so that it is seen, not forgotten.
NOT_YET_DRIVEN = {
    "the uploaded result cannot be read": "POST /tasks/{id}/complete of a result uploaded to its URL (new)",
}


def _variants(node: ast.expr) -> list[str]:
    """The texts an expression can be, each placeholder written {} ([] when it is not written out)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return ["".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return [a + b for a in _variants(node.left) for b in _variants(node.right)]
    if isinstance(node, ast.IfExp):
        return _variants(node.body) + _variants(node.orelse)
    return []


def _error_classes() -> dict[str, type]:
    """Every error class a caller can be answered with, by name (ServiceUnavailable's log their reason)."""
    import importlib

    from tasklane.model.errors import TasklaneError

    for path in PACKAGE.rglob("*.py"):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if "class " in path.read_text() and "Error" in path.read_text():
            importlib.import_module(module.removesuffix(".__init__"))
    found, todo = {}, [TasklaneError]
    while todo:
        cls = todo.pop()
        found[cls.__name__] = cls
        todo += cls.__subclasses__()
    return found


def _in_code() -> tuple[set[str], set[str]]:
    """The error codes and message texts (placeholders as {}) the package can answer."""
    from tasklane.logic.task_values import Unfinishable
    from tasklane.model.errors import ServiceUnavailable

    classes = _error_classes()
    codes = {cls.code for cls in classes.values() if cls is not Unfinishable}
    texts = {cls.public_message for cls in classes.values() if issubclass(cls, ServiceUnavailable)}
    said_by = {name for name, cls in classes.items() if not issubclass(cls, ServiceUnavailable | Unfinishable)}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and node.name in said_by:
                for call in ast.walk(node):  # a typed error's own message: its super().__init__(...)
                    if isinstance(call, ast.Call) and getattr(call.func, "attr", None) == "__init__" and call.args:
                        texts.update(_variants(call.args[0]))
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            if name in said_by:
                texts.update(_variants(node.args[0]))
            elif name == "error_response" and len(node.args) >= 3:
                codes.update(_variants(node.args[1]))
                texts.update(_variants(node.args[2]))
    return codes, texts - set(NOT_ANSWERED) - set(NOT_YET_DRIVEN)


def _written(text: str) -> str:
    return PLACEHOLDER.sub("{}", text)


def test_every_error_code_and_message_of_the_code_has_its_row():
    codes, texts = _in_code()
    assert codes - {row.code for row in API} == set(), "error codes without a row in messages_api.API"
    assert texts - {_written(row.text) for row in API} == set(), "messages without a row in messages_api.API"
    assert {_written(row.text) for row in API} - texts == set(), "rows whose message the code no longer says"


@pytest.mark.parametrize("row", CLI, ids=[f"{r.stream}-{r.exit}-{r.produce.__name__}" for r in CLI])
def test_the_command_prints_each_message_of_the_catalogue(world, row):
    (stream, code, text), values = row.produce(world)
    assert (stream, code, text) == (row.stream, row.exit, row.text.format(**values))


CLIENT = Path(__file__).parents[2] / "client" / "tasklane_client"
# The client's messages no row shows, and why (each needs what a test in process cannot give).
NOT_SHOWN = {
    "{} [y/N] ": "the question asked on a terminal (without one, the 'needs confirmation' row)",
    "{} {} {} tasks? [y/N] ": "the bulk question asked on a terminal",
    "nothing changed": "the answer to a bulk question on a terminal, when it is not y",
    "lost the connection to {} while reading: {}": "a connection dropped in the middle of a body",
    "{} could not be reached: {}": "the async worker helper (tasklane_client.worker) posting to its completion URL",
    # The worker helper's result upload: tests/functional/test_async_result_uploads.py drives each.
    "the result is {} bytes; the limit is {}": "a worker's result over its upload's max_bytes, not sent",
    "the result upload was refused: HTTP {}": "the values bucket refusing a worker's PUT (an expired URL: 403)",
    "the result upload could not be sent: {}": "the values bucket unreachable from a worker",
}
NOT_MESSAGES = {"ValueError", "AssertionError"}  # a program's own mistakes, not what a user is told
SHOWN_BY = {"render.py", "workflows.py", "scheduling.py"}  # a task, a workflow, a schedule: output, not messages


def _client_texts() -> set[str]:
    texts = set()
    for path in CLIENT.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and node.args:
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                if name == "print" and path.name in SHOWN_BY:
                    continue
                if (name.endswith("Error") and name not in NOT_MESSAGES) or name in ("print", "__init__"):
                    texts.update(_variants(node.args[0]))
            elif isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") in ("message", "question"):
                texts.update(_variants(node.value))
            elif isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "_GATEWAY_DEFAULTS":
                texts.update(v for t in node.value.values for v in _variants(t.elts[1]))  # type: ignore[attr-defined]
    return {t for t in texts if re.sub(r"\{\}|tasklane: |\s", "", t)}  # not a bare "{}" nor "tasklane: {}"


def test_every_message_of_the_command_and_the_client_has_its_row():
    rows = [row.text for row in CLI]
    missing = set()
    for text in _client_texts() - set(NOT_SHOWN):
        pattern = ".*?".join(re.escape(part) for part in text.split("{}"))
        if not any(re.search(pattern, row) for row in rows):
            missing.add(text)
    assert missing == set(), "messages of the client without a row in messages_cli.CLI"


@pytest.mark.parametrize("row", GATEWAY, ids=[r.produce.__name__ for r in GATEWAY])
def test_api_gateway_answers_each_message_of_the_catalogue(row):
    (status, code, message), values = row.produce(None)
    assert (status, code, message) == (row.status, row.code, row.text.format(**values))


def test_every_answer_of_api_gateway_has_its_row():
    from tests.template.test_gateway_responses import EXPECTED

    customised = set(EXPECTED) - {"DEFAULT_4XX", "DEFAULT_5XX"}  # API Gateway's own message, passed on
    named = {r.produce.__name__.removeprefix("gateway_").removesuffix("_api_key").removesuffix("_iam") for r in GATEWAY}
    assert {name.upper() for name in named} == customised


# --- the catalogue as docs/messages.md shows it -------------------------------------------------------

DOC = Path(__file__).parents[2] / "docs" / "messages.md"


def _cell(text: object) -> str:
    """A table cell: {name!r} shown as the quoted name it is, | escaped."""
    return re.sub(r"\{(\w+)!r\}", r"'{\1}'", str(text)).replace("|", "\\|")


API_INTRO = """## The API

What the functions answer, then what API Gateway answers by itself (no function ran: `details` then
carries `gateway_error` and `request_id`). Other API Gateway refusals keep API Gateway's own message,
with the code `gateway_error`.
"""
CLI_INTRO = """## The command and the Python client

`where` is stderr or stdout for the command (`exit` its exit code: 0 done, 1 an error, 2 bad usage,
5 a wait timed out), or `raised` for what the Python client raises (`str(exc)`).
"""


def catalogue() -> str:
    """The sections of docs/messages.md, from the catalogue: each message once, in the catalogue's order."""
    lines = [API_INTRO, "| code | status | message | what to do |", "|---|---|---|---|"]
    seen = set()
    for row in [*API, *GATEWAY]:
        if (row.code, row.text) not in seen:
            seen.add((row.code, row.text))
            lines.append(f"| `{row.code}` | {row.status} | {_cell(row.text)} | {_cell(row.todo)} |")
    lines += ["", CLI_INTRO, "| where | exit | message | what to do |", "|---|---|---|---|"]
    shown = set()
    for line in CLI:
        if line.text not in shown:
            shown.add(line.text)
            exit_code = "" if line.exit is None else line.exit
            lines.append(f"| {line.stream} | {exit_code} | {_cell(line.text)} | {_cell(line.todo)} |")
    return "\n".join(lines) + "\n"


def test_docs_messages_lists_the_catalogue():
    text = DOC.read_text()
    start = text.index("## The API")
    assert text[start:] == catalogue(), "docs/messages.md differs from the catalogue: regenerate its tables"
