"""Large values on the local stack: a 1 MiB payload and results of several MiB, which live in the
values bucket behind presigned URLs, through the Python client and the `tasklane` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from tasklane_client import ApiKeyAuth, Client

pytestmark = pytest.mark.e2e

MIB = 1024 * 1024
COMMAND = [sys.executable, "-m", "tasklane_client.cli"]
# The command finds the local stack itself; only the emulator's port (when moved) is passed on.
ENV = {k: v for k, v in os.environ.items() if not k.startswith("TASKLANE_") or k == "TASKLANE_EMULATOR_PORT"}
ENV["PYTHONPATH"] = str(Path(__file__).resolve().parents[2] / "client")


def tasklane(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COMMAND, *args], capture_output=True, text=True, timeout=timeout, env=ENV, check=False)


def _compact(value: Any) -> bytes:
    """A value's JSON as the API measures and stores it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def payload_of(size: int) -> dict[str, str]:
    """A JSON object whose compact JSON is exactly `size` bytes (ASCII, so no encoding can change that)."""
    frame = {"label": "large payload", "data": ""}
    payload = {**frame, "data": "x" * (size - len(_compact(frame)))}
    assert len(_compact(payload)) == size
    return payload


@pytest.fixture(scope="module")
def client(stack) -> Client:
    key = stack.outputs.api_key
    return Client(stack.outputs.api_url, ApiKeyAuth(key) if key else None, timeout=120)


@pytest.fixture(scope="module")
def echoed(client: Client) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
    """An `echo` task with a payload of exactly 1 MiB, submitted and completed: (payload, submitted, done)."""
    payload = payload_of(MIB)
    submitted = client.submit("echo", payload)
    return payload, submitted, client.wait(submitted["task_id"], timeout=120)


def blob(client: Client, size: int) -> dict[str, Any]:
    """A completed `blob` task (a demo type of the local stack) whose result is {"data": "x" * size}."""
    task = client.submit("blob", {"size": size})
    return client.wait(task["task_id"], timeout=120)


def test_a_1_mib_payload_lives_behind_urls_and_comes_back_whole(client, echoed):
    payload, submitted, done = echoed
    assert submitted["payload"] is None
    assert submitted["payload_size"] == MIB
    assert submitted["payload_url"]
    assert done["status"] == "completed"
    assert done["payload"] is None
    assert done["payload_url"]
    assert done["result"] is None
    assert done["result_url"]
    assert done["result_size"] == MIB
    assert client.result(done["task_id"]) == payload
    filled = client.get(done["task_id"], fetch_values=True)
    assert filled["payload"] == payload
    assert filled["result"] == payload


def test_the_urls_of_a_task_are_read_with_no_credentials_at_all(client, echoed):
    payload, _, done = echoed
    fresh = client.get(done["task_id"])
    for key in ("payload", "result"):
        answer = requests.get(fresh[f"{key}_url"], timeout=60)  # no x-api-key, no signature of ours
        assert answer.status_code == 200, answer.text[:500]
        assert answer.json() == payload


def test_tasklane_result_output_writes_the_1_mib_result_to_a_file(echoed, tmp_path):
    payload, _, done = echoed
    target = tmp_path / "result.json"
    written = tasklane("result", done["task_id"], "--output", str(target))
    assert written.returncode == 0, written.stderr
    assert written.stdout == ""
    assert f"wrote {target.stat().st_size} bytes" in written.stderr
    assert json.loads(target.read_bytes()) == payload


def test_tasklane_get_shows_large_values_as_size_and_url_and_json_keeps_the_api_shape(echoed):
    _, _, done = echoed
    shown = tasklane("get", done["task_id"])
    assert shown.returncode == 0, shown.stderr
    lines = {line[:11].strip(): line[12:] for line in shown.stdout.splitlines()}
    assert lines["payload"].startswith(f"<{MIB} bytes at http")
    assert lines["result"].startswith(f"<{MIB} bytes at http")
    raw = json.loads(tasklane("--json", "get", done["task_id"]).stdout)
    assert raw["payload"] is None
    assert raw["payload_size"] == MIB
    assert raw["result_url"]


def test_tasklane_submit_reads_a_1_mib_payload_file(tmp_path):
    payload = payload_of(MIB)
    source = tmp_path / "payload.json"
    source.write_bytes(_compact(payload))
    submitted = tasklane("--json", "submit", "echo", "--payload", f"@{source}", "--wait")
    assert submitted.returncode == 0, submitted.stderr
    task = json.loads(submitted.stdout)
    assert task["status"] == "completed"
    assert task["payload_size"] == MIB
    target = tmp_path / "result.json"
    assert tasklane("result", task["task_id"], "-o", str(target)).returncode == 0
    assert json.loads(target.read_bytes()) == payload


def test_a_3_mib_result_is_read_by_the_client_and_the_command(client, tmp_path):
    size = 3 * MIB
    done = blob(client, size)
    assert done["status"] == "completed", done
    assert done["result"] is None
    assert done["result_url"]
    assert done["result_size"] >= size
    assert len(client.result(done["task_id"])["data"]) == size
    target = tmp_path / "result.json"
    written = tasklane("result", done["task_id"], "--output", str(target))
    assert written.returncode == 0, written.stderr
    assert len(json.loads(target.read_bytes())["data"]) == size


def test_a_6_mib_result_is_a_303_to_its_url_which_the_client_follows(alice, client, tmp_path):
    size = 6 * MIB  # more than a Lambda answer can carry: the result route must redirect
    done = blob(client, size)
    assert done["status"] == "completed", done
    answer = alice.request("GET", f"/tasks/{done['task_id']}/result", allow_redirects=False)
    assert answer.status_code == 303, answer.text[:500]
    assert answer.json()["result_size"] >= size
    stored = requests.get(answer.headers["Location"], timeout=60)
    assert stored.status_code == 200, stored.text[:500]
    assert stored.headers["content-type"].startswith("application/json")
    assert len(stored.json()["data"]) == size
    assert len(client.result(done["task_id"])["data"]) == size
    target = tmp_path / "result.json"
    assert client.download_result(done["task_id"], target) == target.stat().st_size
    assert len(json.loads(target.read_bytes())["data"]) == size
    printed = tasklane("result", done["task_id"])
    assert printed.returncode == 0, printed.stderr
    assert len(json.loads(printed.stdout)["data"]) == size
