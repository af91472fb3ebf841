"""Latency a url target adds, on the local stack (the emulator on this machine, not AWS): tasks of a
registered url type (a receiver on 127.0.0.1 answering its payload) against the built-in `echo`,
submitted one at a time and interleaved (echo, url, url, echo, ...) so that both see the same
machine. Each task's submit -> completed is read from its own timestamps (created_at ->
finished_at, the functions' clock), so the harness's polling adds nothing; started -> finished (the
run itself) too. bench/local_stack.py calls latency_rows() on its stack; `python
bench/target_latency.py` starts (and deploys) one when none runs."""

from __future__ import annotations

import json
import sys
import threading
import uuid
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAIRS = 20  # tasks of each kind
SCHEMA = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
NOTE = "local stack (ministack emulator on this machine)"


class _Echo(BaseHTTPRequestHandler):
    """A url target answering its envelope's payload, as echo does."""

    def do_POST(self) -> None:
        envelope = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        answer = json.dumps(envelope["payload"]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        pass


def _ms(task: dict[str, Any], start: str, end: str) -> float:
    return (datetime.fromisoformat(task[end]) - datetime.fromisoformat(task[start])).total_seconds() * 1000


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def run_pairs(caller: Any, pairs: int = PAIRS) -> dict[str, dict[str, list[float]]]:
    """Per kind ("echo", "url"): "total" (submit -> completed) and "run" (started -> finished), in ms."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    name = f"bench-url-{uuid.uuid4().hex[:6]}"
    url = f"http://127.0.0.1:{server.server_address[1]}/run"
    found: dict[str, dict[str, list[float]]] = {k: {"total": [], "run": []} for k in ("echo", "url")}
    try:
        put = caller.request(
            "PUT", f"/task-types/{name}", json={"target": {"url": url}, "payload_schema": SCHEMA, "timeout_seconds": 20}
        )
        assert put.status_code == 201, put.text
        types = {"echo": "echo", "url": name}
        for kind in ("url", "echo"):  # warm: each kind's first task (the type read, the secret) is not counted
            assert caller.wait(caller.submit(types[kind], {"n": 0})["task_id"])["status"] == "completed"
        for i in range(pairs):
            order = ("echo", "url") if i % 2 == 0 else ("url", "echo")
            for kind in order:
                task = caller.wait(caller.submit(types[kind], {"n": i})["task_id"])
                assert task["status"] == "completed", task
                found[kind]["total"].append(_ms(task, "created_at", "finished_at"))
                found[kind]["run"].append(_ms(task, "started_at", "finished_at"))
        caller.request("DELETE", f"/task-types/{name}")
    finally:
        server.shutdown()
        server.server_close()
    return found


def latency_rows(caller: Any, pairs: int = PAIRS) -> list[dict[str, object]]:
    found = run_pairs(caller, pairs)
    rows: list[dict[str, object]] = []
    for span, words in (("total", "submit -> completed"), ("run", "started -> finished (the run)")):
        for label, fraction in (("p50", 0.5), ("p90", 0.9)):
            url, echo = percentile(found["url"][span], fraction), percentile(found["echo"][span], fraction)
            rows.append(
                {
                    "figure": f"{words} {label}, a url target on 127.0.0.1 vs echo, {pairs} each interleaved ({NOTE})",
                    "tasklane": round(url, 1),
                    "reference": round(echo, 1),
                    "ratio": round(url / echo, 2) if echo else None,
                    "unit": "ms",
                }
            )
    for label, fraction in (("p50", 0.5), ("p90", 0.9)):
        added = percentile(found["url"]["total"], fraction) - percentile(found["echo"]["total"], fraction)
        rows.append(
            {
                "figure": f"latency a url target adds, submit -> completed {label} ({NOTE})",
                "tasklane": round(added, 1),
                "unit": "ms",
            }
        )
    return rows


def measure() -> list[dict[str, object]]:
    import requests

    from scripts import localstack
    from tests.e2e.conftest import Caller

    started = localstack.start()
    try:
        try:
            outputs = localstack.outputs()
        except Exception:  # no stack deployed on this emulator yet
            localstack.deploy(quiet=True)
            outputs = localstack.outputs()
        return latency_rows(Caller(outputs.api_url, outputs.api_key, requests.Session()))
    finally:
        if started:
            localstack.stop()


if __name__ == "__main__":
    for row in measure():
        print(row)
