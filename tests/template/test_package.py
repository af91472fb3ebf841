"""What `sam build` ships: every function is built by functions/Makefile from a requirements list that
is closed under its dependencies (the runtime's AWS SDK left out), with bytecode for every module
that never checks its source, and the binary wheels of both architectures."""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

from packaging.requirements import Requirement

from tests import cfn

FUNCTIONS = cfn.ROOT / "functions"
# What the python3.13 runtime provides, compiled: boto3, botocore and their own dependencies.
RUNTIME = {"boto3", "botocore", "s3transfer", "urllib3", "python-dateutil", "six"}


def _name(text: str) -> str:
    return re.sub(r"[-_.]+", "-", text).lower()


def _pins() -> dict[str, str]:
    lines = (FUNCTIONS / "requirements.txt").read_text().splitlines()
    pins = [line.split("#")[0].strip() for line in lines]
    return {_name(p.split("==")[0]): p.split("==")[1] for p in pins if p}


def test_every_function_is_built_by_the_makefile() -> None:
    functions = cfn.resources("AWS::Serverless::Function")
    assert functions
    for name, resource in functions.items():
        assert resource.get("Metadata", {}).get("BuildMethod") == "makefile", name


def test_the_requirements_are_pinned_and_closed_under_their_dependencies() -> None:
    """pip installs the list with --no-deps: a dependency missing from it would be missing in Lambda."""
    pins = _pins()
    assert not RUNTIME & set(pins), "the runtime provides the AWS SDK; a copy would shadow it"
    for package, version in pins.items():
        assert importlib.metadata.version(package) == version, package  # the tests run what ships
        for text in importlib.metadata.requires(package) or []:
            requirement = Requirement(text)
            if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
                continue
            name = _name(requirement.name)
            assert name in pins or name in RUNTIME, f"{package} needs {name}, not in functions/requirements.txt"
            if name in pins:
                assert requirement.specifier.contains(pins[name]), f"{package} needs {requirement}"


@cache
def _package() -> Path:
    # Beside sam build's own output, so that the libraries, built once per requirements list, are shared.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")  # two workers may each build one
    package = cfn.ROOT / ".aws-sam" / "test" / f"package-{worker}"
    shutil.rmtree(package, ignore_errors=True)
    subprocess.run(
        ["make", "-s", "-C", str(FUNCTIONS), "build-SubmitFunction", f"ARTIFACTS_DIR={package}"],
        check=True,
        capture_output=True,
    )
    return package


def test_the_package_ships_bytecode_that_never_looks_at_its_source() -> None:
    package = _package()
    sources = [p for p in package.rglob("*.py") if "wrapt-stubs" not in p.parts]
    assert any(p.parts[-2:] == ("handlers", "submit.py") for p in sources)
    for source in sources:
        compiled = source.parent / "__pycache__" / f"{source.stem}.cpython-313.pyc"
        assert compiled.exists(), source
        flags = int.from_bytes(compiled.read_bytes()[4:8], "little")
        assert flags == 0b01, f"{compiled}: not an unchecked hash-based pyc (PEP 552)"


def test_the_package_has_no_aws_sdk_and_both_architectures() -> None:
    package = _package()
    assert not (package / "botocore").exists()
    assert not (package / "boto3").exists()
    assert (package / "tasklane" / "handlers" / "submit.py").exists()
    for module in ("pydantic_core/_pydantic_core", "wrapt/_wrappers", "re2/_re2"):
        for machine in ("x86_64", "aarch64"):
            assert (package / f"{module}.cpython-313-{machine}-linux-gnu.so").exists(), (module, machine)
    assert not list(package.glob("requirements.txt"))
    assert not list(package.glob("Makefile"))
