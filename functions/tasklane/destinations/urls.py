"""A callback URL: the rules it must meet as written, and where it points.

Pure: the URL is judged here as written (scheme, length, credentials, an address written as the
host); the addresses a name resolves to are judged by tasklane.destinations.check with the same rules
(tasklane.destinations.addresses), at submission and again at every delivery.
"""

from __future__ import annotations

from ipaddress import ip_address
from urllib.parse import urlsplit

from tasklane.destinations.addresses import LOOPBACK_ALLOWED, IPAddress, refusal
from tasklane.limits import MAX_CALLBACK_URL_CHARS
from tasklane.records import record

_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-.")


@record(slots=True)
class CallbackTarget:
    """Where a callback URL points: what a connection needs, and the request line's target."""

    url: str
    scheme: str
    host: str  # lower-case; an IPv6 address without its brackets
    port: int
    target: str  # path and query, as sent in the request line
    literal: IPAddress | None  # the host, when it is written as an address

    @property
    def loopback_only(self) -> bool:
        """Whether this is the one loopback destination a local stack may open."""
        return self.literal == LOOPBACK_ALLOWED


class CallbackUrl(str):
    """A callback URL as written (it is the text), carrying where it points: parsed once, when a request
    is validated, with loopback allowed; the submission judges loopback (and the closed port) for its
    deployment."""

    target: CallbackTarget

    @classmethod
    def parse(cls, url: str) -> CallbackUrl:
        """The URL with its target, or ValueError saying what is wrong as written."""
        checked = cls(url)
        checked.target = parse_target(url, allow_loopback=True)
        return checked


def parse_target(url: str, *, allow_loopback: bool, closed_port: int | None = None) -> CallbackTarget:
    """The destination of a callback URL, or ValueError saying what is wrong (no name is resolved here).
    `closed_port`: a loopback port refused even where the loopback is allowed (the local stack's own API)."""
    if len(url) > MAX_CALLBACK_URL_CHARS:
        raise ValueError(f"must be at most {MAX_CALLBACK_URL_CHARS} characters")
    if not url.isascii() or any(c <= " " or c == "\x7f" for c in url):
        raise ValueError("must be ASCII without spaces or control characters (percent-encode the rest)")
    try:
        parts = urlsplit(url)
        port_written = parts.port
    except ValueError:
        raise ValueError("is not a valid URL") from None
    if port_written == 0:
        raise ValueError("is not a valid URL (port 0)")
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise ValueError("must be an https URL")
    if "@" in parts.netloc:
        raise ValueError("must not carry credentials")
    host = (parts.hostname or "").lower()
    if not host:
        raise ValueError("must name a host")
    literal = _address(host)
    opened = allow_loopback and literal == LOOPBACK_ALLOWED
    if literal is not None and not opened and (why := refusal(literal)):
        raise ValueError(f"must not point at {why}")
    if scheme == "http" and not opened:
        raise ValueError("must be an https URL")
    if literal is None and (len(host) > 253 or not set(host) <= _HOST_CHARS or ".." in host or host[0] in ".-"):
        raise ValueError("names an invalid host")
    port = port_written or (443 if scheme == "https" else 80)
    if opened and port == closed_port:
        raise ValueError(f"must not point at the local stack's own API (port {port})")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return CallbackTarget(url, scheme, host, port, target, literal)


def _address(host: str) -> IPAddress | None:
    if "%" in host:  # an IPv6 zone (fe80::1%eth0) names an interface of this machine; or an encoded name
        raise ValueError("must not have '%' in its host (an IPv6 zone, or a percent-encoded name)")
    try:
        return ip_address(host)
    except ValueError:
        return None
