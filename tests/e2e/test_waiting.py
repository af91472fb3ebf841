"""Waiting on the local stack: a long poll through API Gateway answers as soon as the task finishes,
not when its wait is up; unchanged, a conditional long poll answers 304 after its wait."""

from __future__ import annotations

import time

from tests.e2e.conftest import Caller


def test_a_long_poll_answers_as_soon_as_the_task_finishes(alice: Caller) -> None:
    task = alice.submit("sleep", {"seconds": 2})
    started = time.monotonic()
    answer = alice.request("GET", f"/tasks/{task['task_id']}", params={"wait": 20})
    took = time.monotonic() - started
    assert (answer.status_code, answer.json()["status"]) == (200, "completed"), answer.text
    assert 2 <= took < 15, took  # the task's own 2 s and the lane's pick-up, never the whole 20 s


def test_an_unchanged_task_answers_304_after_the_wait(alice: Caller) -> None:
    task = alice.submit("echo", {"n": 1}, delay_seconds=600)
    etag = alice.request("GET", f"/tasks/{task['task_id']}").headers["ETag"]
    started = time.monotonic()
    answer = alice.request("GET", f"/tasks/{task['task_id']}", params={"wait": 2}, headers={"If-None-Match": etag})
    assert (answer.status_code, answer.headers["ETag"]) == (304, etag)
    assert time.monotonic() - started >= 2
    assert alice.request("GET", f"/tasks/{task['task_id']}", params={"wait": 21}).status_code == 422
    assert alice.request("DELETE", f"/tasks/{task['task_id']}").status_code == 200
