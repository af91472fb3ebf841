"""The regular expressions of a registered type's JSON Schema (`pattern`, `patternProperties`, and
`additionalProperties` beside it), run by RE2 instead of Python's `re`.

Python's `re` backtracks: a pattern such as `^(a+)+$` takes seconds on 25 characters and years on
40, so one submission could hold the submit function until its timeout. RE2 (google-re2) runs in
time linear in the input whatever the pattern, at the price of what backtracking alone can do:
lookarounds and backreferences. Such a pattern is refused when the type is registered, named by its
place in the schema. `unevaluatedProperties` next to `patternProperties` is refused too: jsonschema
evaluates those with `re` inside its own helpers, which this validator cannot reach.

RE2's syntax is close to ECMA-262's, the dialect JSON Schema names (`\\d` is ASCII in both). Loaded
only with the validator (tasklane.logic.payload_schemas): ~5 ms of imports, measured beside
jsonschema's ~100.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from tasklane.limits import MAX_ERROR_TEXT
from tasklane.model.errors import ValidationFailed

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

# Where a schema holds data rather than keywords: a "pattern" key inside these is a value, not a regex.
_DATA = ("const", "enum", "default", "examples")


class PatternRefused(Exception):
    """A pattern RE2 cannot compile: the reason in RE2's words."""


@lru_cache(maxsize=512)
def regex(pattern: str) -> Any:
    """The compiled RE2 program of `pattern` (once per container); PatternRefused if RE2 cannot run it."""
    import re2

    options = re2.Options()
    options.log_errors = False  # the error is raised here; absl's line on stderr would only repeat it
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise PatternRefused(reason) from None


def found(pattern: str, text: str) -> bool:
    """Whether `pattern` matches somewhere in `text`, as JSON Schema's `pattern` asks (unanchored)."""
    return regex(pattern).search(text) is not None


def check(schema: dict[str, Any]) -> None:
    """ValidationFailed naming `payload_schema...pattern` for each regex RE2 cannot run (first one)."""
    uses_unevaluated = False
    uses_patterns = False
    for where, key, value in _keywords(schema, "payload_schema"):
        if key == "unevaluatedProperties":
            uses_unevaluated = True
        elif key == "pattern" and isinstance(value, str):
            _compiles(value, f"{where}.pattern")
        elif key == "patternProperties" and isinstance(value, dict):
            uses_patterns = True
            for name in value:
                _compiles(name, f"{where}.patternProperties.{name}")
    if uses_unevaluated and uses_patterns:
        message = "unevaluatedProperties cannot be combined with patternProperties here: use additionalProperties"
        raise ValidationFailed("the payload_schema is not allowed", [{"field": "payload_schema", "message": message}])


def _compiles(pattern: str, where: str) -> None:
    try:
        regex(pattern)
    except PatternRefused as exc:
        message = (
            f"is a pattern tasklane cannot run in linear time ({exc}); lookarounds and backreferences are not supported"
        )
        detail = {"field": where[:MAX_ERROR_TEXT], "message": message[:MAX_ERROR_TEXT]}
        raise ValidationFailed("the payload_schema is not allowed", [detail]) from None


def _keywords(node: Any, where: str) -> Iterator[tuple[str, str, Any]]:
    """(place, key, value) of every key of every object in the schema, data values left out."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield where, key, value
            if key not in _DATA:
                yield from _keywords(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _keywords(value, f"{where}[{index}]")


def linear(cls: type[Validator]) -> type[Validator]:
    """`cls` (a jsonschema draft's validator) with its regex keywords run by RE2."""
    from jsonschema.validators import extend

    keywords = {"pattern": _pattern, "patternProperties": _pattern_properties}
    if "additionalProperties" in cls.VALIDATORS:
        keywords["additionalProperties"] = _additional_properties
    extended: type[Validator] = extend(cls, keywords)
    return extended


def _pattern(validator: Any, pattern: str, instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    if validator.is_type(instance, "string") and not found(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator: Any, patterns: dict[str, Any], instance: Any, schema: dict[str, Any]) -> Any:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if found(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(validator: Any, allowed: Any, instance: Any, schema: dict[str, Any]) -> Any:
    """jsonschema's own, with the properties that patternProperties takes found by RE2."""
    from jsonschema.exceptions import ValidationError

    if not validator.is_type(instance, "object"):
        return
    named = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    extras = sorted((key for key in instance if key not in named and not any(found(p, key) for p in patterns)), key=str)
    if validator.is_type(allowed, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], allowed, path=extra)
    elif not allowed and extras:
        listed = ", ".join(repr(each) for each in extras)
        if patterns:
            verb = "does" if len(extras) == 1 else "do"
            yield ValidationError(
                f"{listed} {verb} not match any of the regexes: {', '.join(map(repr, sorted(patterns)))}"
            )
        else:
            verb = "was" if len(extras) == 1 else "were"
            yield ValidationError(f"Additional properties are not allowed ({listed} {verb} unexpected)")
