"""Task types of your own: registration, listing with the built-ins, isolation between owners, the
per-owner limit, and payloads validated against the type's JSON Schema at submission."""

from __future__ import annotations

import pytest

from tests.events import BOB
from tests.functional.task_types_helpers import (
    RECEIVER,
    RECEIVER_ADDRESS,
    definition,
    delete_type,
    get_type,
    list_types,
    put_type,
    submit,
)


@pytest.fixture
def receiver_name(resolver):
    resolver.names["targets.example.com"] = [RECEIVER_ADDRESS]
    return resolver


def test_a_new_type_is_201_a_replaced_one_200_and_keeps_its_creation_time(tasklane, receiver_name):
    first = put_type(tasklane, "resize", definition(description="v1"))
    assert first.status == 201, first.body
    assert first.body["kind"] == "url"
    assert first.body["target"] == {"url": RECEIVER}
    assert first.headers["location"] == "/v1/task-types/resize"
    tasklane.pass_time(5)
    second = put_type(tasklane, "resize", definition(description="v2", priority="high"))
    assert second.status == 200
    assert second.body["description"] == "v2"
    assert second.body["priority"] == "high"
    assert second.body["created_at"] == first.body["created_at"] != second.body["updated_at"]
    assert get_type(tasklane, "resize").body == second.body


def test_the_listing_has_the_builtins_first_with_schemas_from_their_models_then_the_callers_own(
    tasklane, receiver_name
):
    put_type(tasklane, "zeta", definition())
    put_type(tasklane, "alpha", definition())
    put_type(tasklane, "bobs", definition(), owner=BOB)
    items = list_types(tasklane).body["items"]
    kinds = [item["kind"] for item in items]
    assert kinds == sorted(kinds, key=lambda k: k != "builtin")
    builtins = {item["name"]: item for item in items if item["kind"] == "builtin"}
    assert {"echo", "compute", "resize_image", "send_email"} <= set(builtins)
    assert builtins["compute"]["payload_schema"]["properties"]["n"]["maximum"] == 100_000_000
    assert builtins["send_email"]["rate_limit"] == "5/s"
    assert [item["name"] for item in items if item["kind"] != "builtin"] == ["alpha", "zeta"]
    for item in items:
        assert {"name", "kind", "payload_schema", "priority", "timeout_seconds", "max_attempts"} <= set(item)


def test_another_owners_type_is_not_found_and_unknown_to_their_submissions(tasklane, receiver_name):
    put_type(tasklane, "resize", definition())
    assert get_type(tasklane, "resize", owner=BOB).status == 404
    assert delete_type(tasklane, "resize", owner=BOB).status == 404
    answer = submit(tasklane, "resize", {"width": 3}, owner=BOB)
    assert answer.status == 422
    assert answer.body["error"]["details"][0]["field"] == "task_type"
    assert get_type(tasklane, "resize").status == 200  # still alice's
    # Bob may have a type of the same name: his own.
    assert put_type(tasklane, "resize", definition(description="bob's"), owner=BOB).status == 201
    assert get_type(tasklane, "resize").body["description"] is None


@pytest.mark.parametrize("name", ["echo", "compute", "send_email", "fail", "sleep"])
def test_a_builtin_name_is_a_409(tasklane, receiver_name, name):
    answer = put_type(tasklane, name, definition())
    assert answer.status == 409
    assert answer.body["error"]["code"] == "builtin_task_type"
    assert delete_type(tasklane, name).status == 409


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("a", True),
        ("a" * 64, True),
        ("a" * 65, False),
        ("resize.v2-fast_x", True),
        ("Resize", False),
        ("9lives", False),
        ("_x", False),
        ("has space", False),
        ("a!b", False),
    ],
)
def test_names_follow_the_rule(tasklane, receiver_name, name, ok):
    answer = put_type(tasklane, name, definition())
    assert (answer.status == 201) is ok, answer.body
    if not ok:
        assert answer.status == 422
        assert answer.body["error"]["details"][0]["field"] == "name"


def test_delete_then_read_is_404_and_frees_a_place_under_the_limit(tasklane, receiver_name, monkeypatch):
    monkeypatch.setenv("MAX_TASK_TYPES_PER_OWNER", "2")
    from tasklane.settings.task_types import task_type_settings

    task_type_settings.cache_clear()
    assert put_type(tasklane, "one", definition()).status == 201
    assert put_type(tasklane, "two", definition()).status == 201
    over = put_type(tasklane, "three", definition())
    assert over.status == 409
    assert over.body["error"]["code"] == "task_type_limit_reached"
    assert put_type(tasklane, "two", definition(description="replacing is not adding")).status == 200
    assert put_type(tasklane, "one", definition(), owner=BOB).status == 201  # the limit is per owner
    assert delete_type(tasklane, "one").status == 204
    assert get_type(tasklane, "one").status == 404
    assert delete_type(tasklane, "one").status == 404
    assert put_type(tasklane, "three", definition()).status == 201


def test_a_payload_is_validated_against_the_schema_naming_the_field(tasklane, receiver_name):
    put_type(tasklane, "resize", definition())
    wrong = submit(tasklane, "resize", {"width": "wide"})
    assert wrong.status == 422
    assert wrong.body["error"]["details"][0]["field"] == "payload.width"
    missing = submit(tasklane, "resize", {})
    assert missing.status == 422
    assert missing.body["error"]["details"] == [{"field": "payload.width", "message": "Field required"}]
    below = submit(tasklane, "resize", {"width": 0})
    assert below.status == 422
    assert below.body["error"]["details"][0]["field"] == "payload.width"
    good = submit(tasklane, "resize", {"width": 1})
    assert good.status == 202, good.body
    assert good.body["task_type"] == "resize"
    assert good.body["timeout_seconds"] == 20


def test_a_submission_takes_the_types_defaults_unless_it_says_otherwise(tasklane, receiver_name):
    put_type(tasklane, "resize", definition(priority="high", max_attempts=5, timeout_seconds=40))
    task = submit(tasklane, "resize", {"width": 2}).body
    assert (task["priority"], task["max_attempts"], task["timeout_seconds"]) == ("high", 5, 40)
    told = submit(tasklane, "resize", {"width": 2}, priority="low", max_attempts=1, timeout_seconds=7).body
    assert (told["priority"], told["max_attempts"], told["timeout_seconds"]) == ("low", 1, 7)
    assert len(tasklane.receive("high")) == 1
    assert len(tasklane.receive("low")) == 1


def test_a_type_just_replaced_is_what_the_next_submission_checks(tasklane, receiver_name):
    put_type(tasklane, "resize", definition())
    assert submit(tasklane, "resize", {"width": "x"}).status == 422
    put_type(tasklane, "resize", definition(payload_schema={}))
    assert submit(tasklane, "resize", {"width": "x"}).status == 202


def test_a_batch_refuses_only_the_item_that_fails_its_schema(tasklane, receiver_name):
    from tests.events import api_event

    put_type(tasklane, "resize", definition())
    body = {"tasks": [{"task_type": "resize", "payload": {"width": 4}}, {"task_type": "resize", "payload": {}}]}
    results = tasklane.call(api_event("submit_batch", body=body)).body["results"]
    assert "task" in results[0]
    assert results[1]["error"]["details"][0]["field"] == "payload.width"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"target": {}}, "target"),
        ({"target": {"url": RECEIVER, "lambda": "arn:aws:lambda:us-east-1:123456789012:function:x"}}, "target"),
        ({"mode": "later"}, "mode"),
        ({"timeout_seconds": 0}, "timeout_seconds"),
        ({"timeout_seconds": 7 * 24 * 3600 + 1, "mode": "async"}, "timeout_seconds"),
        ({"max_attempts": 11}, "max_attempts"),
        ({"rate_limit": "often"}, "rate_limit"),
        ({"priority": "urgent"}, "priority"),
        ({"surprise": 1}, "surprise"),
        ({"payload_schema": "not an object"}, "payload_schema"),
    ],
)
def test_a_bad_definition_is_a_422_naming_its_field(tasklane, receiver_name, body, field):
    answer = put_type(tasklane, "resize", definition(**body))
    assert answer.status == 422, answer.body
    assert any(d["field"].startswith(field) for d in answer.body["error"]["details"]), answer.body


def test_a_sync_type_may_not_outlast_a_processor(tasklane, receiver_name):
    from tasklane.settings import settings

    limit = settings().max_task_timeout_seconds
    assert put_type(tasklane, "s", definition(timeout_seconds=limit)).status == 201
    over = put_type(tasklane, "s2", definition(timeout_seconds=limit + 1))
    assert over.status == 422
    assert over.body["error"]["details"][0]["field"] == "timeout_seconds"
    assert put_type(tasklane, "b", definition(heartbeat_seconds=60)).status == 422  # heartbeat: async only


def test_an_async_type_may_outlast_a_processor(tasklane, receiver_name):
    answer = put_type(tasklane, "a", definition(mode="async", timeout_seconds=3600, heartbeat_seconds=600))
    assert answer.status == 201, answer.body
    shown = answer.body
    assert (shown["mode"], shown["timeout_seconds"], shown["heartbeat_seconds"]) == ("async", 3600, 600)


def test_the_cache_holds_a_definition_for_its_ttl_then_reads_it_again(tasklane, receiver_name, monkeypatch):
    from tasklane.data.services import services
    from tasklane.logic import offered_types
    from tasklane.model import clock  # noqa: F401  (tasklane's clock is the test's; the cache uses monotonic)

    put_type(tasklane, "resize", definition(description="v1"))
    now = [1000.0]
    monkeypatch.setattr(offered_types.time, "monotonic", lambda: now[0])
    reads = []
    real_get = type(services().task_types).get

    def counting(self, owner, name, *, consistent=True):
        reads.append(name)
        return real_get(self, owner, name, consistent=consistent)

    monkeypatch.setattr(type(services().task_types), "get", counting)
    from tests.events import ALICE

    assert offered_types.registered_type(ALICE, "resize", services()).description == "v1"
    put_type(tasklane, "resize", definition(description="v2"))
    reads.clear()
    now[0] += offered_types.CACHE_SECONDS - 1
    assert offered_types.registered_type(ALICE, "resize", services()).description == "v1"
    assert reads == []
    now[0] += 1
    assert offered_types.registered_type(ALICE, "resize", services()).description == "v2"
    assert reads == ["resize"]
    delete_type(tasklane, "resize")
    now[0] += offered_types.CACHE_SECONDS
    assert offered_types.registered_type(ALICE, "resize", services()) is None


def test_without_a_timeout_a_type_gets_60_s_or_the_processors_limit_when_lower(tasklane, receiver_name, monkeypatch):
    body = definition()
    del body["timeout_seconds"]
    assert put_type(tasklane, "plain", body).body["timeout_seconds"] == 60
    monkeypatch.setenv("PROCESSOR_TIMEOUT_SECONDS", "60")  # a limit of 30 s, as on the local stack
    from tasklane.data.services import services
    from tasklane.settings import settings

    settings.cache_clear()
    services.cache_clear()
    assert put_type(tasklane, "short", body).body["timeout_seconds"] == 30
