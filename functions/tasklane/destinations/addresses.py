"""Which network addresses a webhook may reach: public unicast ones only.

Pure rules on `ipaddress` values, shared by the check at submission and the one at delivery. An IPv6
address that carries an IPv4 address (IPv4-mapped, NAT64) is judged by the address it carries, and
the transition forms a server never needs (6to4, Teredo, IPv4-compatible) are refused outright.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, IPv6Network, ip_address

IPAddress = IPv4Address | IPv6Address

# Instance metadata and credentials endpoints (EC2 IPv4 and IPv6, ECS task credentials): named in the
# refusal so that an attempt on them reads as what it is.
METADATA = frozenset(
    {
        ip_address("169.254.169.254"),
        ip_address("169.254.170.2"),
        ip_address("169.254.170.23"),
        ip_address("fd00:ec2::254"),
    }
)
LOOPBACK_ALLOWED = ip_address("127.0.0.1")  # the one address CallbackAllowLoopback opens (local stacks)

_NAT64 = IPv6Network("64:ff9b::/96")  # RFC 6052 well-known prefix: the last 32 bits are an IPv4 address
_NAT64_LOCAL = IPv6Network("64:ff9b:1::/48")  # RFC 8215 local-use prefix
_IPV4_COMPATIBLE = IPv6Network("::/96")  # deprecated ::a.b.c.d (also :: and ::1, refused below anyway)


def refusal(address: IPAddress) -> str | None:
    """Why a webhook may not reach `address`, or None for a public unicast address."""
    if isinstance(address, IPv6Address):
        return _ipv6_refusal(address)
    return _plain_refusal(address)


def _ipv6_refusal(address: IPv6Address) -> str | None:
    nat64 = IPv4Address(int(address) & 0xFFFFFFFF) if address in _NAT64 else None
    carried = address.ipv4_mapped or nat64
    if carried is not None:
        why = refusal(carried)
        form = "NAT64" if nat64 else "IPv4-mapped"
        return f"the {form} form of {why}" if why else None
    forms = (
        (address in _NAT64_LOCAL, "a local-use NAT64 address"),
        (address.sixtofour is not None, "a 6to4 address"),
        (address.teredo is not None, "a Teredo address"),
        (
            address in _IPV4_COMPATIBLE and not (address.is_unspecified or address.is_loopback),
            "an IPv4-compatible address",
        ),
    )
    return next((why for hit, why in forms if hit), None) or _plain_refusal(address)


def _plain_refusal(address: IPAddress) -> str | None:
    if address in METADATA:
        return "an instance metadata address"
    checks = (
        (address.is_unspecified, "an unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address.is_private, "a private address"),
        (address.is_reserved, "a reserved address"),
        (not address.is_global, "not a public address"),
    )
    return next((why for refused, why in checks if refused), None)
