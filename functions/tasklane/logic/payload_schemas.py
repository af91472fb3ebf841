"""The JSON Schema of a registered task type: checked when the type is registered, and used to
validate each payload submitted for it.

The validator is `jsonschema` (4.x, Draft 2020-12 by default), loaded here only, with the first type
that needs it (~100 ms of imports: the submit and task-types functions pay it on their first custom
payload; processors never validate and never load it). Hostile schemas are refused at registration:
more than 64 KiB of JSON, nested deeper than 32 levels, not a JSON Schema (check_schema), a `$ref`
(or `$dynamicRef`) that is not local (`#...`), a `$schema` that is not a dialect we know, or a schema
that refers to itself without end, or a regex RE2 cannot run. References are resolved in an empty
registry that cannot retrieve: nothing remote is ever fetched, whatever a schema says. Its regexes
(`pattern`, `patternProperties`) run in linear time, by RE2 (tasklane.logic.schema_patterns).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from tasklane.limits import MAX_ERROR_DETAILS, MAX_ERROR_TEXT
from tasklane.logic import schema_patterns
from tasklane.model import values
from tasklane.model.errors import ValidationFailed
from tasklane.model.registered_types import MAX_SCHEMA_BYTES

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

MAX_SCHEMA_DEPTH = 32
_REFERENCES = ("$ref", "$dynamicRef", "$recursiveRef")
# The dialects a schema may name in `$schema` (each ships with jsonschema: none is fetched).
DIALECTS = (
    "https://json-schema.org/draft/2020-12/schema",
    "https://json-schema.org/draft/2019-09/schema",
    "http://json-schema.org/draft-07/schema#",
    "http://json-schema.org/draft-06/schema#",
    "http://json-schema.org/draft-04/schema#",
)
# A probe instance validated once at registration: a schema that recurses without end fails on it.
_PROBES: tuple[Any, ...] = ({}, {"a": [1, "x", None, {"b": True}]})


def _refused(message: str, field: str = "payload_schema") -> ValidationFailed:
    return ValidationFailed("the payload_schema is not allowed", [{"field": field, "message": message}])


def check(schema: dict[str, Any]) -> None:
    """ValidationFailed (naming `payload_schema...`) unless `schema` is a JSON Schema tasklane may use."""
    size = len(json.dumps(schema, separators=(",", ":")).encode())
    if size > MAX_SCHEMA_BYTES:
        raise _refused(f"is {size} bytes of JSON; the limit is {MAX_SCHEMA_BYTES}")
    if values.depth(schema) > MAX_SCHEMA_DEPTH:
        raise _refused(f"is nested deeper than {MAX_SCHEMA_DEPTH} levels")
    _check_references(schema, "payload_schema")
    dialect = schema.get("$schema")
    if dialect is not None and dialect not in DIALECTS:
        raise _refused(f"names an unknown dialect; use one of {', '.join(DIALECTS)}", "payload_schema.$schema")
    from jsonschema.exceptions import SchemaError

    try:
        _validator_class(schema).check_schema(schema)
    except SchemaError as exc:
        where = ".".join(["payload_schema", *(str(p) for p in exc.absolute_path)])
        raise _refused(f"is not a valid JSON Schema: {exc.message[:MAX_ERROR_TEXT]}", where) from None
    schema_patterns.check(schema)
    validator = compiled(json.dumps(schema, sort_keys=True))
    for probe in _PROBES:
        try:
            any(True for _ in validator.iter_errors(probe))
        except RecursionError:
            raise _refused("refers to itself without end") from None
        except Exception as exc:  # an unresolvable local reference, e.g. "#/$defs/missing"
            raise _refused(f"cannot be used: {type(exc).__name__}: {str(exc)[:MAX_ERROR_TEXT]}") from None


def _check_references(node: Any, where: str) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _REFERENCES and isinstance(value, str) and not value.startswith("#"):
                raise _refused("may only refer within itself ('#...'); nothing remote is fetched", f"{where}.{key}")
            _check_references(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _check_references(value, f"{where}[{index}]")


def _validator_class(schema: dict[str, Any]) -> type[Validator]:
    """The validator of the schema's dialect, its regexes run by RE2."""
    from jsonschema.validators import Draft202012Validator, validator_for

    return _linear(validator_for(schema, default=Draft202012Validator))


@lru_cache(maxsize=8)
def _linear(cls: type[Validator]) -> type[Validator]:
    return schema_patterns.linear(cls)


@lru_cache(maxsize=128)
def compiled(schema_text: str) -> Validator:
    """The validator of a schema (by its canonical JSON text), built once per container."""
    from referencing import Registry

    schema = json.loads(schema_text)
    # An empty registry that cannot retrieve: only the schema itself (and the dialects jsonschema
    # ships) can be referred to.
    return _validator_class(schema)(schema, registry=Registry())


def validate(schema: dict[str, Any], payload: dict[str, Any], type_name: str) -> None:
    """ValidationFailed naming each field (`payload.width`) where `payload` does not meet `schema`."""
    if not schema:
        return
    validator = compiled(json.dumps(schema, sort_keys=True))
    try:
        errors = sorted(validator.iter_errors(payload), key=lambda e: [str(p) for p in e.absolute_path])
    except RecursionError:
        details = [{"field": "payload", "message": "is nested too deeply for its type's schema"}]
        raise ValidationFailed(f"invalid payload for task type {type_name!r}", details) from None
    except schema_patterns.PatternRefused as exc:  # a type registered before its regexes were checked
        message = f"its type's schema has a pattern tasklane cannot run ({exc}): register the type again"
        raise ValidationFailed(
            f"invalid payload for task type {type_name!r}", [{"field": "payload", "message": message}]
        ) from None
    if not errors:
        return
    details = [_detail(error) for error in errors[:MAX_ERROR_DETAILS]]
    if len(errors) > MAX_ERROR_DETAILS:
        details.append({"field": "", "message": f"and {len(errors) - MAX_ERROR_DETAILS} more problems"})
    raise ValidationFailed(f"invalid payload for task type {type_name!r}", details)


def _detail(error: Any) -> dict[str, str]:
    path = ["payload", *(str(p) for p in error.absolute_path)]
    message = error.message
    if error.validator == "required":
        # "'width' is a required property": named as its own field, as the built-ins name it.
        missing = next((name for name in error.validator_value if name in error.message), None)
        if missing is not None:
            path.append(missing)
            message = "Field required"
    return {"field": ".".join(path)[:MAX_ERROR_TEXT], "message": message[:MAX_ERROR_TEXT]}
