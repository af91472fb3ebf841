"""The peer: the same 1,000 no-op tasks end to end through Celery + Redis on this machine.

Redis comes from Debian's packages and Celery from PyPI, into a virtualenv of its own; both are used
by this benchmark only, and it starts and stops them itself. tasklane's figure comes from the local
stack, which runs on an emulator (ministack), so the ratio compares a broker on bare metal with a
whole emulated AWS account doing the same work."""

from __future__ import annotations

import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEER_VENV = ROOT / ".venv-peer"
PORT = 6390
TASKS = 1000
RUNS = 3  # bench.local_stack.THROUGHPUT_RUNS

WORKER_MODULE = f"""
from celery import Celery

app = Celery("peer", broker="redis://127.0.0.1:{PORT}/0", backend="redis://127.0.0.1:{PORT}/1")
app.conf.update(worker_prefetch_multiplier=4, task_acks_late=True, result_expires=600)


@app.task
def echo(payload):
    return payload
"""

CLIENT = f"""
import time
from peer_tasks import echo
t0 = time.monotonic()
results = [echo.delay({{"i": i}}) for i in range({TASKS})]
for r in results:
    r.get(timeout=300)
print(time.monotonic() - t0)
"""


def _redis() -> str | None:
    """redis-server from this machine, else installed from the system's packages (said first);
    None, with the reason printed, where it cannot be."""
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if found:
        return found
    if not shutil.which("apt-get") or os.geteuid() != 0:
        print("peer: skipped: redis-server is not installed and cannot be (needs root and apt-get)", file=sys.stderr)
        return None
    print("peer: installing redis-server from the system's packages (apt-get install redis-server)", file=sys.stderr)
    try:
        subprocess.run(["apt-get", "update", "-qq"], check=True)  # noqa: S607
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "redis-server"],  # noqa: S607
            check=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
    except subprocess.CalledProcessError as exc:
        print(f"peer: skipped: installing redis-server failed ({exc})", file=sys.stderr)
        return None
    return "/usr/bin/redis-server"


def _celery_python() -> str:
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)  # noqa: S603
        subprocess.run([str(python), "-m", "pip", "install", "-q", "celery[redis]==5.5.3"], check=True)  # noqa: S603
    return str(python)


def measure() -> list[dict[str, object]]:
    redis_bin = _redis()
    if redis_bin is None:
        return []
    python = _celery_python()
    work = Path(tempfile.mkdtemp(prefix="tasklane-peer-"))
    (work / "peer_tasks.py").write_text(WORKER_MODULE)
    env = {**os.environ, "PYTHONPATH": str(work)}
    redis = subprocess.Popen(  # noqa: S603
        [redis_bin, "--port", str(PORT), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    worker = subprocess.Popen(  # noqa: S603
        [python, "-m", "celery", "-A", "peer_tasks", "worker", "-c", "2", "--without-gossip", "--without-mingle",
         "--without-heartbeat", "-l", "WARNING"],
        cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        time.sleep(4)  # the worker connects

        def run() -> float:
            command = [python, "-c", CLIENT]
            return float(subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, check=True).stdout)  # noqa: S603

        run()  # warm, as tasklane's stack is warmed before its runs
        elapsed = statistics.median(run() for _ in range(RUNS))  # as many runs as tasklane's, the median
    finally:
        for process in (worker, redis):
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    return [
        {
            "figure": "peer: 1,000 no-op tasks end to end, Celery + Redis (2 workers, this machine; median of 3)",
            "tasklane": None,
            "reference": round(TASKS / elapsed, 1),
            "unit": "tasks/s",
        }
    ]


if __name__ == "__main__":
    for row in measure():
        print(row)
