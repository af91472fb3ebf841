"""JSON values as tasklane accepts, stores and answers them.

Python's `json` accepts what JSON and the rest of the path cannot carry: NaN and Infinity, numbers
that overflow a double (`1e400` becomes inf), integers too long to convert, unpaired surrogates, and
nesting deep enough to stop a parser. Request bodies are read by `loads`, which keeps such numbers as
`Unrepresentable` marks instead of failing the whole body, so that `problems` can name the field
and one bad item of a batch fails alone.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from tasklane.limits import MAX_INTEGER_DIGITS, MAX_PAYLOAD_DEPTH
from tasklane.records import record


@record(slots=True)
class Unrepresentable:
    """A number in a request that no JSON reader can hold faithfully: its text as sent."""

    text: str


class ValueNotStorable(ValueError):
    """A value (typically a task's result) that cannot be written as JSON."""


def _float(text: str) -> Any:
    value = float(text)
    return Unrepresentable(text) if value in (float("inf"), float("-inf")) else value


def _int(text: str) -> Any:
    return Unrepresentable(text) if len(text.lstrip("-")) > MAX_INTEGER_DIGITS else int(text)


def loads(text: str) -> Any:
    """Parse a request body; out-of-range numbers and NaN/Infinity become Unrepresentable marks."""
    return json.loads(text, parse_float=_float, parse_int=_int, parse_constant=Unrepresentable)


def problems(value: Any, field: str, max_depth: int = MAX_PAYLOAD_DEPTH) -> list[dict[str, str]]:
    """Every place in `value` that tasklane cannot store and answer as JSON, as {field, message}."""
    found: list[dict[str, str]] = []
    stack: list[tuple[Any, str, int]] = [(value, field, 0)]
    while stack and len(found) < 20:
        node, path, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth >= max_depth:
                found.append({"field": path, "message": f"nested deeper than {max_depth} levels"})
                continue
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for key, child in items:
                if isinstance(key, str) and not _utf8(key):
                    found.append({"field": path, "message": "a key contains an unpaired UTF-16 surrogate"})
                stack.append((child, f"{path}.{key}", depth + 1))
        elif isinstance(node, Unrepresentable):
            found.append({"field": path, "message": _number_problem(node.text)})
        elif isinstance(node, str) and not _utf8(node):
            found.append({"field": path, "message": "contains an unpaired UTF-16 surrogate (not valid UTF-8)"})
    return found


def _utf8(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _number_problem(text: str) -> str:
    if text in ("NaN", "Infinity", "-Infinity"):
        return f"{text} is not a JSON number"
    if text.lstrip("-").isdigit():
        return f"integer of {len(text.lstrip('-'))} digits; at most {MAX_INTEGER_DIGITS} are accepted"
    return f"number {text[:40]} is outside the range of a double"


def encode(value: Any) -> bytes:
    """Compact UTF-8 JSON of a value; ValueNotStorable when it has no JSON form, whatever the reason
    (NaN, keys that are not strings, a value whose `str` raises): a task's result that cannot be
    written must fail its attempt, never escape it."""
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=str).encode()
    except RecursionError:
        raise ValueNotStorable("nested too deeply") from None
    except Exception as exc:  # any failure, a value's own code's included, means no JSON form
        raise ValueNotStorable((str(exc) or type(exc).__name__)[:300]) from None


def depth(value: Any) -> int:
    """Nesting depth of a value (0 for a scalar), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level + 1)
            stack.extend((child, level + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def fingerprint(value: Any) -> str:
    """A digest of a request value that is equal for equal JSON, marks included (for idempotency)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=lambda mark: f"<{mark.text}>")
    return hashlib.sha256(text.encode()).hexdigest()
