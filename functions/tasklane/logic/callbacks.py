"""Where a webhook may go: the URL's rules, then every address its name resolves to.

At submission a refused URL is a 422 naming `callback_url`. A name DNS says does not exist is refused
too (almost always a typo, better told now than after a day of failed deliveries); a name that could
not be resolved *now* (a passing DNS failure) is accepted, since every delivery checks again. At
delivery the same check runs on the addresses the connection will use (tasklane.data.receivers).
"""

from __future__ import annotations

from tasklane.data import receivers
from tasklane.model.addresses import IPAddress, refusal
from tasklane.model.callback_urls import CallbackTarget, parse_target
from tasklane.model.errors import ValidationFailed


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
    if target.literal is not None:
        return target, [target.literal]  # judged by parse_target, 127.0.0.1 included where it is allowed
    addresses = receivers.resolve(target.host, target.port)
    for address in addresses:
        if why := refusal(address):
            raise CallbackRefused(f"callback_url host {target.host} resolves to {why}")
    return target, addresses


def check_submitted(url: str, *, allow_loopback: bool, closed_port: int | None = None) -> None:
    """The check at submission: ValidationFailed naming callback_url when the URL may not be used."""
    try:
        destination(url, allow_loopback=allow_loopback, closed_port=closed_port)
    except CallbackRefused as exc:
        raise ValidationFailed(
            "the callback_url is not allowed", [{"field": "callback_url", "message": str(exc)}]
        ) from None
    except receivers.NameNotResolved as exc:
        if exc.lasting:
            raise ValidationFailed(
                "the callback_url host does not resolve", [{"field": "callback_url", "message": str(exc)}]
            ) from None
