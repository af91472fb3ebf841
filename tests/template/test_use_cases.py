"""A use case says what it touches: no function of the logic takes the bag of every AWS service
(`Services`, `Notifications`), only the Protocol of the resources it uses."""

from __future__ import annotations

import ast

from tests import cfn

LOGIC = cfn.ROOT / "functions" / "tasklane" / "logic"
BAGS = {"Services", "Notifications"}


def bags_taken(source: str) -> list[str]:
    """Each parameter, field or import of a module that names a bag."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            found += [f"import {a.name}" for a in node.names if a.name in BAGS]
        elif isinstance(node, ast.arg | ast.AnnAssign) and node.annotation is not None:
            named = {n.id for n in ast.walk(node.annotation) if isinstance(n, ast.Name)}
            named |= {n.value for n in ast.walk(node.annotation) if isinstance(n, ast.Constant)}
            if named & BAGS:
                where = node.arg if isinstance(node, ast.arg) else ast.unparse(node.target)
                found.append(f"{where}: {ast.unparse(node.annotation)}")
    return sorted(found)


def test_no_use_case_takes_every_service():
    taken = {
        str(path.relative_to(LOGIC)): found
        for path in sorted(LOGIC.rglob("*.py"))
        if (found := bags_taken(path.read_text()))
    }
    assert taken == {}


def test_the_check_sees_a_bag_taken():
    source = (
        "from tasklane.data.services import Services\n"
        "def run(x: int, services: Services) -> None: ...\n"
        "class A:\n    notifications: 'Notifications'\n"
        "def fine(services: HasStore) -> None: ...\n"
    )
    assert bags_taken(source) == ["import Services", "notifications: 'Notifications'", "services: Services"]
