"""`tasklane console`: the stack's console page on localhost, with every API call signed here.

The browser cannot sign SigV4, so this small server stands between it and the API: it fetches the
page from the stack's public /console (telling it that a proxy signs), and forwards every other
request to the API with the caller's credentials (SigV4, or the API key) added. It listens on
127.0.0.1 only, and, because it signs whatever reaches it, it answers only its own page: requests
naming another host (DNS rebinding) or sent from another origin (a web page posting to localhost)
are refused before anything is signed. So is any request without this run's secret: it is in the
URL the command opens, traded on the first visit for a cookie only this page's requests carry
(another local process, which can forge any Origin, does not have it). A request-target that is not
a path (`@host/x` would move the call to another host) and the webhook secret's routes are never
signed: the signing secret is read with `tasklane webhooks secret`, not through a browser.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

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
        self.token = secrets.token_urlsafe(24)  # this run's secret: only who opened its URL has it
        super().__init__(("127.0.0.1", port), _Handler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        """The URL to open: the page, with this run's secret (traded for a cookie on the first visit)."""
        return f"http://127.0.0.1:{self.port}/console?token={self.token}"

    @property
    def cookie(self) -> str:
        """The cookie carrying this run's secret (one name per port: cookies are shared across ports)."""
        return f"tasklane-console-{self.port}"

    def holds_token(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())

    def allowed_hosts(self) -> set[str]:
        return {f"127.0.0.1:{self.port}", f"localhost:{self.port}"}

    def forward(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> Any:
        if _refused_target(path):
            raise ValueError(f"not a path the console may call: {path[:80]!r}")
        url = self.endpoint + path
        signed = dict(headers)
        # The page itself is public: it is fetched unsigned, as any browser would.
        if self.auth is not None and not _is_page(path):
            signed.update(self.auth.headers(method, url, body, signed))
        return self.pool.request(method, url, body=body, headers=signed, redirect=False, timeout=60.0)


def _is_page(path: str) -> bool:
    route = urlsplit(path).path
    return route == "/console" or route.startswith("/console/")


# Routes the proxy never signs: the caller's webhook signing secret, read or rotated.
_UNSIGNED_ROUTES = ("/webhooks/secret",)


def _refused_target(path: str) -> str | None:
    """Why a request-target may not be forwarded: only an origin-form path, and no secret route."""
    if not path.startswith("/") or path.startswith("//") or "\\" in path or not path.isascii():
        return "not a path"
    route = unquote(urlsplit(path).path)
    route = "/" + "/".join(part for part in route.split("/") if part not in ("", "."))
    if any(route == r or route.startswith(r + "/") for r in _UNSIGNED_ROUTES):
        return "the webhook secret is read with `tasklane webhooks secret`, not through the console"
    return None


class _Handler(BaseHTTPRequestHandler):
    server: ConsoleProxy
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path in ("", "/", "/console") and "token" in parse_qs(parts.query):
            self._enter(parse_qs(parts.query)["token"][0])
            return
        if parts.path in ("", "/"):
            self._answer(302, b"", {"Location": "/console"})
            return
        self._proxy()

    def _enter(self, token: str) -> None:
        """The URL the command opened: its secret becomes a cookie, and the page loads without it."""
        if self._host_refusal() or not self.server.holds_token(token):
            self._forbidden("not this console's URL: open the one `tasklane console` printed")
            return
        cookie = f"{self.server.cookie}={self.server.token}; Path=/; HttpOnly; SameSite=Strict"
        self._answer(302, b"", {"Location": "/console", "Set-Cookie": cookie, "Cache-Control": "no-store"})

    def do_POST(self) -> None:
        self._proxy()

    def do_DELETE(self) -> None:
        self._proxy()

    def do_PATCH(self) -> None:  # pause and resume a schedule
        self._proxy()

    def _host_refusal(self) -> str | None:
        return None if self.headers.get("Host", "") in self.server.allowed_hosts() else "unknown host"

    def _token(self) -> str | None:
        for header in self.headers.get_all("Cookie") or []:
            for pair in header.split(";"):
                name, _, value = pair.strip().partition("=")
                if name == self.server.cookie:
                    return value
        return None

    def _refusal(self) -> str | None:
        if why := self._host_refusal():
            return why
        origin = self.headers.get("Origin")
        own = {f"http://{host}" for host in self.server.allowed_hosts()}
        if origin is not None and origin not in own:
            return "another origin"
        # Browsers send Origin with every POST and DELETE a page makes: one without it is not the page.
        if self.command != "GET" and origin is None:
            return "no origin"
        if not self.server.holds_token(self._token()):
            return "no console token: open the URL `tasklane console` printed"
        return _refused_target(self.path)

    def _proxy(self) -> None:
        refusal = self._refusal()
        if refusal:
            self._forbidden(refusal)
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

    def _forbidden(self, why: str) -> None:
        self._answer(403, json.dumps({"error": {"code": "forbidden", "message": why}}).encode())

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
