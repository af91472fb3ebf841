"""How a settings class is declared: each setting is one field naming its environment variable(s)
and its parser; the class says which functions read it. Parsing (`from_env`) and the list of
variables the template must set (`required_env`) are derived from that one declaration."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import field, fields
from typing import Any

# Where the template sets a settings class's variables (its READ_BY): Globals, which every function
# gets, or the logical id of the one function that reads them.
EVERY_FUNCTION = "Globals"


def variable(*names: str, parse: Callable[..., Any] = str, optional: bool = False) -> Any:
    """A setting read from `names` (the environment variables, given to `parse` in this order). An
    optional one is None where a variable is missing and is not required of every function."""
    return field(metadata={"env": names, "parse": parse, "optional": optional})


def from_env[S](cls: type[S], env: Mapping[str, str]) -> S:
    """The settings in `env`; KeyError naming the variable when a required one is missing."""
    values: dict[str, Any] = {}
    for setting in fields(cls):  # type: ignore[arg-type]  # a dataclass, which type[S] cannot say
        names, parse = setting.metadata["env"], setting.metadata["parse"]
        if setting.metadata["optional"] and not all(name in env for name in names):
            values[setting.name] = None
        else:
            values[setting.name] = parse(*(env[name] for name in names))
    return cls(**values)


def required_env(cls: type) -> tuple[str, ...]:
    """Every variable `from_env` requires: the template sets each where `cls.READ_BY` says."""
    return tuple(name for s in fields(cls) if not s.metadata["optional"] for name in s.metadata["env"])


def flag(text: str) -> bool:
    """A template's "true"/"false" parameter."""
    return text.lower() == "true"
