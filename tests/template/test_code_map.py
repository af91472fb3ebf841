"""The README's code map names every module and folder of the package where it is, so it cannot go stale."""

from __future__ import annotations

import ast
import re

from tests import cfn

PACKAGE = cfn.ROOT / "functions" / "tasklane"
FOLDER = re.compile(r"^ {6}(\w+)/")
MODULE = re.compile(r"\b((?:\w+/)*\w+\.py)\b")  # a module of a subfolder: `workflows/views.py`


def _code_map() -> str:
    readme = (cfn.ROOT / "README.md").read_text()
    start = readme.index("## The code")
    return readme[start : readme.index("\n## ", start + 1)]


def _mapped() -> set[str]:
    """Every module the map names, as a path in the package: a line indented under a folder's line
    names that folder's modules; one at the folder lines' own depth names the package's."""
    paths, folder = set(), ""
    for line in _code_map().splitlines():
        if not line.startswith("      ") or line.strip().startswith("functions/tasklane/"):
            continue
        if match := FOLDER.match(line):
            folder = match[1] + "/"
            continue
        if line.startswith("        "):  # a folder's modules: every name on the line before its text
            names = MODULE.findall(re.split(r"\s{2,}", line.strip())[0])
            paths.update(folder + name for name in names)
        else:  # one of the package's own modules
            paths.update(MODULE.findall(line.split()[0]))
    return paths


def test_the_readme_code_map_names_every_module_where_it_is():
    modules = {
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if "__pycache__" not in p.parts and (p.name != "__init__.py" or p.parent.name == "task_types")
    }
    mapped = _mapped()
    assert modules - mapped == set(), "modules missing from the README's code map"
    assert mapped - modules == set(), "the README's code map names modules that are not there"


def test_no_module_of_the_package_passes_300_lines():
    long = {
        str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > 300
    }
    assert long == {}


CLIENT = cfn.ROOT / "client" / "tasklane_client"
CLIENT_MODULE = re.compile(r"^ {6}(\w+\.py)\s")


def _client_modules() -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(CLIENT.glob("*.py"))}


def test_the_readme_names_every_module_of_the_client():
    readme = (cfn.ROOT / "README.md").read_text()
    start = readme.index("    client/tasklane_client/\n")
    block = readme[start : readme.index("\n\n", start)]
    mapped = {m[1] for line in block.splitlines() if (m := CLIENT_MODULE.match(line))}
    assert mapped == set(_client_modules())


def test_no_module_of_the_client_passes_300_lines():
    long = {name: n for name, text in _client_modules().items() if (n := len(text.splitlines())) > 300}
    assert long == {}


def _imports(text: str) -> set[str]:
    """The client modules a module imports, at any depth of it (type-only and deferred imports too)."""
    found = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom) and node.module == "tasklane_client":
            found |= {f"{a.name}.py" for a in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tasklane_client."):
            found.add(node.module.split(".")[1] + ".py")
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] + ".py" for a in node.names if a.name.startswith("tasklane_client.")}
    return found


def test_the_client_has_no_import_circle():
    modules = _client_modules()
    graph = {name: _imports(text) & set(modules) for name, text in modules.items() if name != "__init__.py"}
    graph = {name: targets - {"__init__.py"} for name, targets in graph.items()}
    circles = []

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            circles.append([*path[path.index(name) :], name])
            return
        for target in sorted(graph.get(name, ())):
            visit(target, [*path, name])

    for name in graph:
        visit(name, [])
    assert circles == []
