"""Webhook receivers: resolving their names, and posting to the very address that was checked.

The connection goes to an address tasklane.destinations.check has judged, never to the name again, so a
DNS answer that changes between the check and the connection (rebinding) cannot move it; TLS still
verifies the certificate for the name and sends it as SNI. Redirects are never followed (http.client
does not), and the answer's body is not read beyond its status.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
from functools import cache
from ipaddress import ip_address

from tasklane.destinations.addresses import IPAddress
from tasklane.destinations.urls import CallbackTarget
from tasklane.limits import (
    WEBHOOK_CONNECT_TIMEOUT_SECONDS,
    WEBHOOK_READ_TIMEOUT_SECONDS,
    WEBHOOK_TOTAL_TIMEOUT_SECONDS,
)
from tasklane.records import record

CONNECT_TIMEOUT_SECONDS = WEBHOOK_CONNECT_TIMEOUT_SECONDS
READ_TIMEOUT_SECONDS = WEBHOOK_READ_TIMEOUT_SECONDS
TOTAL_TIMEOUT_SECONDS = WEBHOOK_TOTAL_TIMEOUT_SECONDS
_ERROR_CHARS = 200


class NameNotResolved(Exception):
    """The receiver's name has no address; `lasting` when DNS said so (not a passing failure)."""

    def __init__(self, host: str, lasting: bool) -> None:
        super().__init__(f"{host} does not resolve" if lasting else f"{host} could not be resolved now")
        self.lasting = lasting


class ReceiverUnreachable(Exception):
    """No HTTP answer came back: refused, timed out, TLS failed, or the answer was not HTTP."""


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (IPv4 and IPv6), in the resolver's order, without repeats."""
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise NameNotResolved(
            host, lasting=exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", -5))
        ) from None
    except (UnicodeError, OSError):
        raise NameNotResolved(host, lasting=True) from None
    found: dict[IPAddress, None] = {}
    for _family, _type, _proto, _name, sockaddr in answers:
        found[ip_address(str(sockaddr[0]).split("%", 1)[0])] = None
    if not found:
        raise NameNotResolved(host, lasting=True)
    return list(found)


@record
class Post:
    """One webhook request: where it goes (the checked address), and what it carries."""

    target: CallbackTarget
    address: IPAddress
    body: bytes
    headers: dict[str, str]


def post(request: Post) -> int:
    """Send the request; the receiver's HTTP status, or ReceiverUnreachable. The whole call, however
    the receiver paces its bytes, ends within TOTAL_TIMEOUT_SECONDS: its socket is shut then."""
    target = request.target
    connection: _PinnedHTTP | _PinnedHTTPS
    if target.scheme == "https":
        connection = _PinnedHTTPS(target.host, target.port, request.address, _tls())
    else:
        connection = _PinnedHTTP(target.host, target.port, request.address)
    cut = threading.Event()
    deadline = threading.Timer(TOTAL_TIMEOUT_SECONDS, _cut, args=(connection.opened, cut))
    deadline.daemon = True
    deadline.start()
    try:
        connection.request("POST", target.target, body=request.body, headers=request.headers)
        return connection.getresponse().status
    except (OSError, http.client.HTTPException) as exc:
        if cut.is_set():
            raise ReceiverUnreachable(f"no answer within {TOTAL_TIMEOUT_SECONDS} s (the whole call)") from None
        raise ReceiverUnreachable(f"{type(exc).__name__}: {exc}"[:_ERROR_CHARS]) from None
    finally:
        deadline.cancel()
        connection.close()


def _cut(opened: list[socket.socket], cut: threading.Event) -> None:
    """The call's deadline came: shut its socket, so that whatever waits on it returns now."""
    cut.set()
    for sock in opened:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


@cache
def _tls() -> ssl.SSLContext:
    return ssl.create_default_context()  # verifies the certificate and the host name


def _open(address: IPAddress, port: int, opened: list[socket.socket]) -> socket.socket:
    sock = socket.create_connection((str(address), port), timeout=CONNECT_TIMEOUT_SECONDS)
    sock.settimeout(READ_TIMEOUT_SECONDS)
    opened.append(sock)  # the deadline can shut it from now on, TLS handshake included
    return sock


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: IPAddress) -> None:
        super().__init__(host, port, timeout=CONNECT_TIMEOUT_SECONDS)
        self._address = address
        self.opened: list[socket.socket] = []

    def connect(self) -> None:
        self.sock = _open(self._address, self.port, self.opened)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: IPAddress, context: ssl.SSLContext) -> None:
        super().__init__(host, port, timeout=CONNECT_TIMEOUT_SECONDS, context=context)
        self._address = address
        self._tls_context = context
        self.opened: list[socket.socket] = []

    def connect(self) -> None:
        raw = _open(self._address, self.port, self.opened)
        self.sock = self._tls_context.wrap_socket(raw, server_hostname=self.host)


@record
class Answer:
    """A url target's answer: its status, its headers (lower-case names) and its body, read up to a cap."""

    status: int
    headers: dict[str, str]
    body: bytes
    truncated: bool  # the body went on past the cap


class CallTimedOut(ReceiverUnreachable):
    """No whole answer by the call's deadline."""


def exchange(request: Post, deadline: float, max_body: int) -> Answer:
    """POST and read the answer: the whole call (connect, send, headers, body) ends by `deadline`
    (time.monotonic()), not each read; at most `max_body` bytes of the body are read."""
    import time

    def left() -> float:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise CallTimedOut("no answer within the task's timeout")
        return remaining

    target = request.target
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = _PinnedHTTPS(target.host, target.port, request.address, _tls())
    else:
        connection = _PinnedHTTP(target.host, target.port, request.address)
    connection.timeout = min(CONNECT_TIMEOUT_SECONDS, left())
    try:
        connection.connect()
        # Kept: the connection lets go of its socket once the answer says it will close, the answer not.
        sock = connection.sock
        sock.settimeout(left())
        connection.request("POST", target.target, body=request.body, headers=request.headers)
        sock.settimeout(left())
        answer = connection.getresponse()
        chunks, size = [], 0
        while size <= max_body and not answer.isclosed():  # closed: the whole body is read
            sock.settimeout(left())
            chunk = answer.read(min(65536, max_body + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        body = b"".join(chunks)
        headers = {name.lower(): value for name, value in answer.getheaders()}
        return Answer(answer.status, headers, body[:max_body], truncated=size > max_body)
    except TimeoutError:
        raise CallTimedOut("no answer within the task's timeout") from None
    except (OSError, http.client.HTTPException) as exc:
        raise ReceiverUnreachable(f"{type(exc).__name__}: {exc}"[:_ERROR_CHARS]) from None
    finally:
        connection.close()
