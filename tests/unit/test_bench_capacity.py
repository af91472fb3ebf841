"""The benchmark's DynamoDB write units for an index follow DynamoDB's rules (bench/capacity.py): a
figure in docs/cost.md rests on them, so each rule has a case, on an index shaped like `Sweep`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.capacity import index_units, item_size

KEYS = ["sweep_shard", "sweep_at"]
INCLUDED = {"status", "lease_until"}
IN_INDEX = {"task_id": {"S": "t"}, "sweep_shard": {"S": "3"}, "sweep_at": {"N": "100"}, "status": {"S": "pending"}}
OUT = {"task_id": {"S": "t"}, "status": {"S": "completed"}}


def changed(item: dict, **values: dict) -> dict:
    return {**item, **values}


@pytest.mark.parametrize(
    ("before", "after", "units"),
    [
        (None, OUT, 0),  # never in the index (sparse)
        (OUT, changed(OUT, status={"S": "failed"}), 0),
        (None, IN_INDEX, 1),  # a put that enters
        (IN_INDEX, OUT, 1),  # leaves
        (IN_INDEX, None, 1),  # deleted
        (IN_INDEX, changed(IN_INDEX, sweep_at={"N": "160"}), 2),  # its key moved: a delete and a put
        (IN_INDEX, changed(IN_INDEX, status={"S": "processing"}), 1),  # a projected attribute
        (IN_INDEX, changed(IN_INDEX, token_1={"S": "hash"}), 0),  # an attribute it does not project
        (IN_INDEX, IN_INDEX, 0),
    ],
)
def test_an_include_index_is_written_by_its_rules(before, after, units):
    assert index_units(KEYS, "INCLUDE", INCLUDED, before, after) == units


def test_keys_only_and_all_projections():
    token = changed(IN_INDEX, token_1={"S": "hash"})
    assert index_units(KEYS, "KEYS_ONLY", set(), IN_INDEX, changed(IN_INDEX, status={"S": "x"})) == 0
    assert index_units(KEYS, "ALL", set(), IN_INDEX, token) == 1
    assert index_units(KEYS, "ALL", set(), token, IN_INDEX) == 1  # an attribute removed


def test_item_size_counts_names_and_values():
    assert item_size(None) == 0
    assert item_size({"ab": {"S": "xyz"}}) == 5
    assert item_size({"n": {"N": "12345"}}) == 1 + 3
    assert item_size({"m": {"M": {"k": {"BOOL": True}}}}) == 1 + 3 + 2
    assert item_size({"s": {"S": "é" * 600}}) > 1024  # UTF-8 bytes, not characters
