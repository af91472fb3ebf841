"""DynamoDB capacity units measured on moto, not classified by hand: every write the functions make
is bracketed by reads of the item it touches (with a client of the meter's own, not counted), and
its write units follow DynamoDB's rules for tables and global secondary indexes:

- the table: one unit per KB of the larger of the item before and after (a transaction bills twice);
- each index: nothing when the item is in it neither before nor after; one to enter or to leave; in
  it before and after, two when its key changed (a delete and a put), one when only an attribute it
  projects changed, none otherwise (each per KB of the projected item, which here is under 1 KB).

Reads: a strongly consistent read of up to 4 KB is one unit, an eventually consistent one half; a
Query or BatchGetItem is billed on the bytes it returns, per table, as one read of their sum."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

WRITES = ("PutItem", "UpdateItem", "DeleteItem")


def item_size(item: dict[str, Any] | None) -> int:
    """Bytes DynamoDB counts for an item: names plus values (numbers roughly one byte per two digits)."""
    return sum(len(name.encode()) + _value_size(value) for name, value in (item or {}).items())


def _value_size(value: dict[str, Any]) -> int:
    ((kind, data),) = value.items()
    sizes = {
        "S": lambda: len(data.encode()),
        "N": lambda: len(data) // 2 + 1,
        "B": lambda: len(data),
        "M": lambda: 3 + item_size(data),
        "L": lambda: 3 + sum(1 + _value_size(v) for v in data),
        "SS": lambda: sum(len(str(v)) for v in data),
        "NS": lambda: sum(len(str(v)) for v in data),
        "BS": lambda: sum(len(v) for v in data),
    }
    return sizes[kind]() if kind in sizes else 1  # BOOL, NULL


class CapacityMeter:
    """Counts write and read units of one boto3 DynamoDB client's calls (register it on the client)."""

    def __init__(self, plain_client: Any) -> None:
        self._db = plain_client  # not hooked: its reads are the meter's, not the functions'
        self._tables: dict[str, dict[str, Any]] = {}
        self._pending: list[list[tuple[str, dict[str, Any], dict[str, Any] | None, int]]] = []
        self.units: Counter[str] = Counter()  # "write", "read", and "write:<table>/<index>" for detail

    def register(self, client: Any) -> None:
        client.meta.events.register("before-parameter-build.dynamodb", self._before)
        client.meta.events.register("after-call.dynamodb", self._after)

    def _schema(self, table: str) -> dict[str, Any]:
        if table not in self._tables:
            described = self._db.describe_table(TableName=table)["Table"]
            self._tables[table] = {
                "key": [k["AttributeName"] for k in described["KeySchema"]],
                "indexes": {
                    gsi["IndexName"]: (
                        [k["AttributeName"] for k in gsi["KeySchema"]],
                        gsi["Projection"]["ProjectionType"],
                        set(gsi["Projection"].get("NonKeyAttributes", [])),
                    )
                    for gsi in described.get("GlobalSecondaryIndexes", [])
                },
            }
        return self._tables[table]

    def _current(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self._db.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
        return found

    def _writes(self, operation: str, params: dict[str, Any]) -> list[tuple[str, dict[str, Any], int]]:
        """(table, key, bill multiplier) of each item a write request touches."""
        if operation in WRITES:
            table = params["TableName"]
            key = params.get("Key") or {k: params["Item"][k] for k in self._schema(table)["key"]}
            return [(table, key, 1)]
        if operation == "TransactWriteItems":
            found = []
            for entry in params["TransactItems"]:
                ((kind, body),) = entry.items()
                if kind == "ConditionCheck":
                    continue
                table = body["TableName"]
                key = body.get("Key") or {k: body["Item"][k] for k in self._schema(table)["key"]}
                found.append((table, key, 2))
            return found
        return []

    def _before(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        touched = self._writes(model.name, params)
        self._pending.append([(t, k, self._current(t, k), m) for t, k, m in touched])
        if model.name == "GetItem":
            self.units["read"] += 1.0 if params.get("ConsistentRead") else 0.5

    def _after(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        touched = self._pending.pop() if self._pending else []
        for table, key, before, multiplier in touched:
            after = self._current(table, key)
            self._bill(table, before, after, multiplier)
        if model.name == "Query":
            self.units["read"] += 0.5 * max(1, math.ceil(sum(item_size(i) for i in parsed.get("Items", [])) / 4096))
        if model.name == "BatchGetItem":
            for items in parsed.get("Responses", {}).values():
                self.units["read"] += 0.5 * max(1, math.ceil(sum(item_size(i) for i in items) / 4096))

    def _bill(self, table: str, before: dict[str, Any] | None, after: dict[str, Any] | None, times: int) -> None:
        base = times * max(1, math.ceil(max(item_size(before), item_size(after)) / 1024))
        self.units["write"] += base
        self.units[f"write:{table.rsplit('-', 1)[0]}"] += base
        for name, (keys, projection, included) in self._schema(table)["indexes"].items():
            units = times * index_units(keys, projection, included, before, after)
            self.units["write"] += units
            if units:
                self.units[f"write:index {name}"] += units


def index_units(
    keys: list[str], projection: str, included: set[str], before: dict[str, Any] | None, after: dict[str, Any] | None
) -> int:
    """Write units one item change costs an index (an item under 1 KB)."""
    was = before is not None and all(k in before for k in keys)
    now = after is not None and all(k in after for k in keys)
    if not was and not now:
        return 0
    if was != now:
        return 1
    assert before is not None
    assert after is not None
    if any(before[k] != after[k] for k in keys):
        return 2
    watched = {"ALL": set(before) | set(after), "INCLUDE": included}.get(projection, set())
    return 1 if any(before.get(a) != after.get(a) for a in watched) else 0
