"""The soak's webhook receiver on 127.0.0.1: it fails some calls with a 5xx, tarpits some, and keeps
every call it got, so that the soak can tell whether each finished task's webhook was delivered,
signed with its owner's secret, and how long a tarpit held tasklane's call.

What a call gets is decided by the task and how many calls for it came before (a digest, not the
clock), so a run is reproducible: a first call is answered 500/502/503 one time in five and tarpitted
one time in ten, a second call answered 503 one time in ten, every later call 200.

The tarpit holds the connection past any webhook deadline: it reads the request, then paces an
answer's bytes one a second (under any per-read timeout) for TARPIT_SECONDS, and ends it with a 503
if the caller is still there: a tarpitted call is never a delivery. How long the caller stayed
connected is what it measures.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import json
import select
import socket
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

TARPIT_SECONDS = 25.0  # past the per-read timeout (10 s) and the total deadline of a call (15 s)
FAILURE_CODES = (500, 502, 503)
DELIVERED = "delivered"


@dataclass(frozen=True)
class Call:
    """One POST the receiver got: for which task and status, whether its signature held, what it got."""

    task_id: str
    status: str  # the task's status the body tells
    signed: bool  # Tasklane-Signature verified with the owner's secret when it arrived
    answer: str  # "delivered" (a 2xx), a 5xx code, or "tarpit"
    held: float  # seconds from the request's arrival until the answer or the caller's hang-up


def reaction(task_id: str, call: int) -> str:
    """What the call number `call` (1, 2, ...) for this task gets: a code or "tarpit"."""
    share = int.from_bytes(hashlib.sha256(f"{task_id}:{call}".encode()).digest()[:4], "big") / 2**32
    if call == 1 and share < 0.2:
        return str(FAILURE_CODES[int(share * 100) % len(FAILURE_CODES)])
    if call == 1 and share < 0.3:
        return "tarpit"
    if call == 2 and share < 0.1:
        return "503"
    return "200"


class Receiver:
    """A threaded HTTP server on 127.0.0.1 with the calls it got, by task."""

    def __init__(self, verify: Callable[[str | None, bytes], bool]) -> None:
        self.verify = verify
        self.calls: dict[str, list[Call]] = defaultdict(list)
        self.unreadable = 0
        self._lock = threading.Lock()
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks/soak"

    def __enter__(self) -> Receiver:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                arrived = time.monotonic()
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    task = json.loads(body)["task"]
                    task_id, status = str(task["task_id"]), str(task["status"])
                except (ValueError, KeyError, TypeError):
                    with receiver._lock:
                        receiver.unreadable += 1
                    self.send_response(400)
                    self.end_headers()
                    return
                signed = receiver.verify(self.headers.get("Tasklane-Signature"), body)
                with receiver._lock:  # kept before it is answered: the caller may act on the answer at once
                    answer = reaction(task_id, len(receiver.calls[task_id]) + 1)
                    kept = DELIVERED if answer == "200" else answer
                    receiver.calls[task_id].append(Call(task_id, status, signed, kept, time.monotonic() - arrived))
                    index = len(receiver.calls[task_id]) - 1
                if answer != "tarpit":
                    self.send_response(int(answer))
                    self.end_headers()
                    return
                held = tarpit(self.connection, arrived)
                with receiver._lock:
                    receiver.calls[task_id][index] = Call(task_id, status, signed, answer, held)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def delivered(self, task_id: str, status: str) -> bool:
        """Whether a call telling this status of the task was answered 2xx, signed."""
        with self._lock:
            return any(c.answer == DELIVERED and c.status == status and c.signed for c in self.calls[task_id])

    def figures(self, finished: dict[str, str]) -> WebhookFigures:
        """The figures of the webhooks of these tasks (task id -> its final status)."""
        with self._lock:
            calls = [c for task_id in finished for c in self.calls.get(task_id, [])]
            undelivered = sorted(t for t, status in finished.items() if not self._delivered_locked(t, status))
            unsigned = sorted({c.task_id for c in calls if not c.signed})
            stray = sorted(set(self.calls) - set(finished))
            unreadable = self.unreadable
        answers = Counter(c.answer for c in calls)
        tarpitted = [c.held for c in calls if c.answer == "tarpit"]
        return WebhookFigures(
            tasks=len(finished),
            by_status=dict(Counter(finished.values())),
            calls=len(calls),
            answers=dict(answers),
            undelivered=undelivered,
            unsigned=unsigned,
            delivered_more_than_once=sum(1 for t in finished if self._delivery_count(t) > 1),
            longest_tarpit_hold=max(tarpitted, default=0.0),
            stray=stray,
            unreadable=unreadable,
        )

    def _delivered_locked(self, task_id: str, status: str) -> bool:
        return any(c.answer == DELIVERED and c.status == status and c.signed for c in self.calls.get(task_id, []))

    def _delivery_count(self, task_id: str) -> int:
        return sum(1 for c in self.calls.get(task_id, []) if c.answer == DELIVERED)


def tarpit(connection: socket.socket, arrived: float) -> float:
    """Pace a 503's bytes one a second for TARPIT_SECONDS, then finish it; the seconds the caller stayed."""
    head = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n"
    paced, rest = head[:-4], head[-4:]
    sent = 0
    while time.monotonic() - arrived < TARPIT_SECONDS and sent < len(paced):
        readable, _, _ = select.select([connection], [], [], 1.0)
        if readable and _hung_up(connection):
            return time.monotonic() - arrived
        try:
            connection.sendall(paced[sent : sent + 1])
        except OSError:
            return time.monotonic() - arrived
        sent += 1
    with contextlib.suppress(OSError):
        connection.sendall(paced[sent:] + rest)
    return time.monotonic() - arrived


def _hung_up(connection: socket.socket) -> bool:
    try:
        return connection.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


@dataclass(frozen=True)
class WebhookFigures:
    tasks: int
    by_status: dict[str, int]
    calls: int
    answers: dict[str, int]
    undelivered: list[str]
    unsigned: list[str]
    delivered_more_than_once: int
    longest_tarpit_hold: float
    stray: list[str]  # calls for tasks that asked for no webhook
    unreadable: int

    def problems(self, deadline: float) -> list[str]:
        """What the soak fails on: a webhook never delivered, a bad signature, a call for a task that
        named no callback, a body the receiver could not read, a call held past `deadline` seconds."""
        found = [f"webhook never delivered: {t}" for t in self.undelivered[:5]]
        found += [f"webhook signature did not verify: {t}" for t in self.unsigned[:5]]
        found += [f"webhook for a task without a callback: {t}" for t in self.stray[:5]]
        if self.unreadable:
            found.append(f"{self.unreadable} webhook bodies without a task")
        if self.longest_tarpit_hold > deadline:
            found.append(f"a tarpit held a webhook call {self.longest_tarpit_hold:.1f} s (deadline {deadline:.1f} s)")
        return found


def waiting(receiver: Receiver, finished: Iterable[tuple[str, str]]) -> list[str]:
    """The tasks, among these finished ones (id, status), whose webhook has not been delivered yet."""
    return [t for t, status in finished if not receiver.delivered(t, status)]
