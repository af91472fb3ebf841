"""Helpers of the workflow tests: submit, read, cancel, and run every lane until nothing is left."""

from __future__ import annotations

from typing import Any

import pytest

from tests.events import ALICE, api_event


def task(task_type: str = "add", **fields: Any) -> dict[str, Any]:
    return {"task": {"task_type": task_type, **fields}}


def add(n: int, **fields: Any) -> dict[str, Any]:
    return task("add", payload={"n": n}, **fields)


def failing(**fields: Any) -> dict[str, Any]:
    return task("fail", payload={"mode": "raise"}, max_attempts=1, **fields)


def submit(tasklane: Any, root: dict[str, Any], *, expect: int = 202, key: str | None = None, **fields: Any) -> Any:
    headers = {"Idempotency-Key": key}  # None: no key (the sample event has one)
    answer = tasklane.call(api_event("submit_workflow", body={"root": root, **fields}, headers=headers))
    assert answer.status == expect, answer.body
    return answer.body


def _at(name: str, workflow_id: str, owner: str = ALICE) -> dict[str, Any]:
    event = api_event(name, owner=owner)
    event["pathParameters"] = {"workflow_id": workflow_id}
    event["path"] = f"/workflows/{workflow_id}"
    return event


def get(tasklane: Any, workflow_id: str, owner: str = ALICE) -> Any:
    return tasklane.call(_at("get_workflow", workflow_id, owner))


def read(tasklane: Any, workflow_id: str) -> dict[str, Any]:
    answer = get(tasklane, workflow_id)
    assert answer.status == 200, answer.body
    return answer.body


def cancel(tasklane: Any, workflow_id: str) -> Any:
    return tasklane.call(_at("cancel_workflow", workflow_id))


def leaves(tree: dict[str, Any]) -> list[dict[str, Any]]:
    """The task nodes of a tree as GET /workflows/{id} shows it, in tree order."""
    if "task" in tree:
        return [tree["task"]]
    if "chord" in tree:
        return [leaf for node in tree["chord"]["group"] for leaf in leaves(node)] + leaves(tree["chord"]["then"])
    kind = "chain" if "chain" in tree else "group"
    return [leaf for node in tree[kind] for leaf in leaves(node)]


def statuses(tasklane: Any, workflow_id: str) -> list[str]:
    return [leaf["status"] for leaf in leaves(read(tasklane, workflow_id)["tree"])]


def run_all(tasklane: Any, rounds: int = 50) -> int:
    """Process every lane until no message is left; how many deliveries that took."""
    delivered = 0
    for _ in range(rounds):
        now = sum(tasklane.drain(lane) for lane in ("high", "normal", "low"))
        delivered += now
        if not now:
            return delivered
    raise AssertionError("the lanes never emptied")


def task_answer(tasklane: Any, task_id: str) -> Any:
    return tasklane.call(api_event("get_task", task_id=task_id))


@pytest.fixture(autouse=False)
def transactions_copy_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto backs a table up for every item of a TransactWriteItems (a deep copy of the whole table
    each time: minutes for a 100-item transaction over a table of thousands); here it copies each
    table once per transaction, which is all its rollback needs. What a transaction does is unchanged."""
    import moto.dynamodb.models as models

    original = models.DynamoDBBackend.transact_write_items
    real_copy = models.copy

    class OncePerObject:
        def __init__(self) -> None:
            self.memo: dict[int, Any] = {}

        def deepcopy(self, value: Any, *args: Any, **kwargs: Any) -> Any:
            if id(value) not in self.memo:
                self.memo[id(value)] = real_copy.deepcopy(value, *args, **kwargs)
            return self.memo[id(value)]

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        models.copy = OncePerObject()  # type: ignore[assignment]
        try:
            return original(self, transact_items)
        finally:
            models.copy = real_copy

    monkeypatch.setattr(models.DynamoDBBackend, "transact_write_items", transact_write_items)
