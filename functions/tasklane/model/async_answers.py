"""A target's acceptance of an async attempt, in place of a result (HTTP 202, or a Lambda's
{"tasklane": "accepted"}): the processor records it and lets the task go on outside tasklane."""

from __future__ import annotations


class Accepted:
    """The one value an accepting target's call returns."""

    def __repr__(self) -> str:
        return "ACCEPTED"


ACCEPTED = Accepted()
