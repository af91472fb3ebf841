"""Workflows on the local stack: a chain, a 100-child chord, a failing chord, and a cancel."""

from __future__ import annotations

import time
from typing import Any

FINISHED = ("completed", "failed", "cancelled")


def add(n: int) -> dict[str, Any]:
    return {"task": {"task_type": "add", "payload": {"n": n}}}


def submit(caller: Any, body: dict[str, Any]) -> dict[str, Any]:
    answer = caller.request("POST", "/workflows", json=body)
    assert answer.status_code == 202, answer.text
    return answer.json()


def wait(caller: Any, workflow_id: str, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        workflow = caller.request("GET", f"/workflows/{workflow_id}").json()
        if workflow["status"] in FINISHED or time.monotonic() > deadline:
            return workflow
        time.sleep(0.5)


def leaves(tree: dict[str, Any]) -> list[dict[str, Any]]:
    if "task" in tree:
        return [tree["task"]]
    if "chord" in tree:
        return [x for n in tree["chord"]["group"] for x in leaves(n)] + leaves(tree["chord"]["then"])
    return [x for n in tree.get("chain") or tree["group"] for x in leaves(n)]


def test_a_chain_passes_each_result_on(alice):
    body = submit(alice, {"root": {"chain": [add(1), add(2), add(3)]}})
    done = wait(alice, body["workflow_id"])
    assert (done["status"], done["result"]) == ("completed", 6), done
    tasks = [alice.get(leaf["task_id"]) for leaf in leaves(done["tree"])]
    assert all(t["workflow_id"] == body["workflow_id"] for t in tasks)
    assert tasks[0]["finished_at"] <= tasks[1]["started_at"]
    assert tasks[1]["finished_at"] <= tasks[2]["started_at"]


def test_a_chord_of_100_children_runs_its_callback_once_after_the_last_child(alice):
    body = submit(alice, {"root": {"chord": {"group": [add(i) for i in range(100)], "then": add(0)}}})
    done = wait(alice, body["workflow_id"], timeout=300)
    assert (done["status"], done["result"]) == ("completed", sum(range(100))), done["counts"]
    assert done["counts"]["completed"] == 101
    ids = [leaf["task_id"] for leaf in leaves(done["tree"])]
    children = [alice.get(i) for i in ids[:100]]
    callback = alice.get(ids[100])
    assert callback["attempts"] == 1  # started once
    assert max(c["finished_at"] for c in children) <= callback["started_at"]
    listed = alice.request("GET", "/tasks", params={"workflow_id": body["workflow_id"], "limit": 100}).json()
    assert [t["task_id"] for t in listed["items"]] == ids[:100]


def test_a_failing_chord_fails_the_workflow_and_never_runs_its_callback(alice):
    failing = {"task": {"task_type": "fail", "payload": {"mode": "raise"}, "max_attempts": 1}}
    body = submit(alice, {"root": {"chord": {"group": [add(1), failing, add(3)], "then": add(0)}}})
    done = wait(alice, body["workflow_id"])
    assert done["status"] == "failed", done
    assert done["error"]["task_error"]["type"] == "IntentionalFailure"
    # The workflow fails first, then what had not started is cancelled (the step after it, or the
    # reconciler's): wait for that, and the callback never ran.
    deadline = time.monotonic() + 60
    while leaves(done["tree"])[3]["status"] == "waiting" and time.monotonic() < deadline:
        time.sleep(0.5)
        done = alice.request("GET", f"/workflows/{body['workflow_id']}").json()
    callback = leaves(done["tree"])[3]
    assert callback["status"] == "cancelled", done
    assert alice.get(callback["task_id"])["started_at"] is None


def test_a_cancelled_workflow_never_starts_the_rest(alice):
    body = submit(alice, {"root": {"chain": [{"task": {"task_type": "sleep", "payload": {"seconds": 3}}}, add(2)]}})
    wid = body["workflow_id"]
    first = leaves(body["tree"])[0]["task_id"]
    alice.wait(first, timeout=30, until=("processing", "completed"))
    answer = alice.request("DELETE", f"/workflows/{wid}")
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "cancelled"
    assert alice.wait(first, timeout=30)["status"] == "completed"  # the running step keeps its result
    time.sleep(3)
    done = alice.request("GET", f"/workflows/{wid}").json()
    assert [leaf["status"] for leaf in leaves(done["tree"])] == ["completed", "cancelled"]
    assert alice.request("DELETE", f"/workflows/{wid}").status_code == 409
