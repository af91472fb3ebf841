"""Records (tasklane.records): immutable where mypy checks the package, plain dataclasses at run time."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest
from mypy import api as mypy

from tasklane.model.envelope import Envelope
from tasklane.model.task import TaskError
from tests import cfn

PACKAGE = cfn.ROOT / "functions" / "tasklane"


def test_the_package_declares_its_immutable_dataclasses_one_way():
    frozen = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            call = isinstance(node, ast.Call) and getattr(node.func, "id", None) == "dataclass"
            if call and any(k.arg == "frozen" for k in node.keywords):
                frozen.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert frozen == [], "an immutable dataclass is a @record (tasklane.records)"


def test_mypy_refuses_to_assign_a_records_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from dataclasses import replace\n"
        "from tasklane.model.task import TaskError\n"
        "error = TaskError('Boom', 'it broke')\n"
        "error.message = 'something else'\n"
        "changed = replace(error, message='a copy may differ')\n"
    )
    monkeypatch.chdir(cfn.ROOT)  # the project's mypy settings, as `make lint` runs them
    # Its own cache: mypy's shared one keeps a module's errors by its name and would answer an older probe's.
    out, _, status = mypy.run(["--config-file", "pyproject.toml", "--cache-dir", str(tmp_path / "cache"), str(probe)])
    assert status == 1, out
    assert f'{probe}:4: error: Property "message" defined in "TaskError" is read-only' in out
    assert "Found 1 error" in out  # the copy by replace() is fine


def test_a_record_is_a_dataclass_with_the_options_it_names():
    assert dataclasses.is_dataclass(TaskError)
    assert not hasattr(TaskError("Boom", "it broke"), "__dict__")  # slots
    with pytest.raises(TypeError):
        Envelope("t-1", "echo", 1, 3, "2026-12-06T00:00:00.000Z")  # type: ignore[misc]  # keywords only
    assert TaskError("Boom", "it broke") == TaskError("Boom", "it broke")
    assert dataclasses.replace(TaskError("Boom", "x"), message="y") == TaskError("Boom", "y")
