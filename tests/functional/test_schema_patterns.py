"""The regexes of a registered type's schema run in linear time: a pattern that makes Python's `re`
backtrack for minutes (`^(a+)+$` against "aaa…!") answers in milliseconds, a normal pattern still
validates, and a pattern the linear engine cannot run is refused when the type is registered."""

from __future__ import annotations

import time

import pytest

from tests.functional.task_types_helpers import RECEIVER_ADDRESS, definition, put_type, submit

HOSTILE = "^(a+)+$"
# Python's re takes ~2 s on 24 a's and doubles with each one more: minutes here.
ATTACK = "a" * 30 + "!"


@pytest.fixture(autouse=True)
def names(request):
    """The target's name resolves by the stub (nothing is sent anywhere), for the tests on the API."""
    if "tasklane" in request.fixturenames:
        request.getfixturevalue("resolver").names["targets.example.com"] = [RECEIVER_ADDRESS]


def _schema(**code):
    return {"type": "object", "properties": {"code": {"type": "string", **code}}, "required": ["code"]}


def _timed(call):
    started = time.perf_counter()
    answer = call()
    return answer, time.perf_counter() - started


def _field(answer):
    assert answer.status == 422, answer.body
    return answer.body["error"]["details"][0]


def test_a_hostile_pattern_answers_a_non_matching_payload_in_milliseconds(tasklane):
    assert put_type(tasklane, "codes", definition(payload_schema=_schema(pattern=HOSTILE))).status == 201
    answer, took = _timed(lambda: submit(tasklane, "codes", {"code": ATTACK}))
    detail = _field(answer)
    assert detail == {"field": "payload.code", "message": f"'{ATTACK}' does not match '{HOSTILE}'"}
    assert took < 1.0, took  # the whole request on moto; the match itself is microseconds
    matching = submit(tasklane, "codes", {"code": "a" * 30})
    assert matching.status == 202, matching.body


def test_the_validator_runs_a_hostile_pattern_in_linear_time():
    from tasklane.logic import payload_schemas
    from tasklane.model.errors import ValidationFailed

    schema = _schema(pattern=HOSTILE)
    payload_schemas.check(schema)
    for size in (24, 30, 100_000):  # Python's re: ~2 s, minutes, forever
        started = time.perf_counter()
        with pytest.raises(ValidationFailed):
            payload_schemas.validate(schema, {"code": "a" * size + "!"}, "codes")
        assert time.perf_counter() - started < 0.1, size


def test_hostile_pattern_properties_and_property_names_are_linear_too(tasklane):
    keyed = {"type": "object", "patternProperties": {HOSTILE: {"type": "integer"}}, "additionalProperties": False}
    assert put_type(tasklane, "keyed", definition(payload_schema=keyed)).status == 201
    answer, took = _timed(lambda: submit(tasklane, "keyed", {ATTACK: 1}))
    assert _field(answer) == {
        "field": "payload",
        "message": f"'{ATTACK}' does not match any of the regexes: '{HOSTILE}'",
    }
    assert took < 1.0, took
    assert submit(tasklane, "keyed", {"aaaa": 1}).status == 202
    assert _field(submit(tasklane, "keyed", {"aaaa": "one"}))["field"] == "payload.aaaa"
    named = {"type": "object", "propertyNames": {"pattern": HOSTILE}}
    assert put_type(tasklane, "named", definition(payload_schema=named)).status == 201
    answer, took = _timed(lambda: submit(tasklane, "named", {ATTACK: 1}))
    assert answer.status == 422, answer.body
    assert took < 1.0, took


@pytest.mark.parametrize(
    ("code", "ok"),
    [("ABC-1234", True), ("abc-1234", False), ("ABC-123", False), ("ABC-12345", False), ("ABC-1234\n", False)],
)
def test_a_normal_pattern_still_validates(tasklane, code, ok):
    assert put_type(tasklane, "orders", definition(payload_schema=_schema(pattern=r"^[A-Z]{3}-\d{4}$"))).status == 201
    answer = submit(tasklane, "orders", {"code": code})
    if ok:
        assert answer.status == 202, answer.body
    else:
        assert _field(answer)["field"] == "payload.code"


def test_an_unanchored_pattern_matches_anywhere_as_json_schema_says(tasklane):
    assert put_type(tasklane, "t", definition(payload_schema=_schema(pattern="b+"))).status == 201
    assert submit(tasklane, "t", {"code": "abba"}).status == 202
    assert submit(tasklane, "t", {"code": "acca"}).status == 422


@pytest.mark.parametrize(
    ("schema", "field", "words"),
    [
        (_schema(pattern="^(?=.*[0-9]).+$"), "payload_schema.properties.code.pattern", "invalid perl operator: (?="),
        (_schema(pattern=r"^(a)\1$"), "payload_schema.properties.code.pattern", r"invalid escape sequence: \1"),
        ({"patternProperties": {"(?<!x)y": {}}}, "payload_schema.patternProperties.(?<!x)y", "invalid perl operator"),
        ({"items": {"pattern": "x{1001}"}}, "payload_schema.items.pattern", "invalid repetition size"),
    ],
)
def test_a_pattern_the_linear_engine_cannot_run_is_refused_at_registration(tasklane, schema, field, words):
    answer = put_type(tasklane, "t", definition(payload_schema=schema))
    detail = _field(answer)
    assert detail["field"] == field
    assert words in detail["message"]
    assert "lookarounds and backreferences are not supported" in detail["message"]
    assert put_type(tasklane, "t", definition()).status == 201  # nothing was kept of the refused one


def test_a_pattern_in_a_schemas_data_is_not_a_regex(tasklane):
    schema = {"type": "object", "default": {"pattern": "(?=x)"}, "examples": [{"pattern": r"(a)\1"}]}
    assert put_type(tasklane, "t", definition(payload_schema=schema)).status == 201


def test_unevaluated_properties_beside_pattern_properties_is_refused(tasklane):
    schema = {"patternProperties": {"^x": {}}, "unevaluatedProperties": False}
    detail = _field(put_type(tasklane, "t", definition(payload_schema=schema)))
    assert detail["field"] == "payload_schema"
    assert "unevaluatedProperties cannot be combined with patternProperties" in detail["message"]
    alone = {"properties": {"x": {}}, "unevaluatedProperties": False}
    assert put_type(tasklane, "t", definition(payload_schema=alone)).status == 201
    assert _field(submit(tasklane, "t", {"y": 1}))["message"].startswith("Unevaluated properties are not allowed")
