"""The README's code map names every module and folder of the package where it is, so it cannot go stale."""

from __future__ import annotations

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
