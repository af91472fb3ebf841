"""Where a webhook may go: the URL's rules, then every address its name resolves to.

The submission turns a refusal into a 422 naming `callback_url` (tasklane.logic.submission.check_callback).
At delivery the same check runs on the addresses the connection will use (tasklane.destinations.receivers).
"""

from __future__ import annotations

from tasklane.destinations import receivers
from tasklane.destinations.addresses import IPAddress, refusal
from tasklane.destinations.urls import CallbackTarget, parse_target


class CallbackRefused(Exception):
    """The callback URL, or an address its name resolves to, is not one a webhook may reach."""


def destination(
    url: str, *, allow_loopback: bool, closed_port: int | None = None
) -> tuple[CallbackTarget, list[IPAddress]]:
    """The URL's target and the addresses to connect to, each checked; CallbackRefused if any is not
    allowed (a name with one private answer among public ones is refused whole), NameNotResolved if
    the name has none."""
    try:
        target = parse_target(url, allow_loopback=allow_loopback, closed_port=closed_port)
    except ValueError as exc:
        raise CallbackRefused(f"callback_url {exc}") from None
    return target, addresses(target, allow_loopback=allow_loopback, closed_port=closed_port)


def addresses(target: CallbackTarget, *, allow_loopback: bool, closed_port: int | None = None) -> list[IPAddress]:
    """The addresses a parsed target is reached at, each checked (see destination). A target parsed
    with the loopback allowed is judged here for this deployment, as parse_target would have."""
    if target.literal is not None:
        if target.loopback_only and not allow_loopback:
            raise CallbackRefused(f"callback_url must not point at {refusal(target.literal)}")
        if target.loopback_only and target.port == closed_port:
            raise CallbackRefused(f"callback_url must not point at the local stack's own API (port {target.port})")
        return [target.literal]  # judged by parse_target, 127.0.0.1 included where it is allowed
    found = receivers.resolve(target.host, target.port)
    for address in found:
        if why := refusal(address):
            raise CallbackRefused(f"callback_url host {target.host} resolves to {why}")
    return found
