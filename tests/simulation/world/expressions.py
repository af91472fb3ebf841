"""DynamoDB's condition, update and key-condition expressions, parsed once and evaluated on items in
DynamoDB's typed form ({"S": ...}, {"N": ...}, {"SS": [...]}, ...).

The subset tasklane writes: comparisons, IN, BETWEEN, AND/OR/NOT, attribute_exists,
attribute_not_exists, contains, begins_with, size; SET with + and -, if_not_exists and list_append,
REMOVE, ADD and DELETE on numbers and string sets. Anything else raises NotImplementedError, so a new
expression in tasklane fails the simulation loudly rather than being evaluated wrongly.
tests/simulation/test_fake_dynamodb.py checks the evaluator against moto on tasklane's own writes.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import cache
from typing import Any

Item = dict[str, Any]
_TOKEN = re.compile(r"\s*(<>|<=|>=|[=<>(),+\-]|[#:]?[A-Za-z_][A-Za-z0-9_]*)")
_KEYWORDS = {"AND", "OR", "NOT", "IN", "BETWEEN"}
_FUNCTIONS = {"attribute_exists", "attribute_not_exists", "contains", "begins_with", "size", "if_not_exists",
              "list_append", "attribute_type"}  # fmt: skip


class ValidationError(Exception):
    """What DynamoDB answers with a ValidationException (a bad operand type, say)."""


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise NotImplementedError(f"expression not understood at {text[pos:]!r}")
        out.append(match.group(1))
        pos = match.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens, self.pos = _tokens(text), 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token.upper() != expected):
            raise NotImplementedError(f"expected {expected!r}, got {token!r}")
        self.pos += 1
        return token

    # conditions -----------------------------------------------------------------------------------
    def condition(self) -> tuple:
        left = self.conjunction()
        while (self.peek() or "").upper() == "OR":
            self.take()
            left = ("or", left, self.conjunction())
        return left

    def conjunction(self) -> tuple:
        left = self.negation()
        while (self.peek() or "").upper() == "AND":
            self.take()
            left = ("and", left, self.negation())
        return left

    def negation(self) -> tuple:
        if (self.peek() or "").upper() == "NOT":
            self.take()
            return ("not", self.negation())
        return self.predicate()

    def predicate(self) -> tuple:
        if self.peek() == "(":
            self.take()
            inner = self.condition()
            self.take(")")
            return inner
        token = self.peek() or ""
        if token in {"attribute_exists", "attribute_not_exists", "contains", "begins_with"}:
            self.take()
            self.take("(")
            args = [self.operand()]
            while self.peek() == ",":
                self.take()
                args.append(self.operand())
            self.take(")")
            return ("call", token, args)
        left = self.operand()
        op = (self.take() or "").upper()
        if op in {"=", "<>", "<", "<=", ">", ">="}:
            return ("cmp", op, left, self.operand())
        if op == "IN":
            self.take("(")
            options = [self.operand()]
            while self.peek() == ",":
                self.take()
                options.append(self.operand())
            self.take(")")
            return ("in", left, options)
        if op == "BETWEEN":
            low = self.operand()
            self.take("AND")
            return ("between", left, low, self.operand())
        raise NotImplementedError(f"operator {op!r}")

    def operand(self) -> tuple:
        token = self.take()
        if token == "size":
            self.take("(")
            path = self.operand()
            self.take(")")
            return ("size", path)
        if token.startswith(":"):
            return ("value", token)
        if token.upper() in _KEYWORDS or token in _FUNCTIONS or not re.match(r"#?[A-Za-z_]", token):
            raise NotImplementedError(f"operand {token!r}")
        return ("path", token)

    # updates --------------------------------------------------------------------------------------
    def update(self) -> list[tuple]:
        actions: list[tuple] = []
        while self.peek() is not None:
            clause = self.take().upper()
            while True:
                path = self.operand()
                if clause == "SET":
                    self.take("=")
                    actions.append(("set", path, self.value_expr()))
                elif clause == "REMOVE":
                    actions.append(("remove", path))
                elif clause in {"ADD", "DELETE"}:
                    actions.append((clause.lower(), path, self.operand()))
                else:
                    raise NotImplementedError(f"update clause {clause!r}")
                if self.peek() != ",":
                    break
                self.take()
        return actions

    def value_expr(self) -> tuple:
        left = self.value_term()
        if self.peek() in {"+", "-"}:
            return ("arith", self.take(), left, self.value_term())
        return left

    def value_term(self) -> tuple:
        token = self.peek()
        if token in {"if_not_exists", "list_append"}:
            self.take()
            self.take("(")
            first = self.value_term()
            self.take(",")
            second = self.value_term()
            self.take(")")
            return (token, first, second)
        return self.operand()


@cache
def parse_condition(text: str) -> tuple:
    parser = _Parser(text)
    tree = parser.condition()
    if parser.peek() is not None:
        raise NotImplementedError(f"trailing {parser.peek()!r} in {text!r}")
    return tree


@cache
def parse_update(text: str) -> list[tuple]:
    return _Parser(text).update()


class Context:
    """An expression's names and values, and the item it is evaluated on."""

    def __init__(self, item: Item | None, names: dict[str, str], values: dict[str, Any]) -> None:
        self.item, self.names, self.values = item or {}, names, values

    def name(self, token: str) -> str:
        return self.names[token] if token.startswith("#") else token

    def get(self, operand: tuple) -> Any:
        kind = operand[0]
        if kind == "value":
            return self.values[operand[1]]
        if kind == "path":
            return self.item.get(self.name(operand[1]))
        if kind == "size":
            value = self.get(operand[1])
            if value is None:
                return None
            ((tag, inner),) = value.items()
            return {"N": str(len(inner.encode() if tag == "S" else inner))}
        raise NotImplementedError(kind)


def _key(value: Any) -> tuple[str, Any] | None:
    if value is None:
        return None
    ((tag, inner),) = value.items()
    if tag == "N":
        return tag, Decimal(inner)
    if tag in {"SS", "NS"}:
        return tag, frozenset(inner)
    return tag, inner if not isinstance(inner, (dict, list)) else repr(inner)


def _compare(op: str, left: Any, right: Any) -> bool:
    a, b = _key(left), _key(right)
    if op == "=":
        return a is not None and a == b
    if op == "<>":
        return a is not None and a != b  # a missing attribute compares false, <> included
    if a is None or b is None or a[0] != b[0] or a[0] not in {"S", "N", "B"}:
        return False
    return {"<": a[1] < b[1], "<=": a[1] <= b[1], ">": a[1] > b[1], ">=": a[1] >= b[1]}[op]


def holds(tree: tuple, ctx: Context) -> bool:
    kind = tree[0]
    if kind == "and":
        return holds(tree[1], ctx) and holds(tree[2], ctx)
    if kind == "or":
        return holds(tree[1], ctx) or holds(tree[2], ctx)
    if kind == "not":
        return not holds(tree[1], ctx)
    if kind == "cmp":
        return _compare(tree[1], ctx.get(tree[2]), ctx.get(tree[3]))
    if kind == "in":
        left = ctx.get(tree[1])
        return any(_compare("=", left, ctx.get(option)) for option in tree[2])
    if kind == "between":
        value = ctx.get(tree[1])
        return _compare(">=", value, ctx.get(tree[2])) and _compare("<=", value, ctx.get(tree[3]))
    if kind == "call":
        name, args = tree[1], tree[2]
        if name == "attribute_exists":
            return ctx.get(args[0]) is not None
        if name == "attribute_not_exists":
            return ctx.get(args[0]) is None
        container, needle = ctx.get(args[0]), ctx.get(args[1])
        if container is None or needle is None:
            return False
        ((tag, inner),) = container.items()
        ((_, wanted),) = needle.items()
        if name == "contains":
            return wanted in inner if tag in {"SS", "NS", "S"} else needle in inner
        return tag == "S" and inner.startswith(wanted)
    raise NotImplementedError(kind)


def _value(tree: tuple, ctx: Context) -> Any:
    kind = tree[0]
    if kind in {"value", "path", "size"}:
        value = ctx.get(tree)
        if value is None:
            raise ValidationError("The provided expression refers to an attribute that does not exist in the item")
        return value
    if kind == "if_not_exists":
        current = ctx.get(tree[1])
        return current if current is not None else _value(tree[2], ctx)
    if kind == "list_append":
        return {"L": _value(tree[1], ctx)["L"] + _value(tree[2], ctx)["L"]}
    if kind == "arith":
        a, b = _value(tree[2], ctx), _value(tree[3], ctx)
        if "N" not in a or "N" not in b:
            raise ValidationError("An operand in the update expression has an incorrect data type")
        total = Decimal(a["N"]) + Decimal(b["N"]) if tree[1] == "+" else Decimal(a["N"]) - Decimal(b["N"])
        return {"N": str(total)}
    raise NotImplementedError(kind)


def apply_update(actions: list[tuple], ctx: Context) -> Item:
    """The item after the update (a new dict; every operand read from the item as it was)."""
    new = dict(ctx.item)
    for action in actions:
        name = ctx.name(action[1][1])
        if action[0] == "set":
            new[name] = _value(action[2], ctx)
        elif action[0] == "remove":
            new.pop(name, None)
        else:
            operand = ctx.get(action[2])
            current = new.get(name)
            if current is not None and set(current) != set(operand):
                raise ValidationError("An operand in the update expression has an incorrect data type")
            if "N" in operand:
                base = Decimal(current["N"]) if current else Decimal(0)
                delta = Decimal(operand["N"]) * (1 if action[0] == "add" else -1)
                new[name] = {"N": str(base + delta)}
                continue
            ((tag, members),) = operand.items()
            have = set(current[tag]) if current else set()
            have = have | set(members) if action[0] == "add" else have - set(members)
            if have:
                new[name] = {tag: sorted(have)}
            else:
                new.pop(name, None)
    return new
