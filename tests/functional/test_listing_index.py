"""The listing index is written once per task: claims, completions and retries never touch what it
projects, and listings still show each task as it is now (read from the table)."""

from __future__ import annotations

from typing import Any

from tasklane.data import aws
from tests.events import api_event

PROJECTED = ("task_type", "priority", "created_at", "owner_shard", "created_key", "type_shard", "schedule_key")


def test_no_update_of_a_task_writes_what_the_listing_index_projects(tasklane):
    updates: list[dict[str, Any]] = []

    def hook(model: Any, params: dict[str, Any], **_: Any) -> None:
        if model.name == "UpdateItem":
            updates.append(params)

    aws.dynamodb().meta.events.register("before-parameter-build.dynamodb.UpdateItem", hook)
    done = tasklane.call(api_event("submit_task", body={"task_type": "echo"}, headers={"Idempotency-Key": None}))
    failed = tasklane.call(
        api_event("submit_task", body={"task_type": "fail", "max_attempts": 1}, headers={"Idempotency-Key": None})
    )
    tasklane.drain("normal")
    tasklane.call(api_event("retry_task", task_id=failed.body["task_id"]))
    tasklane.drain("normal")
    assert len(updates) >= 4  # claim, complete, claim, fail, retry, ...
    for params in updates:
        written = set(params.get("ExpressionAttributeNames", {}).values()) | set(params["UpdateExpression"].split())
        assert not written & set(PROJECTED), params["UpdateExpression"]
    listing = tasklane.call(api_event("list_tasks", query={"status": "completed"})).body["items"]
    assert [t["task_id"] for t in listing] == [done.body["task_id"]]
    assert listing[0]["attempts"] == 1
    assert "payload" not in listing[0] or listing[0]["payload"] is None
