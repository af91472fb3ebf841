"""The examples in examples/ use tasklane without forking it: their templates lint clean against
tasklane's own template, and every import they make is an export tasklane's stack really has."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cfn import ROOT, _Loader, template

EXAMPLES = ROOT / "examples"


def load(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_Loader)


def exports() -> set[str]:
    """The export names of tasklane's stack, with `${AWS::StackName}` kept as a placeholder."""
    names = set()
    for output in template()["Outputs"].values():
        name = (output.get("Export") or {}).get("Name")
        if name:
            names.add(name["Fn::Sub"].replace("${AWS::StackName}", "{stack}"))
    return names


def imports(node: Any) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Fn::ImportValue":
                found.append(value["Fn::Sub"])
            else:
                found += imports(value)
    elif isinstance(node, list):
        for value in node:
            found += imports(value)
    return found


@pytest.mark.parametrize("name", ["wordcount", "nested"])
def test_example_template_lints_clean(name: str) -> None:
    # cfn-lint checks a nested application's parameters against tasklane's template itself (E3043).
    lint = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), str(EXAMPLES / name / "template.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_every_import_of_the_example_is_an_export_of_tasklane() -> None:
    example = load(EXAMPLES / "wordcount" / "template.yaml")
    wanted = [re.sub(r"\$\{TasklaneStackName\}", "{stack}", name) for name in imports(example)]
    assert wanted, "the example imports nothing from tasklane"
    assert set(wanted) <= exports(), set(wanted) - exports()


def test_tasklane_exports_what_another_stack_needs() -> None:
    assert {
        "{stack}-ApiUrl", "{stack}-ApiId", "{stack}-ApiExecuteArn", "{stack}-EventBusArn", "{stack}-TargetFunctionArns"
    } <= exports()  # fmt: skip


def test_the_nested_application_reads_outputs_tasklane_has() -> None:
    nested = load(EXAMPLES / "nested" / "template.yaml")
    used = {
        value[1].split(".", 1)[1]
        for value in _getatts(nested)
        if value[0] == "Tasklane" and value[1].startswith("Outputs.")
    }
    assert used
    assert used <= set(template()["Outputs"]), used - set(template()["Outputs"])


def _getatts(node: Any) -> list[list[str]]:
    found: list[list[str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Fn::GetAtt":
                found.append(value if len(value) == 2 else value[:2])
            else:
                found += _getatts(value)
    elif isinstance(node, list):
        for value in node:
            found += _getatts(value)
    return found
