"""A workflow's tree planned as tasks and barriers; its shape checked; the client's builders."""

from __future__ import annotations

import uuid

from tasklane_client import chain, chord, group, task

from tasklane.model.ids import is_task_id
from tasklane.model.workflow import MAX_WORKFLOW_DEPTH, check_shape, plan, task_id_of


def t(n: int) -> dict:
    return {"task": n}


def test_a_chain_waits_step_by_step_and_each_step_gets_the_previous_result():
    p = plan({"chain": [t(0), t(1), t(2)]})
    assert [(b.inputs, b.starts) for b in p.barriers] == [((), (0,)), ((0,), (1,)), ((1,), (2,)), ((2,), ())]
    assert [(x.after, x.before) for x in p.tasks] == [(0, 1), (1, 2), (2, 3)]
    assert p.end.inputs == (2,)


def test_a_chord_waits_for_its_whole_group_and_gets_the_results_in_order():
    p = plan({"chord": {"group": [t(0), t(1), t(2)], "then": t(3)}})
    assert p.barriers[0].starts == (0, 1, 2)
    assert p.barriers[1].inputs == (0, 1, 2)
    assert p.barriers[1].starts == (3,)
    assert p.end.inputs == (3,)


def test_each_task_counts_down_exactly_one_barrier():
    p = plan({"chain": [{"group": [t(0), {"chain": [t(1), t(2)]}]}, {"group": [t(3), t(4)]}]})
    counted = [i for b in p.barriers for i in b.inputs]
    assert sorted(counted) == [0, 1, 2, 3, 4]  # every task once, as one barrier's input
    # The group after the first step waits for the first group's exits (0 and 2), both members of it.
    assert p.barriers[p.tasks[3].after].inputs == (0, 2)
    assert p.tasks[3].after == p.tasks[4].after


def test_the_tree_names_each_task_by_its_path():
    problems, tasks = check_shape({"chain": [t(0), {"chord": {"group": [t(1)], "then": t(2)}}]})
    assert problems == []
    assert [path for path, _ in tasks] == [
        "root.chain[0].task",
        "root.chain[1].chord.group[0].task",
        "root.chain[1].chord.then.task",
    ]


def _nested(depth: int) -> dict:
    node: dict = t(0)
    for _ in range(depth - 1):
        node = {"group": [node]}
    return node


def test_depth_is_checked_at_its_limit():
    assert check_shape(_nested(MAX_WORKFLOW_DEPTH))[0] == []
    assert "deeper than 8" in check_shape(_nested(MAX_WORKFLOW_DEPTH + 1))[0][0]["message"]


def test_task_ids_are_derived_version_4_uuids_the_same_for_every_writer():
    workflow_id = str(uuid.uuid4())
    ids = {task_id_of(workflow_id, i) for i in range(1000)}
    assert len(ids) == 1000
    assert all(is_task_id(i) for i in ids)
    assert task_id_of(workflow_id, 7) == task_id_of(workflow_id, 7)
    assert task_id_of(workflow_id, 7) != task_id_of(str(uuid.uuid4()), 7)


def test_the_clients_builders_make_the_body_the_api_takes():
    root = chain(("add", {"n": 1}), chord(group(("add", {"n": 2}), task("add", {"n": 3}, priority="high")), "add"))
    assert root == {
        "chain": [
            {"task": {"task_type": "add", "payload": {"n": 1}}},
            {
                "chord": {
                    "group": [
                        {"task": {"task_type": "add", "payload": {"n": 2}}},
                        {"task": {"task_type": "add", "payload": {"n": 3}, "priority": "high"}},
                    ],
                    "then": {"task": {"task_type": "add", "payload": {}}},
                }
            },
        ]
    }
    assert check_shape(root)[0] == []
