"""The garbage collector over a cold start.

A function's cold start imports about a thousand modules once. The collector's passes over them
during that import free next to nothing (a few hundred objects: modules, classes and functions live
as long as the container) and cost 25 to 40 ms of CPU, about a tenth of the init (docs/scaling.md). So
it pauses while a function loads (tasklane.handlers, the first module a function imports), and its
first invocation freezes what the import made, so that no later pass walks it again (`gc.freeze`),
and turns it back on (tasklane.observability.metered, around every handler).
"""

from __future__ import annotations

import gc


def pause_collection() -> None:
    gc.disable()


def resume_collection() -> None:
    """Once per container: the import's objects out of every later pass, the collector on again."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()
