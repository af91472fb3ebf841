"""On the local stack: a 202's Location resolves; a task waiting for its next attempt explains itself."""

from __future__ import annotations

import time
import urllib.parse
from datetime import datetime

import pytest

pytestmark = pytest.mark.e2e


def test_the_location_of_a_202_resolves_to_the_task_against_the_stage_url(alice):
    answer = alice.request("POST", "/tasks", json={"task_type": "echo", "payload": {"where": "here"}})
    assert answer.status_code == 202, answer.text
    task_id = answer.json()["task_id"]
    followed = alice.session.get(
        urllib.parse.urljoin(answer.url, answer.headers["Location"]), headers={"x-api-key": alice.key}, timeout=60
    )
    assert followed.status_code == 200, followed.text
    assert followed.json()["task_id"] == task_id


def test_a_retry_answers_a_location_that_resolves_too(alice):
    task = alice.submit("echo", {}, delay_seconds=600)
    assert alice.request("DELETE", f"/tasks/{task['task_id']}").status_code == 200
    answer = alice.request("POST", f"/tasks/{task['task_id']}/retry")
    assert answer.status_code == 202, answer.text
    followed = alice.session.get(
        urllib.parse.urljoin(answer.url, answer.headers["Location"]), headers={"x-api-key": alice.key}, timeout=60
    )
    assert followed.status_code == 200, followed.text
    assert followed.json()["task_id"] == task["task_id"]


def test_a_failed_attempt_shows_its_error_next_attempt_and_history(alice):
    task_id = alice.submit("fail", {"message": "boom"}, max_attempts=2)["task_id"]
    deadline = time.monotonic() + 60
    while (task := alice.get(task_id))["attempts"] < 1 or task["status"] == "processing":
        assert time.monotonic() < deadline, task
        time.sleep(0.25)
    assert task["status"] in ("pending", "processing", "failed"), task
    if task["status"] == "pending":
        assert task["error"]["message"] == "boom"
        assert datetime.fromisoformat(task["next_attempt_at"]) > datetime.fromisoformat(task["updated_at"])
    assert task["attempt_history"][0]["outcome"] == "failed"
    assert task["attempt_history"][0]["error"]["message"] == "boom"
