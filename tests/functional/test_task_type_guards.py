"""What a task type may not be: hostile schemas, targets outside the webhooks' address rules, and
functions the stack does not allow. Names are resolved by a stub; nothing is sent anywhere."""

from __future__ import annotations

import json
import socket

import pytest

from tests.functional.task_types_helpers import RECEIVER_ADDRESS, definition, put_type, submit

ALLOWED = "arn:aws:lambda:us-east-1:123456789012:function:orders-*"


@pytest.fixture
def names(resolver):
    resolver.names["targets.example.com"] = [RECEIVER_ADDRESS]
    resolver.names["inside.example.com"] = ["10.0.0.8"]
    resolver.names["meta.example.com"] = ["169.254.169.254"]
    return resolver


def _refused(answer, field, words=""):
    assert answer.status == 422, answer.body
    detail = answer.body["error"]["details"][0]
    assert detail["field"].startswith(field), answer.body
    assert words in detail["message"], detail


def _schema_of_size(size):
    padding = size - len(json.dumps({"description": ""}, separators=(",", ":")))
    return {"description": "x" * padding}


@pytest.mark.parametrize(("size", "ok"), [(64 * 1024 - 1, True), (64 * 1024, True), (64 * 1024 + 1, False)])
def test_a_schema_over_64_kib_is_refused(tasklane, names, size, ok):
    answer = put_type(tasklane, "t", definition(payload_schema=_schema_of_size(size)))
    if ok:
        assert answer.status == 201, answer.body
    else:
        _refused(answer, "payload_schema", "bytes of JSON")


@pytest.mark.parametrize(
    "ref",
    [
        "https://schemas.example.com/evil.json",
        "http://169.254.169.254/latest/meta-data/",
        "file:///etc/passwd",
        "other.json#/defs/x",
        "urn:uuid:5b3f2c9e-0000-4000-8000-000000000000",
    ],
)
def test_a_reference_that_is_not_local_is_refused_and_never_fetched(tasklane, names, ref, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("a schema reference was fetched")

    monkeypatch.setattr(socket, "create_connection", no_network)
    for schema in ({"$ref": ref}, {"properties": {"a": {"items": {"$ref": ref}}}}, {"$dynamicRef": ref}):
        _refused(put_type(tasklane, "t", definition(payload_schema=schema)), "payload_schema", "within itself")


def test_local_references_work(tasklane, names):
    schema = {
        "$defs": {"size": {"type": "integer", "minimum": 1}},
        "type": "object",
        "properties": {"width": {"$ref": "#/$defs/size"}},
        "required": ["width"],
    }
    assert put_type(tasklane, "t", definition(payload_schema=schema)).status == 201
    assert submit(tasklane, "t", {"width": 0}).body["error"]["details"][0]["field"] == "payload.width"
    assert submit(tasklane, "t", {"width": 3}).status == 202


def test_a_property_named_ref_is_not_a_reference(tasklane, names):
    schema = {"type": "object", "properties": {"$ref": {"type": "string"}}}
    assert put_type(tasklane, "t", definition(payload_schema=schema)).status == 201


def test_a_schema_that_refers_to_itself_without_end_is_refused(tasklane, names):
    _refused(put_type(tasklane, "t", definition(payload_schema={"$ref": "#"})), "payload_schema", "without end")
    loop = {"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}
    _refused(put_type(tasklane, "t", definition(payload_schema=loop)), "payload_schema", "without end")


def test_a_recursive_schema_that_ends_is_fine(tasklane, names):
    tree = {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#"}}}}
    assert put_type(tasklane, "t", definition(payload_schema=tree)).status == 201
    deep = {"children": [{"children": [{"children": [{"children": "no"}]}]}]}
    wrong = submit(tasklane, "t", deep)
    assert wrong.body["error"]["details"][0]["field"] == "payload.children.0.children.0.children.0.children"


def test_an_unresolvable_local_reference_is_refused(tasklane, names):
    _refused(put_type(tasklane, "t", definition(payload_schema={"$ref": "#/$defs/missing"})), "payload_schema")


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "integer-ish"},
        {"minimum": "three"},
        {"required": "width"},
        {"properties": []},
        {"$schema": "https://schemas.example.com/my-dialect"},
    ],
)
def test_what_is_not_a_json_schema_is_refused(tasklane, names, schema):
    _refused(put_type(tasklane, "t", definition(payload_schema=schema)), "payload_schema")


def test_a_schema_nested_too_deeply_is_refused(tasklane, names):
    schema: dict = {"type": "object"}
    for _ in range(40):
        schema = {"type": "object", "properties": {"a": schema}}
    _refused(put_type(tasklane, "t", definition(payload_schema=schema)), "payload_schema", "deeper")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://targets.example.com/run", "https"),
        ("https://10.1.2.3/run", "private"),
        ("https://127.0.0.1/run", "loopback"),
        ("https://169.254.169.254/latest", "metadata"),
        ("https://[::1]/run", "loopback"),
        ("https://inside.example.com/run", "private"),
        ("https://meta.example.com/run", "metadata"),
        ("https://user:pw@targets.example.com/run", "credentials"),
        ("https://nowhere.example.com/run", "does not resolve"),
        ("not a url", ""),
    ],
)
def test_a_url_target_follows_the_webhooks_address_rules(tasklane, names, url, words):
    _refused(put_type(tasklane, "t", definition(target={"url": url})), "target.url", words)


def test_the_loopback_is_open_only_where_the_stack_allows_it(tasklane, names, monkeypatch):
    assert put_type(tasklane, "t", definition(target={"url": "http://127.0.0.1:8080/run"})).status == 422
    monkeypatch.setenv("CALLBACK_ALLOW_LOOPBACK", "true")
    from tasklane.settings.webhooks import webhook_settings

    webhook_settings.cache_clear()
    assert put_type(tasklane, "t", definition(target={"url": "http://127.0.0.1:8080/run"})).status == 201
    _refused(put_type(tasklane, "u", definition(target={"url": "http://10.0.0.1/run"})), "target.url", "private")


@pytest.fixture
def allowed_functions(monkeypatch):
    monkeypatch.setenv("TARGET_FUNCTION_ARNS", f"{ALLOWED},arn:aws:lambda:us-east-1:123456789012:function:exact")
    from tasklane.settings.task_types import task_type_settings

    task_type_settings.cache_clear()


@pytest.mark.parametrize(
    ("arn", "ok", "words"),
    [
        ("arn:aws:lambda:us-east-1:123456789012:function:orders-resize", True, ""),
        ("arn:aws:lambda:us-east-1:123456789012:function:orders-resize:live", True, ""),
        ("arn:aws:lambda:us-east-1:123456789012:function:exact", True, ""),
        ("arn:aws:lambda:us-east-1:123456789012:function:exactly", False, "TargetFunctionArns"),
        ("arn:aws:lambda:us-east-1:123456789012:function:billing", False, "TargetFunctionArns"),
        ("arn:aws:lambda:us-east-1:999999999999:function:orders-resize", False, "account"),
        ("arn:aws:lambda:us-east-1:123456789012:layer:orders-x", False, "ARN"),
        ("orders-resize", False, "ARN"),
    ],
)
def test_a_function_target_must_be_one_the_stack_allows(tasklane, names, allowed_functions, arn, ok, words):
    answer = put_type(tasklane, "t", definition(target={"lambda": arn}))
    if ok:
        assert answer.status == 201, answer.body
        assert answer.body["kind"] == "lambda"
        assert answer.body["target"] == {"lambda": arn}
    else:
        _refused(answer, "target.lambda", words)


def test_with_target_function_arns_empty_no_function_is_a_target(tasklane, names):
    arn = "arn:aws:lambda:us-east-1:123456789012:function:orders-resize"
    _refused(put_type(tasklane, "t", definition(target={"lambda": arn})), "target.lambda", "none")
