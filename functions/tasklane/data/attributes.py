"""DynamoDB attribute values, as every table's module writes them."""

from __future__ import annotations


def s_attr(value: str) -> dict[str, str]:
    """A string attribute value."""
    return {"S": value}


def n_attr(value: float) -> dict[str, str]:
    """A number attribute value."""
    return {"N": str(value)}
