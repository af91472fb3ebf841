"""The HTTP API as a client sees it: every route, status code and the one error body."""

from __future__ import annotations

import base64
import json
import urllib.parse

import pytest

from tests.events import ALICE, BOB, api_event

UNKNOWN_ID = "0b9a8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d"


def submit(tasklane, body=None, owner=ALICE, headers=None):
    body = body or {"task_type": "echo", "payload": {"x": 1}}
    return tasklane.call(
        api_event("submit_task", owner=owner, body=body, headers={"Idempotency-Key": None, **(headers or {})})
    )


def assert_error(answer, status, code):
    assert answer.status == status, answer.body
    assert set(answer.body) == {"error"}
    assert set(answer.body["error"]) == {"code", "message", "details"}
    assert answer.body["error"]["code"] == code


def test_submit_answers_202_with_the_task_and_its_location(tasklane):
    answer = submit(tasklane, {"task_type": "compute", "payload": {"n": 10}, "priority": "high", "max_attempts": 2})
    assert answer.status == 202
    task = answer.body
    # relative to POST .../v1/tasks: it resolves under any prefix the stage is served at
    assert answer.headers["location"] == f"tasks/{task['task_id']}"
    assert urllib.parse.urljoin("http://h/prefix/v1/tasks", answer.headers["location"]) == (
        f"http://h/prefix/v1/tasks/{task['task_id']}"
    )
    assert task["status"] == "pending"
    assert task["priority"] == "high"
    assert task["max_attempts"] == 2
    assert task["timeout_seconds"] == 60  # the type's default
    assert task["created_at"].endswith("Z")
    messages = tasklane.receive("high")
    assert len(messages) == 1
    body = json.loads(messages[0]["Body"])
    assert body["task_id"] == task["task_id"]
    assert body["owner"] == ALICE
    assert "payload" not in body  # the payload stays in DynamoDB


def test_get_returns_every_documented_field(tasklane):
    task_id = submit(tasklane).body["task_id"]
    answer = tasklane.call(api_event("get_task", task_id=task_id))
    assert answer.status == 200
    assert set(answer.body) >= {
        "task_id",
        "task_type",
        "priority",
        "status",
        "payload",
        "result",
        "error",
        "progress",
        "attempts",
        "max_attempts",
        "created_at",
        "started_at",
        "finished_at",
        "updated_at",
    }
    assert answer.body["payload"] == {"x": 1}


def test_result_is_409_until_completed_then_200(tasklane):
    task_id = submit(tasklane, {"task_type": "compute", "payload": {"n": 1_000_000}}).body["task_id"]
    pending = tasklane.call(api_event("get_result", task_id=task_id))
    assert_error(pending, 409, "result_not_ready")
    assert pending.body["error"]["details"]["status"] == "pending"
    tasklane.drain("normal")
    done = tasklane.call(api_event("get_result", task_id=task_id))
    assert done.status == 200
    assert done.body == {"task_id": task_id, "result": 499999500000}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"task_type": "no_such_type", "payload": {}}, "task_type"),
        ({"task_type": "compute", "payload": {"n": "many"}}, "payload.n"),
        ({"task_type": "compute", "payload": {}}, "payload.n"),
        ({"task_type": "echo", "priority": "urgent"}, "priority"),
        ({"task_type": "echo", "delay_seconds": 31_536_001}, "delay_seconds"),
        ({"task_type": "echo", "max_attempts": 11}, "max_attempts"),
        ({"task_type": "echo", "timeout_seconds": 100_000}, "timeout_seconds"),
        ({"task_type": "echo", "owner": "someone-else"}, "owner"),
        ({"payload": {}}, "task_type"),
    ],
)
def test_invalid_submissions_are_422_naming_the_field(tasklane, body, field):
    answer = submit(tasklane, body)
    assert_error(answer, 422, "validation_error")
    assert field in [d["field"] for d in answer.body["error"]["details"]]
    assert tasklane.receive("normal") == []


def test_malformed_json_is_400(tasklane):
    answer = tasklane.call(api_event("submit_task", raw_body='{"task_type": ', headers={"Idempotency-Key": None}))
    assert_error(answer, 400, "bad_request")


def test_deeply_nested_json_is_a_client_error(tasklane):
    answer = tasklane.call(
        api_event("submit_task", raw_body="[" * 100_000 + "]" * 100_000, headers={"Idempotency-Key": None})
    )
    assert 400 <= answer.status < 500


def test_a_binary_body_that_is_not_utf8_is_400(tasklane):
    event = api_event(
        "submit_task",
        raw_body=base64.b64encode(b'{"task_type": "echo\xff"}').decode(),
        headers={"Idempotency-Key": None},
    )
    event["isBase64Encoded"] = True
    assert_error(tasklane.call(event), 400, "bad_request")


def test_a_body_that_is_not_json_is_415(tasklane):
    answer = tasklane.call(
        api_event(
            "submit_task",
            raw_body="task_type=echo",
            headers={"Content-Type": "application/x-www-form-urlencoded", "Idempotency-Key": None},
        )
    )
    assert_error(answer, 415, "unsupported_media_type")


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "multipart/form-data; boundary=x"])
def test_json_sent_under_another_content_type_is_415(tasklane, content_type):
    event = api_event(
        "submit_task", body={"task_type": "echo"}, headers={"Content-Type": content_type, "Idempotency-Key": None}
    )
    assert_error(tasklane.call(event), 415, "unsupported_media_type")


@pytest.mark.parametrize("name", ["get_task", "get_result", "cancel_task", "retry_task"])
def test_a_malformed_task_id_is_400(tasklane, name):
    assert_error(tasklane.call(api_event(name, task_id="not-a-task-id")), 400, "bad_request")


@pytest.mark.parametrize("name", ["get_task", "get_result", "cancel_task", "retry_task"])
def test_an_unknown_task_is_404(tasklane, name):
    assert_error(tasklane.call(api_event(name, task_id=UNKNOWN_ID)), 404, "task_not_found")


@pytest.mark.parametrize("name", ["get_task", "get_result", "cancel_task", "retry_task"])
def test_another_callers_task_is_404(tasklane, name):
    task_id = submit(tasklane, owner=ALICE).body["task_id"]
    assert_error(tasklane.call(api_event(name, task_id=task_id, owner=BOB)), 404, "task_not_found")
    assert tasklane.call(api_event("get_task", task_id=task_id, owner=ALICE)).body["status"] == "pending"


def test_a_request_without_an_identity_is_403(tasklane):
    assert_error(submit(tasklane, owner=None), 403, "unauthenticated")


def test_listing_shows_only_the_callers_tasks_newest_first(tasklane):
    alice = [submit(tasklane, owner=ALICE).body["task_id"] for _ in range(3)]
    submit(tasklane, owner=BOB)
    answer = tasklane.call(api_event("list_tasks", owner=ALICE, query={}))
    assert answer.status == 200
    assert [t["task_id"] for t in answer.body["items"]] == alice[::-1]
    assert answer.body["next_cursor"] is None


def test_listing_filters_by_status_and_type_and_pages_with_a_cursor(tasklane):
    ids = [submit(tasklane, {"task_type": "echo", "payload": {"i": i}}).body["task_id"] for i in range(5)]
    submit(tasklane, {"task_type": "compute", "payload": {"n": 3}})
    tasklane.call(api_event("cancel_task", task_id=ids[0]))
    seen, cursor = [], None
    while True:
        query = {"task_type": "echo", "status": "pending", "limit": "2", **({"cursor": cursor} if cursor else {})}
        page = tasklane.call(api_event("list_tasks", query=query)).body
        seen += [t["task_id"] for t in page["items"]]
        assert all(t["task_type"] == "echo" and t["status"] == "pending" for t in page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ids[1:][::-1]


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        base64.urlsafe_b64encode(b'{"k": "2026-01-01T00:00:00.000Z#nope"}').decode(),
        base64.urlsafe_b64encode(b"[1]").decode(),
    ],
)
def test_a_tampered_cursor_is_400(tasklane, cursor):
    assert_error(tasklane.call(api_event("list_tasks", query={"cursor": cursor})), 400, "bad_request")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": "+-5"}, "limit"),
        ({"status": "lost"}, "status"),
        ({"task_type": ""}, "task_type"),
        ({"task_type": "x" * 65}, "task_type"),
        ({"cursor": ""}, "cursor"),
    ],
)
def test_listing_parameters_are_validated(tasklane, query, field):
    answer = tasklane.call(api_event("list_tasks", query=query))
    assert_error(answer, 422, "validation_error")
    assert [d["field"] for d in answer.body["error"]["details"]] == [field]


def test_every_bad_listing_parameter_is_reported_at_once(tasklane):
    answer = tasklane.call(api_event("list_tasks", query={"limit": "0", "status": "lost"}))
    assert {d["field"] for d in answer.body["error"]["details"]} == {"limit", "status"}


def test_cancel_of_a_pending_task_then_409_on_a_second_cancel(tasklane):
    task_id = submit(tasklane).body["task_id"]
    answer = tasklane.call(api_event("cancel_task", task_id=task_id))
    assert answer.status == 200
    assert answer.body["status"] == "cancelled"
    again = tasklane.call(api_event("cancel_task", task_id=task_id))
    assert_error(again, 409, "invalid_transition")
    assert again.body["error"]["details"]["status"] == "cancelled"


def test_retry_is_409_unless_failed_or_cancelled(tasklane):
    task_id = submit(tasklane).body["task_id"]
    assert_error(tasklane.call(api_event("retry_task", task_id=task_id)), 409, "invalid_transition")
    tasklane.call(api_event("cancel_task", task_id=task_id))
    tasklane.drain("normal")  # the cancelled task's message is acknowledged, never run
    answer = tasklane.call(api_event("retry_task", task_id=task_id))
    assert answer.status == 202
    assert answer.body["status"] == "pending"
    tasklane.drain("normal")
    assert tasklane.call(api_event("get_task", task_id=task_id)).body["status"] == "completed"


def test_idempotency_key_replays_the_original_task(tasklane):
    body = {"task_type": "echo", "payload": {"order": 42}}
    first = submit(tasklane, body, headers={"Idempotency-Key": "order-42"})
    second = submit(tasklane, body, headers={"Idempotency-Key": "order-42"})
    assert first.status == second.status == 202
    assert first.body["task_id"] == second.body["task_id"]
    assert len(tasklane.receive("normal")) == 1
    other_owner = submit(tasklane, body, owner=BOB, headers={"Idempotency-Key": "order-42"})
    assert other_owner.body["task_id"] != first.body["task_id"]


def test_idempotency_key_with_a_different_body_is_409(tasklane):
    submit(tasklane, {"task_type": "echo", "payload": {"order": 1}}, headers={"Idempotency-Key": "k1"})
    answer = submit(tasklane, {"task_type": "echo", "payload": {"order": 2}}, headers={"Idempotency-Key": "k1"})
    assert_error(answer, 409, "idempotency_conflict")


def test_an_idempotency_key_over_128_chars_is_422(tasklane):
    assert_error(submit(tasklane, headers={"Idempotency-Key": "k" * 129}), 422, "validation_error")


def test_batch_accepts_valid_items_beside_invalid_ones(tasklane):
    items = [
        {"task_type": "echo", "payload": {"i": 0}},
        {"task_type": "nope"},
        {"task_type": "compute", "payload": {"n": -1}},
        {"task_type": "compute", "payload": {"n": 5}, "priority": "low"},
        "not an object",
    ]
    answer = tasklane.call(api_event("submit_batch", body={"tasks": items}))
    assert answer.status == 202
    results = answer.body["results"]
    assert [r["index"] for r in results] == [0, 1, 2, 3, 4]
    assert results[0]["task"]["status"] == "pending"
    assert results[1]["error"]["details"][0]["field"] == "task_type"
    assert results[2]["error"]["details"][0]["field"] == "payload.n"
    assert results[3]["task"]["priority"] == "low"
    assert results[4]["error"]["code"] == "validation_error"
    assert len(tasklane.receive("normal")) == 1
    assert len(tasklane.receive("low")) == 1


@pytest.mark.parametrize("tasks", [[], [{"task_type": "echo"}] * 101])
def test_batch_size_is_1_to_100(tasklane, tasks):
    assert_error(tasklane.call(api_event("submit_batch", body={"tasks": tasks})), 422, "validation_error")


def test_batch_of_100_completes(tasklane):
    items = [{"task_type": "compute", "payload": {"n": i}} for i in range(100)]
    answer = tasklane.call(api_event("submit_batch", body={"tasks": items}))
    assert all("task" in r for r in answer.body["results"])
    tasklane.drain("normal")
    for i, result in enumerate(answer.body["results"]):
        got = tasklane.call(api_event("get_result", task_id=result["task"]["task_id"]))
        assert got.body["result"] == sum(range(i))


def test_health_needs_no_identity_and_openapi_describes_every_route(tasklane):
    assert tasklane.call(api_event("health", owner=None)).body == {"status": "ok"}
    document = tasklane.call(api_event("openapi")).body
    assert set(document["paths"]) == {
        "/tasks",
        "/tasks/batch",
        "/tasks/bulk",
        "/tasks/bulk/{bulk_id}",
        "/tasks/{task_id}",
        "/tasks/{task_id}/result",
        "/tasks/{task_id}/retry",
        "/tasks/{task_id}/complete",
        "/tasks/{task_id}/fail",
        "/tasks/{task_id}/heartbeat",
        "/tasks/{task_id}/result-upload",
        "/stats",
        "/health",
        "/webhooks/secret",
        "/webhooks/secret/rotate",
        "/schedules",
        "/schedules/{name}",
        "/workflows",
        "/workflows/{workflow_id}",
        "/task-types",
        "/task-types/{name}",
    }
    assert "SubmitRequest" in document["components"]["schemas"]
    assert "WorkflowRequest" in document["components"]["schemas"]
    assert {"CompleteRequest", "FailRequest", "HeartbeatRequest"} <= set(document["components"]["schemas"])
    assert set(document["paths"]["/workflows"]) == {"get", "post"}
    assert set(document["paths"]["/workflows/{workflow_id}"]) == {"get", "delete"}
    assert "Task" in document["components"]["schemas"]
    listing = document["paths"]["/tasks"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {
        "status", "task_type", "priority", "limit", "cursor", "workflow_id", "schedule"
    }  # fmt: skip
    assert "TaskPage" in str(listing["responses"]["200"])


def test_an_unknown_route_is_404_with_the_error_body(tasklane):
    event = api_event("health")
    event["path"] = "/nowhere"
    assert_error(tasklane.call(event), 404, "route_not_found")


@pytest.mark.parametrize("page_size", [1, 2, 3, 7, 100])
def test_paging_through_every_task_across_index_shards_loses_and_repeats_nothing(tasklane, page_size):
    results = tasklane.call(
        api_event("submit_batch", body={"tasks": [{"task_type": "echo", "payload": {"i": i}} for i in range(23)]})
    ).body["results"]
    expected = [r["task"]["task_id"] for r in results][::-1]
    seen, cursor = [], None
    for _ in range(50):
        query = {"limit": str(page_size), **({"cursor": cursor} if cursor else {})}
        page = tasklane.call(api_event("list_tasks", query=query)).body
        seen += [t["task_id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == expected


def test_the_openapi_document_says_what_the_task_view_holds(tasklane):
    document = tasklane.call(api_event("openapi")).body
    task = document["components"]["schemas"]["Task"]["properties"]
    for name in ("created_at", "updated_at"):
        assert task[name]["format"] == "date-time"
    for name in ("started_at", "finished_at"):
        assert {"type": "string", "format": "date-time"} in task[name]["anyOf"]
    assert {"payload_size", "payload_url", "result_size", "result_url"} <= set(task)
    assert "303" in document["paths"]["/tasks/{task_id}/result"]["get"]["responses"]


@pytest.mark.parametrize(
    ("key", "raw_body", "expected"),
    [
        ("k" * 128, '{"task_type": "echo"}', []),  # at the header's limit
        ("k" * 129, '{"task_type": "echo"}', [("idempotency-key", "must have at most 128 characters")]),
        ("", '{"task_type": "echo"}', [("idempotency-key", "must have at least 1 character")]),
        (None, "", [("body", "is required")]),
        (None, "null", [("body", "is required")]),
        (None, "[1]", [("body", "must be a JSON object")]),
        ("k" * 129, '{"x": 1}', [("idempotency-key", None), ("task_type", "is required"), ("x", None)]),
    ],
)
def test_the_submit_route_validates_body_and_headers_in_one_422(tasklane, key, raw_body, expected):
    """The route validates with the request models itself (no Powertools validation layer): the
    answer keeps the shape and field names, header and body problems together."""
    answer = tasklane.call(api_event("submit_task", raw_body=raw_body, headers={"Idempotency-Key": key}))
    if not expected:
        assert answer.status == 202, answer.body
        return
    assert_error(answer, 422, "validation_error")
    details = answer.body["error"]["details"]
    assert [d["field"] for d in details] == [field for field, _ in expected]
    for detail, (_, message) in zip(details, expected, strict=True):
        assert message is None or detail["message"] == message


def test_the_batch_route_validates_its_body_itself(tasklane):
    answer = tasklane.call(api_event("submit_batch", raw_body='{"tasks": 5, "x": 1}'))
    assert_error(answer, 422, "validation_error")
    assert [d["field"] for d in answer.body["error"]["details"]] == ["tasks", "x"]
    assert_error(tasklane.call(api_event("submit_batch", raw_body='{"tasks": [')), 400, "bad_request")


def test_the_openapi_document_describes_the_write_routes_bodies_and_headers(tasklane):
    document = tasklane.call(api_event("openapi")).body
    schemas = document["components"]["schemas"]
    for path, model in (("/tasks", "SubmitRequest"), ("/tasks/batch", "BatchRequest")):
        operation = document["paths"][path]["post"]
        assert operation["requestBody"]["required"] is True
        assert operation["requestBody"]["content"]["application/json"]["schema"] == {
            "$ref": f"#/components/schemas/{model}"
        }
        (header,) = operation["parameters"]
        assert header["name"] == "idempotency-key"
        assert header["in"] == "header"
        assert {"type": "string", "minLength": 1, "maxLength": 128} in header["schema"]["anyOf"]
        assert "422" in operation["responses"]
    assert set(schemas["SubmitRequest"]["properties"]) >= {"task_type", "payload", "priority", "delay_seconds"}
    assert schemas["SubmitRequest"]["additionalProperties"] is False
    assert "Lane" in schemas


def test_a_replay_after_the_keys_record_was_lost_answers_with_the_stored_task(tasklane):
    """The first request stored its task and died before the key's record was saved (its function timed
    out): once that in-progress record is gone, the replay finds the task instead of making a second.
    Found by the simulation (seed 3)."""
    body = {"task_type": "echo", "payload": {"order": 7}}
    first = submit(tasklane, body, headers={"Idempotency-Key": "order-7"})
    records = tasklane.dynamodb.scan(TableName=tasklane.stack.names["IdempotencyTable"])["Items"]
    for record in records:
        tasklane.dynamodb.delete_item(TableName=tasklane.stack.names["IdempotencyTable"], Key={"id": record["id"]})
    replay = submit(tasklane, body, headers={"Idempotency-Key": "order-7"})
    assert replay.status == 202
    assert replay.body["task_id"] == first.body["task_id"]
    listed = tasklane.call(api_event("list_tasks", query={"limit": "100"})).body["items"]
    assert [t["task_id"] for t in listed] == [first.body["task_id"]]
    other_key = submit(tasklane, body, headers={"Idempotency-Key": "order-7b"})
    assert other_key.body["task_id"] != first.body["task_id"]


def test_a_key_past_its_day_makes_a_new_task(tasklane):
    body = {"task_type": "echo", "payload": {"order": 8}}
    first = submit(tasklane, body, headers={"Idempotency-Key": "order-8"})
    tasklane.pass_time(24 * 3600 + 1)
    for record in tasklane.dynamodb.scan(TableName=tasklane.stack.names["IdempotencyTable"])["Items"]:
        tasklane.dynamodb.delete_item(TableName=tasklane.stack.names["IdempotencyTable"], Key={"id": record["id"]})
    later = submit(tasklane, body, headers={"Idempotency-Key": "order-8"})
    assert later.status == 202
    assert later.body["task_id"] != first.body["task_id"]


def _forget_keys(tasklane):
    """The key's record is gone, as when the first request died before saving it (its function timed out)."""
    table = tasklane.stack.names["IdempotencyTable"]
    for record in tasklane.dynamodb.scan(TableName=table)["Items"]:
        tasklane.dynamodb.delete_item(TableName=table, Key={"id": record["id"]})


def _keyed_batch(tasklane, items, key):
    answer = tasklane.call(api_event("submit_batch", body={"tasks": items}, headers={"Idempotency-Key": key}))
    assert answer.status == 202, answer.body
    return [r.get("task", {}).get("task_id") for r in answer.body["results"]]


def test_a_keyed_batch_replayed_after_its_keys_record_was_lost_answers_with_the_stored_tasks(tasklane):
    """As for one task: each item's id follows from the caller, the key, the body and its index, so the
    replay finds what the first request stored and makes only what it did not (here: the second item,
    whose write the first request never got to); an invalid item is answered as before."""
    items = [{"task_type": "echo", "payload": {"i": i}} for i in range(3)] + [{"task_type": "no_such_type"}]
    first = _keyed_batch(tasklane, items, "batch-7")
    assert first[3] is None
    assert None not in first[:3]
    _forget_keys(tasklane)
    tasklane.dynamodb.delete_item(TableName=tasklane.stack.names["TasksTable"], Key={"task_id": {"S": first[1]}})
    replay = _keyed_batch(tasklane, items, "batch-7")
    assert replay == first
    listed = tasklane.call(api_event("list_tasks", query={"limit": "100"})).body["items"]
    assert sorted(t["task_id"] for t in listed) == sorted(first[:3])
    assert _keyed_batch(tasklane, items, "batch-7b")[0] not in first  # another key: other tasks


def test_a_keyed_batch_past_its_day_makes_new_tasks(tasklane):
    items = [{"task_type": "echo", "payload": {"i": 1}}]
    first = _keyed_batch(tasklane, items, "batch-8")
    tasklane.pass_time(24 * 3600 + 1)
    _forget_keys(tasklane)
    assert _keyed_batch(tasklane, items, "batch-8") != first
