"""A function loads with the garbage collector paused, and its first invocation freezes what the
import made and turns the collector back on (tasklane.coldstart). Each case runs in a fresh
interpreter, as a container starts."""

from __future__ import annotations

import os
import subprocess
import sys

from tests import cfn

CHECK = """
import gc
import tasklane.handlers.{name} as handler
assert not gc.isenabled(), "the collector runs during the import"
assert gc.get_freeze_count() == 0
from tasklane.observability import metered
metered(lambda: None)()
assert gc.isenabled(), "the first invocation left the collector off"
frozen = gc.get_freeze_count()
assert frozen > 10_000, frozen
metered(lambda: None)()
assert gc.get_freeze_count() == frozen, "a later invocation froze again"
print("ok")
"""


def _run(code: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(cfn.ROOT / "functions"), "AWS_DEFAULT_REGION": "us-east-1"}
    return subprocess.run([sys.executable, "-c", code], check=False, env=environment, capture_output=True, text=True)


def test_a_function_loads_with_the_collector_paused_until_its_first_invocation() -> None:
    for name in ("submit", "processor", "promoter"):
        done = _run(CHECK.format(name=name))
        assert done.stdout.strip() == "ok", (name, done.stderr)


def test_a_handler_raising_on_its_first_invocation_still_turns_the_collector_on() -> None:
    code = """
import gc
import tasklane.handlers.status
from tasklane.observability import metered
def broken(): raise RuntimeError("boom")
try:
    metered(broken)()
except RuntimeError:
    pass
assert gc.isenabled()
print("ok")
"""
    done = _run(code)
    assert done.stdout.strip() == "ok", done.stderr
