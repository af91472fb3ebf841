"""tasklane's records: dataclasses whose fields never change once made.

A record is immutable where it is checked: mypy (strict, on every module of the functions, in `make
lint`) refuses any assignment to a record's field, as it does for `@record`, because
`record` is declared a dataclass transform that is frozen by default (PEP 681). At run time it is a
plain dataclass: `frozen=True` writes and compiles a guard (`__setattr__`, `__delattr__`, `__hash__`)
for each class and makes every `__init__` set its fields through `object.__setattr__`: for the 40
classes a processor defined on its first task of a registered type, 23.2 ms of CPU against 14.7 as
records (docs/scaling.md). A record has no hash (eq without frozen): none is a set member or a dict
key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, dataclass_transform, overload


@overload
def record[C: type[Any]](cls: C, /) -> C: ...


@overload
def record[C: type[Any]](*, slots: bool = False, kw_only: bool = False) -> Callable[[C], C]: ...


@dataclass_transform(frozen_default=True)
def record(cls: Any = None, /, *, slots: bool = False, kw_only: bool = False) -> Any:
    """`@record` or `@record(slots=True, kw_only=True)`: a dataclass mypy holds frozen."""

    def make(c: type[Any]) -> type[Any]:
        return dataclass(c, slots=slots, kw_only=kw_only)

    return make if cls is None else make(cls)
