"""scripts/capacity.py refuses what is not a rate with a usage line, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests import cfn


@pytest.mark.parametrize("arg", ["abc", "0", "-5", "nan", "inf"])
def test_what_is_not_a_rate_is_one_line_not_a_traceback(arg):
    done = subprocess.run(
        [sys.executable, str(cfn.ROOT / "scripts" / "capacity.py"), arg], capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    assert done.stderr == f"capacity.py: {arg!r} is not a rate: give tasks per second, e.g. 1000 10000\n"


def test_a_rate_is_planned():
    done = subprocess.run(
        [sys.executable, str(cfn.ROOT / "scripts" / "capacity.py"), "250"], capture_output=True, text=True, check=True
    )
    assert "== 250 tasks/s" in done.stdout
