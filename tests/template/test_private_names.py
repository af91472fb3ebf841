"""No private name (`_x`) crosses a module boundary in the package: what two modules share is public."""

from __future__ import annotations

import ast

from tests import cfn

PACKAGE = cfn.ROOT / "functions" / "tasklane"


def _modules() -> dict[str, ast.Module]:
    trees = {}
    for path in PACKAGE.rglob("*.py"):
        if "__pycache__" in path.parts:
            continue
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        trees[name] = ast.parse(path.read_text(), str(path))
    return trees


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def crossings(trees: dict[str, ast.Module]) -> list[str]:
    """Every `from m import _x`, and every `m._x` on a module imported by name, in another module."""
    found = []
    for module, tree in trees.items():
        package = module if module in trees and _is_package(module, trees) else module.rpartition(".")[0]
        aliases: dict[str, str] = {}  # local name -> module of the package it names
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                source = _absolute(node, package)
                for alias in node.names:
                    if f"{source}.{alias.name}" in trees:  # a module imported from its package
                        aliases[alias.asname or alias.name] = f"{source}.{alias.name}"
                    elif _private(alias.name) and source.startswith("tasklane"):
                        found.append(f"{module}: from {source} import {alias.name}")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in trees:
                        aliases[alias.asname or alias.name] = alias.name
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and _private(node.attr):
                owner = _dotted(node.value)
                target = aliases.get(owner) if owner else None
                if target is None and owner in trees:
                    target = owner
                if target is not None and target != module:
                    found.append(f"{module}: {owner}.{node.attr}")
    return sorted(set(found))


def _is_package(module: str, trees: dict[str, ast.Module]) -> bool:
    return any(other.startswith(module + ".") for other in trees)


def _absolute(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    base = package.split(".")
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and (head := _dotted(node.value)):
        return f"{head}.{node.attr}"
    return None


def test_no_private_name_is_imported_or_reached_across_modules():
    assert crossings(_modules()) == []


def test_the_check_sees_a_private_name_imported_or_reached_across_modules():
    trees = {
        "tasklane.a": ast.parse("def _x(): ...\n"),
        "tasklane.b": ast.parse("from tasklane.a import _x\n"),
        "tasklane.c": ast.parse("from tasklane import a\na._x()\n"),
        "tasklane.d": ast.parse("import tasklane.a\ntasklane.a._x()\n"),
        "tasklane.e": ast.parse("from tasklane.a import x\nself._y = 1\n"),
    }
    assert crossings(trees) == [
        "tasklane.b: from tasklane.a import _x",
        "tasklane.c: a._x",
        "tasklane.d: tasklane.a._x",
    ]
