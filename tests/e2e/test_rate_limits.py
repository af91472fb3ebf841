"""A task type's rate holds across every processor of a lane at once, on the local stack."""

from __future__ import annotations

from datetime import datetime

import pytest

pytestmark = pytest.mark.e2e


def test_send_email_starts_at_most_five_a_second_with_several_processors_at_once(alice):
    body = {
        "tasks": [
            {"task_type": "send_email", "payload": {"to": f"u{i}@example.com", "subject": "s"}} for i in range(25)
        ]
    }
    answer = alice.request("POST", "/tasks/batch", json=body)
    assert answer.status_code == 202, answer.text
    tasks = alice.wait_all([r["task"]["task_id"] for r in answer.json()["results"]], timeout=120)
    assert {t["status"] for t in tasks} == {"completed"}
    assert {t["attempts"] for t in tasks} == {1}  # held deliveries spend no attempt
    starts = sorted(datetime.fromisoformat(t["started_at"]) for t in tasks)
    # Six starts never fall within 950 ms: at most five a second, with 50 ms for the claim write that
    # follows each grant (started_at is written by the claim, just after the start was granted).
    closest = min((starts[i + 5] - starts[i]).total_seconds() for i in range(len(starts) - 5))
    assert closest >= 0.95, closest
    assert (starts[-1] - starts[0]).total_seconds() >= 24 / 5 * 0.95
