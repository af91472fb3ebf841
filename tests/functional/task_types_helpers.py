"""What the task-type tests share: requests to the task-types routes, and a type's definition."""

from __future__ import annotations

from typing import Any

from tests.events import ALICE, api_event

RECEIVER = "https://targets.example.com/run"
RECEIVER_ADDRESS = "93.184.216.34"  # public; the resolver stub answers it, nothing is sent there


def definition(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "target": {"url": RECEIVER},
        "payload_schema": {
            "type": "object",
            "properties": {"width": {"type": "integer", "minimum": 1}},
            "required": ["width"],
        },
        "timeout_seconds": 20,
    }
    body.update(fields)
    return body


def _named(event: dict[str, Any], name: str) -> dict[str, Any]:
    event["pathParameters"] = {"name": name}
    event["path"] = f"/task-types/{name}"
    return event


def put_type(system: Any, name: str, body: Any, owner: str = ALICE) -> Any:
    return system.call(_named(api_event("put_task_type", owner=owner, body=body), name))


def get_type(system: Any, name: str, owner: str = ALICE) -> Any:
    return system.call(_named(api_event("get_task_type", owner=owner), name))


def delete_type(system: Any, name: str, owner: str = ALICE) -> Any:
    return system.call(_named(api_event("delete_task_type", owner=owner), name))


def list_types(system: Any, owner: str = ALICE) -> Any:
    return system.call(api_event("list_task_types", owner=owner))


def submit(system: Any, task_type: str, payload: Any, owner: str = ALICE, **fields: Any) -> Any:
    body = {"task_type": task_type, "payload": payload, **fields}
    return system.call(api_event("submit_task", owner=owner, body=body, headers={"Idempotency-Key": None}))
