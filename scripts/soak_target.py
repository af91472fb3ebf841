"""The soak's url target: a task type of the soak's caller whose target is a receiver on 127.0.0.1.

The target answers a first call of a task 503 one time in four (the attempt fails and comes back after
its backoff) and every other call 200 with {"task_id", "attempt"}, which becomes the task's result.
The check: every such task completed with the answer of its last attempt, every call signed with the
owner's secret, and no task answered 200 twice (a second run of finished work) unless the soak saw
its outcome write given up.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def target_reaction(task_id: str, call: int) -> int:
    share = int.from_bytes(hashlib.sha256(f"target:{task_id}:{call}".encode()).digest()[:4], "big") / 2**32
    return 503 if call == 1 and share < 0.25 else 200


class Target:
    """The target's server and the calls it got: task id -> [(attempt, answer, signed)]."""

    def __init__(self, verify: Callable[[str | None, bytes], bool]) -> None:
        self.verify = verify
        self.calls: dict[str, list[tuple[int, int, bool]]] = defaultdict(list)
        self._lock = threading.Lock()
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/run"
        self.name = f"soak-target-{uuid.uuid4().hex[:8]}"

    def __enter__(self) -> Target:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def register(self, api: Any) -> None:
        body = {"target": {"url": self.url}, "payload_schema": {"type": "object"}, "timeout_seconds": 20}
        answer = api.request("PUT", f"/task-types/{self.name}", json={**body, "max_attempts": 4})
        if answer.status_code != 201:
            raise RuntimeError(f"PUT /task-types/{self.name} answered {answer.status_code}: {answer.text}")

    def remove(self, api: Any) -> None:
        api.request("DELETE", f"/task-types/{self.name}")

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        target = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                envelope = json.loads(body)
                task_id, attempt = str(envelope["task_id"]), int(envelope["attempt"])
                signed = target.verify(self.headers.get("Tasklane-Signature"), body)
                with target._lock:
                    code = target_reaction(task_id, len(target.calls[task_id]) + 1)
                    target.calls[task_id].append((attempt, code, signed))
                answer = json.dumps({"task_id": task_id, "attempt": attempt}).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def figures(self, shown: dict[str, dict[str, Any]], given_up: set[str]) -> TargetFigures:
        """The figures of these url-target tasks (their views, by id)."""
        with self._lock:
            calls = {t: list(self.calls.get(t, [])) for t in shown}
        wrong = [
            t
            for t, task in shown.items()
            if task.get("status") != "completed"
            or task.get("result") != {"task_id": t, "attempt": task.get("attempts")}
        ]
        twice = [t for t, c in calls.items() if sum(code == 200 for _, code, _ in c) > 1 and t not in given_up]
        return TargetFigures(
            tasks=len(shown),
            calls=sum(len(c) for c in calls.values()),
            answers=dict(Counter(str(code) for c in calls.values() for _, code, _ in c)),
            wrong=wrong,
            unsigned=[t for t, c in calls.items() if not all(s for _, _, s in c)],
            answered_twice=twice,
        )


@dataclass(frozen=True)
class TargetFigures:
    tasks: int
    calls: int
    answers: dict[str, int]
    wrong: list[str]  # not completed with the answer of its last attempt
    unsigned: list[str]
    answered_twice: list[str]

    def problems(self) -> list[str]:
        found = [f"url-target task without its answer as result: {t}" for t in self.wrong[:5]]
        found += [f"url-target call not signed: {t}" for t in self.unsigned[:5]]
        return found + [f"url-target task run to a 200 twice: {t}" for t in self.answered_twice[:5]]
