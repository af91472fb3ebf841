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

from tests.functional.messages_api import API, Message
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
    needs_receiver = row.produce.__name__ == "_result_not_kept"
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
    return codes, texts - set(NOT_ANSWERED)


def _written(text: str) -> str:
    return PLACEHOLDER.sub("{}", text)


def test_every_error_code_and_message_of_the_code_has_its_row():
    codes, texts = _in_code()
    assert codes - {row.code for row in API} == set(), "error codes without a row in messages_api.API"
    assert texts - {_written(row.text) for row in API} == set(), "messages without a row in messages_api.API"
    assert {_written(row.text) for row in API} - texts == set(), "rows whose message the code no longer says"
