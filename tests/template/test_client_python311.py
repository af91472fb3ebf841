"""The client and the `tasklane` command run where applications run: Python 3.11 and later (the Lambda
side stays on 3.13). Run under the machine's Python 3.11 with only the client's own dependencies."""

from __future__ import annotations

import importlib
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

from tests import cfn

# The client's dependencies (pure Python), taken from this virtualenv: the 3.11 interpreter sees them
# and nothing else of it (no pydantic, no Powertools, none of the Lambda side).
CLIENT_DEPENDENCIES = ("botocore", "boto3", "urllib3", "jmespath", "dateutil", "six", "s3transfer")

SMOKE = r"""
import io, json, pkgutil, sys, contextlib
import tasklane_client
from tasklane_client import cli
from tasklane_client.client import Answer, Client

assert sys.version_info[:2] == (3, 11), sys.version
for module in pkgutil.iter_modules(tasklane_client.__path__):
    __import__(f"tasklane_client.{module.name}")
with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.suppress(SystemExit):
    cli.main(["--help"])
assert "Submit, watch and operate tasklane tasks" in out.getvalue()
assert cli.build_parser().parse_args(["get", "x", "--json"]).json is True

TASK = {"task_id": "0b9a8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d", "status": "pending"}
def transport(method, url, headers, body, timeout):
    if method == "POST":
        return Answer(202, {"content-type": "application/json"}, json.dumps(TASK).encode())
    if url.endswith("/nope"):
        error = {"error": {"code": "task_not_found", "message": "no", "details": None}}
        return Answer(404, {}, json.dumps(error).encode())
    return Answer(200, {"content-type": "application/json"}, json.dumps({**TASK, "status": "completed"}).encode())
client = Client("http://127.0.0.1:9/v1", None, transport=transport)
assert client.submit("echo", {"x": 1})["task_id"] == TASK["task_id"]
assert client.get(TASK["task_id"])["status"] == "completed"
try:
    client.get("nope")
except Exception as exc:
    assert type(exc).__name__ == "NotFound", exc
print("ok")
"""


def python311() -> str | None:
    for candidate in ("python3.11", "/usr/bin/python3"):
        path = shutil.which(candidate)
        if path is None:
            continue
        version = subprocess.run(
            [path, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True, check=False
        )
        if version.stdout.strip() == "(3, 11)":
            return path
    return None


def test_the_package_metadata_allows_python_3_11_while_the_functions_stay_on_3_13():
    project = tomllib.loads((cfn.ROOT / "pyproject.toml").read_text())["project"]
    allowed = SpecifierSet(project["requires-python"])
    assert "3.11" in allowed
    assert "3.10" not in allowed
    runtimes = {
        f["Properties"].get("Runtime")
        for f in cfn.resources("AWS::Serverless::Function").values()
        if f["Properties"].get("Runtime")
    } | {cfn.template().get("Globals", {}).get("Function", {}).get("Runtime")}
    assert runtimes - {None} == {"python3.13"}


def test_the_client_and_the_command_run_on_python_3_11(tmp_path: Path):
    interpreter = python311()
    if interpreter is None:
        pytest.skip("no Python 3.11 on this machine (python3.11 or /usr/bin/python3)")
    for name in CLIENT_DEPENDENCIES:
        origin = Path(importlib.import_module(name).__file__ or "")
        source = origin.parent if origin.name == "__init__.py" else origin
        (tmp_path / source.name).symlink_to(source)
    done = subprocess.run(
        [interpreter, "-I", "-c", f"import sys; sys.path[:0] = {[str(tmp_path), str(cfn.ROOT / 'client')]!r}\n{SMOKE}"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "ok"
