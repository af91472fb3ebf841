"""Workflows on moto: each shape, inputs, both failure policies, cancel, validation, and the fan-in
under a lost answer and a crash between writes."""

from __future__ import annotations

import pytest

from tests.events import BOB, api_event
from tests.functional.workflow_helpers import (
    add,
    cancel,
    failing,
    get,
    leaves,
    read,
    run_all,
    statuses,
    submit,
    task,
    task_answer,
    transactions_copy_once,
)

pytestmark = pytest.mark.usefixtures("transactions_copy_once")
assert transactions_copy_once  # the fixture, imported for this module


def test_a_chain_runs_one_step_after_another_each_getting_the_previous_result(tasklane):
    body = submit(tasklane, {"chain": [add(1), add(2), add(3)]})
    assert body["status"] == "running"
    assert body["counts"] == {
        "total": 3, "pending": 3, "processing": 0, "completed": 0, "failed": 0, "cancelled": 0
    }  # fmt: skip
    # Only the first step is queued; the others wait for their turn.
    assert [leaf["status"] for leaf in leaves(body["tree"])] == ["pending", "waiting", "waiting"]
    assert [leaf["path"] for leaf in leaves(body["tree"])] == [
        "root.chain[0].task",
        "root.chain[1].task",
        "root.chain[2].task",
    ]
    assert queued(tasklane) == 1
    run_all(tasklane)
    done = read(tasklane, body["workflow_id"])
    assert done["status"] == "completed"
    assert done["result"] == 6  # 1, then 2 + [1], then 3 + [3]
    assert done["counts"]["completed"] == 3
    assert done["finished_at"] is not None
    ids = [leaf["task_id"] for leaf in leaves(done["tree"])]
    second = task_answer(tasklane, ids[1]).body
    assert second["workflow_id"] == body["workflow_id"]
    assert second["payload"] == {"n": 2}  # the payload stays what was submitted
    assert second["result"] == 3
    # The steps ran in order.
    starts = [task_answer(tasklane, i).body for i in ids]
    assert starts[0]["finished_at"] <= starts[1]["started_at"] <= starts[1]["finished_at"] <= starts[2]["started_at"]


def queued(tasklane, lane="normal"):
    attributes = tasklane.sqs.get_queue_attributes(
        QueueUrl=tasklane.queue_url(lane), AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def test_a_group_queues_every_member_at_once_and_its_result_is_the_list_in_order(tasklane):
    body = submit(tasklane, {"group": [add(1), add(2), add(3)]})
    assert [leaf["status"] for leaf in leaves(body["tree"])] == ["pending"] * 3
    run_all(tasklane)
    done = read(tasklane, body["workflow_id"])
    assert (done["status"], done["result"]) == ("completed", [1, 2, 3])


def test_a_chords_callback_waits_for_its_last_child_and_gets_the_results_in_order(tasklane):
    body = submit(tasklane, {"chord": {"group": [add(1), add(2), add(3)], "then": add(10)}})
    wid = body["workflow_id"]
    messages = tasklane.receive("normal")
    assert len(messages) == 3
    tasklane.process("normal", messages[:2])
    assert statuses(tasklane, wid)[3] == "waiting"  # two of three children done: the callback waits
    tasklane.process("normal", messages[2:])
    assert statuses(tasklane, wid)[3] == "pending"
    run_all(tasklane)
    done = read(tasklane, wid)
    assert (done["status"], done["result"]) == ("completed", 16)


def test_nested_nodes_pass_each_branch_last_result_on(tasklane):
    root = {"chain": [{"group": [add(1), {"chain": [add(2), add(3)]}]}, add(100)]}
    body = submit(tasklane, root)
    run_all(tasklane)
    done = read(tasklane, body["workflow_id"])
    assert done["result"] == 106  # 100 + [1, 2 + 3]
    assert [leaf["path"] for leaf in leaves(done["tree"])] == [
        "root.chain[0].group[0].task",
        "root.chain[0].group[1].chain[0].task",
        "root.chain[0].group[1].chain[1].task",
        "root.chain[1].task",
    ]


def test_the_tasks_of_a_workflow_are_listed_in_tree_order(tasklane):
    body = submit(tasklane, {"chain": [add(1), {"group": [add(2), add(3)]}]})
    ids = [leaf["task_id"] for leaf in leaves(body["tree"])]
    answer = tasklane.call(api_event("list_tasks", query={"workflow_id": body["workflow_id"], "limit": "2"}))
    assert answer.status == 200, answer.body
    assert [t["task_id"] for t in answer.body["items"]] == ids[:2]
    rest = tasklane.call(
        api_event("list_tasks", query={"workflow_id": body["workflow_id"], "cursor": answer.body["next_cursor"]})
    )
    assert [t["task_id"] for t in rest.body["items"]] == ids[2:]
    assert rest.body["next_cursor"] is None
    other = tasklane.call(api_event("list_tasks", owner=BOB, query={"workflow_id": body["workflow_id"]}))
    assert other.status == 404


def test_another_callers_workflow_does_not_exist_for_you(tasklane):
    body = submit(tasklane, {"chain": [add(1)]})
    assert get(tasklane, body["workflow_id"], owner=BOB).status == 404
    assert get(tasklane, "not-a-uuid").status == 404


def test_workflows_are_listed_newest_first(tasklane):
    first = submit(tasklane, {"chain": [add(1)]})["workflow_id"]
    tasklane.pass_time(1)
    second = submit(tasklane, {"group": [add(1)]})["workflow_id"]
    answer = tasklane.call(api_event("list_workflows"))
    assert answer.status == 200, answer.body
    assert [w["workflow_id"] for w in answer.body["workflows"]] == [second, first]
    assert tasklane.call(api_event("list_workflows", owner=BOB)).body["workflows"] == []
    # Workflow records never show up as tasks.
    tasks = tasklane.call(api_event("list_tasks")).body["items"]
    assert {t["task_id"] for t in tasks}.isdisjoint({first, second})


def test_an_idempotency_key_makes_one_workflow(tasklane):
    root = {"group": [add(1), add(2)]}
    first = submit(tasklane, root, key="wf-1")
    again = submit(tasklane, root, key="wf-1")
    assert again["workflow_id"] == first["workflow_id"]
    assert queued(tasklane) == 2
    assert submit(tasklane, {"group": [add(9)]}, key="wf-1", expect=409)["error"]["code"] == "idempotency_conflict"


# --- validation: the 422 names the node, and nothing is created --------------------------------


def _items(tasklane) -> int:
    return tasklane.dynamodb.scan(TableName=tasklane.stack.names["TasksTable"], Select="COUNT")["Count"]


@pytest.mark.parametrize(
    ("root", "field"),
    [
        ({"chain": [add(1), add(2), task("add", payload={"n": "x"})]}, "root.chain[2].task.payload.n"),
        ({"chord": {"group": [task("nope")], "then": add(1)}}, "root.chord.group[0].task.task_type"),
        ({"group": []}, "root.group"),
        ({"chain": [add(1), {"oops": 1}]}, "root.chain[1]"),
        ({"chord": {"group": [add(1)]}}, "root.chord"),
        ({"chain": [task("add", payload={"n": 1}, delay_seconds=5)]}, "root.chain[0].task.delay_seconds"),
        ({"group": [{"task": {"task_type": "add", "bogus": 1}}]}, "root.group[0].task.bogus"),
    ],
)
def test_a_bad_node_is_named_and_nothing_is_created(tasklane, root, field):
    before = _items(tasklane)
    answer = tasklane.call(api_event("submit_workflow", body={"root": root}))
    assert answer.status == 422, answer.body
    assert field in [d["field"] for d in answer.body["error"]["details"]]
    assert _items(tasklane) == before
    assert tasklane.receive("normal") == []


def _nested(depth: int) -> dict:
    node = add(1)
    for _ in range(depth - 1):
        node = {"chain": [node]}
    return node


def test_depth_eight_is_accepted_and_nine_refused(tasklane):
    submit(tasklane, _nested(8))
    answer = tasklane.call(api_event("submit_workflow", body={"root": _nested(9)}))
    assert answer.status == 422
    assert "deeper than 8" in answer.body["error"]["details"][0]["message"]


def test_a_thousand_tasks_are_accepted_and_a_thousand_and_one_refused(tasklane):
    before = _items(tasklane)
    refused = tasklane.call(api_event("submit_workflow", body={"root": {"group": [add(1)] * 1001}}))
    assert refused.status == 422
    assert refused.body["error"]["details"][0] == {"field": "root", "message": "has 1001 tasks; at most 1000"}
    assert _items(tasklane) == before
    body = submit(tasklane, {"chord": {"group": [add(1)] * 999, "then": add(0)}})
    assert body["counts"]["total"] == 1000


def test_a_bad_on_failure_is_refused(tasklane):
    answer = tasklane.call(api_event("submit_workflow", body={"root": add(1), "on_failure": "ignore"}))
    assert answer.status == 422
    assert answer.body["error"]["details"][0]["field"] == "on_failure"


# --- failure policies ----------------------------------------------------------------------------


def test_policy_fail_fails_the_workflow_and_later_nodes_never_run(tasklane):
    body = submit(tasklane, {"chain": [{"chord": {"group": [add(1), failing(), add(3)], "then": add(10)}}, add(5)]})
    wid = body["workflow_id"]
    run_all(tasklane)
    done = read(tasklane, wid)
    assert done["status"] == "failed"
    failed_id = leaves(done["tree"])[1]["task_id"]
    assert done["error"]["task_id"] == failed_id
    assert done["error"]["task_error"]["type"] == "IntentionalFailure"
    assert statuses(tasklane, wid)[3:] == ["cancelled", "cancelled"]
    assert done["result"] is None


def test_policy_fail_cancels_siblings_not_started_yet(tasklane):
    body = submit(tasklane, {"group": [failing(), add(2)]})
    messages = tasklane.receive("normal")
    first = next(m for m in messages if leaves(body["tree"])[0]["task_id"] in m["Body"])
    tasklane.process("normal", [first])
    assert statuses(tasklane, body["workflow_id"]) == ["failed", "cancelled"]
    tasklane.pass_time(31)
    run_all(tasklane)
    assert statuses(tasklane, body["workflow_id"]) == ["failed", "cancelled"]  # its message found it cancelled


def test_policy_continue_runs_later_nodes_with_the_error_in_place_of_the_failed_input(tasklane):
    root = {"chord": {"group": [add(1), failing(), add(3)], "then": task("echo")}}
    body = submit(tasklane, {"chord": {"group": [add(1), failing(), add(3)], "then": add(10)}}, on_failure="continue")
    run_all(tasklane)
    done = read(tasklane, body["workflow_id"])
    assert (done["status"], done["result"]) == ("completed", 14)
    assert done["counts"]["failed"] == 1
    # What the callback got: the failed input as {"error": ...}, in its place.
    from tasklane.data.services import services
    from tasklane.logic.workflows.inputs import read_inputs

    then_id = leaves(done["tree"])[3]["task_id"]
    inputs = read_inputs(services().store.get(then_id), services())
    assert inputs[0] == 1
    assert inputs[2] == 3
    assert inputs[1]["error"]["type"] == "IntentionalFailure"
    assert root  # the same tree with echo is below


def test_policy_continue_ends_failed_when_the_last_node_failed(tasklane):
    body = submit(tasklane, {"chain": [add(1), failing()]}, on_failure="continue")
    run_all(tasklane)
    assert read(tasklane, body["workflow_id"])["status"] == "failed"


# --- cancel ---------------------------------------------------------------------------------------


def test_cancel_stops_what_has_not_started_and_keeps_a_running_tasks_result(tasklane):
    body = submit(tasklane, {"chain": [add(1), add(2), add(3)]})
    wid = body["workflow_id"]
    message = tasklane.receive("normal")
    from tasklane.data.services import services
    from tasklane.model import clock

    first = leaves(body["tree"])[0]["task_id"]
    services().store.mark_processing(first, services().store.get(first).owner, clock.now(), 10**10)  # running now
    answer = cancel(tasklane, wid)
    assert answer.status == 200, answer.body
    assert answer.body["status"] == "cancelled"
    assert statuses(tasklane, wid) == ["processing", "cancelled", "cancelled"]
    # The running step finishes and keeps its result; nothing after it ever starts.
    from tasklane.data.tasks.codec import StoredValue

    stored = services().store.get(first)
    services().store.mark_completed(first, 1, StoredValue(1, text="1"), clock.now(), fan_in=_fan_in(stored))
    from tasklane.logic.workflows.progress import after_end

    after_end(stored, services(), failed=False)
    tasklane.pass_time(31)
    assert message
    run_all(tasklane)
    assert statuses(tasklane, wid) == ["completed", "cancelled", "cancelled"]
    assert read(tasklane, wid)["status"] == "cancelled"
    again = cancel(tasklane, wid)
    assert (again.status, again.body["error"]["code"]) == (409, "workflow_finished")


def _fan_in(stored):
    from tasklane.logic.workflows.progress import fan_in_of

    return fan_in_of(stored, 1, failed=False)


def test_a_workflows_task_is_neither_cancelled_nor_retried_on_its_own(tasklane):
    body = submit(tasklane, {"chain": [failing(), add(2)]})
    first, second = (leaf["task_id"] for leaf in leaves(body["tree"]))
    answer = tasklane.call(api_event("cancel_task", task_id=first))
    assert (answer.status, answer.body["error"]["code"]) == (409, "workflow_task")
    assert body["workflow_id"] in answer.body["error"]["message"]
    run_all(tasklane)
    retry = tasklane.call(api_event("retry_task", task_id=first))
    assert (retry.status, retry.body["error"]["code"]) == (409, "workflow_task")
    assert task_answer(tasklane, first).body["status"] == "failed"
    assert task_answer(tasklane, second).body["status"] == "cancelled"
