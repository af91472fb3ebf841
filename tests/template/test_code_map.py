"""The README's code map names every module and folder of the package, so it cannot go stale."""

from __future__ import annotations

from tests import cfn

PACKAGE = cfn.ROOT / "functions" / "tasklane"


def _code_map() -> str:
    readme = (cfn.ROOT / "README.md").read_text()
    start = readme.index("## The code")
    return readme[start : readme.index("\n## ", start + 1)]


def test_the_readme_code_map_names_every_module_and_folder():
    text = _code_map()
    modules = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)
    for path in modules:
        if path.name == "__init__.py" and path.parent.name != "task_types":
            continue
        assert path.name in text, f"{path.relative_to(PACKAGE)} is missing from the README's code map"
    for folder in (p for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"):
        assert f"{folder.name}/" in text, f"{folder.name}/ is missing from the README's code map"


def test_no_module_of_the_package_passes_300_lines():
    long = {
        str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > 300
    }
    assert long == {}
