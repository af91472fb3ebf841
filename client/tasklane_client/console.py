"""`tasklane console`: the stack's console page on localhost, with every API call signed here.

The browser cannot sign SigV4, so this small server stands between it and the API: it fetches the
page from the stack's public /console (telling it that a proxy signs), and forwards every other
request to the API with the caller's credentials (SigV4, or the API key) added. It listens on
127.0.0.1 only, and, because it signs whatever reaches it, it answers only its own page: requests
naming another host (DNS rebinding) or sent from another origin (a web page posting to localhost)
are refused before anything is signed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from tasklane_client.auth import Auth

_AUTH_MODE = re.compile(rb'(<meta name="tasklane-auth" content=")[a-z_]*(")')
_FORWARDED_REQUEST_HEADERS = ("content-type", "accept", "idempotency-key")
_FORWARDED_ANSWER_HEADERS = (
    "content-type",
    "location",
    "cache-control",
    "content-security-policy",
    "x-content-type-options",
    "referrer-policy",
)
_MAX_BODY = 6 * 1024 * 1024  # the API's own limit on a request


class ConsoleProxy(ThreadingHTTPServer):
    """Serves the console on 127.0.0.1:`port` (0: any free port) for the API at `endpoint`."""

    daemon_threads = True

    def __init__(self, endpoint: str, auth: Auth | None, port: int = 0) -> None:
        import urllib3

        self.endpoint = endpoint.rstrip("/")
        self.auth = auth
        self.pool = urllib3.PoolManager(retries=False)
        super().__init__(("127.0.0.1", port), _Handler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/console"

    def allowed_hosts(self) -> set[str]:
        return {f"127.0.0.1:{self.port}", f"localhost:{self.port}"}

    def forward(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> Any:
        url = self.endpoint + path
        signed = dict(headers)
        # The page itself is public: it is fetched unsigned, as any browser would.
        if self.auth is not None and not _is_page(path):
            signed.update(self.auth.headers(method, url, body, signed))
        return self.pool.request(method, url, body=body, headers=signed, redirect=False, timeout=60.0)


def _is_page(path: str) -> bool:
    route = urlsplit(path).path
    return route == "/console" or route.startswith("/console/")


class _Handler(BaseHTTPRequestHandler):
    server: ConsoleProxy
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if urlsplit(self.path).path in ("", "/"):
            self._answer(302, b"", {"Location": "/console"})
            return
        self._proxy()

    def do_POST(self) -> None:
        self._proxy()

    def do_DELETE(self) -> None:
        self._proxy()

    def do_PATCH(self) -> None:  # pause and resume a schedule
        self._proxy()

    def _refusal(self) -> str | None:
        if self.headers.get("Host", "") not in self.server.allowed_hosts():
            return "unknown host"
        origin = self.headers.get("Origin")
        own = {f"http://{host}" for host in self.server.allowed_hosts()}
        if origin is not None and origin not in own:
            return "another origin"
        # Browsers send Origin with every POST and DELETE a page makes: one without it is not the page.
        if self.command != "GET" and origin is None:
            return "no origin"
        return None

    def _proxy(self) -> None:
        refusal = self._refusal()
        if refusal:
            self._answer(403, f'{{"error": {{"code": "forbidden", "message": "{refusal}"}}}}'.encode())
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            self._answer(413, b'{"error": {"code": "payload_too_large", "message": "request too large"}}')
            return
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() in _FORWARDED_REQUEST_HEADERS}
        try:
            upstream = self.server.forward(self.command, self.path, body, headers)
        except Exception as exc:  # an unreachable API or missing credentials: the page shows the message
            message = str(exc).replace('"', "'")
            self._answer(502, f'{{"error": {{"code": "proxy_error", "message": "{message}"}}}}'.encode())
            return
        data = upstream.data
        if urlsplit(self.path).path == "/console":
            data = _AUTH_MODE.sub(rb"\1proxy\2", data)
        answer_headers = {k: v for k, v in upstream.headers.items() if k.lower() in _FORWARDED_ANSWER_HEADERS}
        self._answer(upstream.status, data, answer_headers)

    def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        headers = headers or {"Content-Type": "application/json"}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the terminal stays quiet; the page shows what went wrong


def serve(proxy: ConsoleProxy, open_browser: Callable[[str], Any] | None, say: Callable[[str], Any]) -> None:
    """Serve until interrupted, after pointing the browser (when given) at the page."""
    say(f"tasklane console on {proxy.url} for {proxy.endpoint} (Ctrl-C to stop)")
    if open_browser is not None:
        open_browser(proxy.url)
    try:
        proxy.serve_forever()
    finally:
        proxy.server_close()
