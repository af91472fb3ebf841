"""Which addresses a webhook may reach: an IPv4 address and its IPv6 forms are judged alike."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, IPv6Network

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tasklane.destinations.addresses import refusal
from tasklane.destinations.urls import parse_target

NAT64 = IPv6Network("64:ff9b::/96")
ipv4 = st.integers(min_value=0, max_value=2**32 - 1).map(IPv4Address)


@given(ipv4)
def test_an_ipv4_address_and_its_mapped_and_nat64_forms_are_judged_alike(address):
    mapped = IPv6Address(f"::ffff:{address}")
    nat64 = IPv6Address((0x64FF9B << 96) | int(address))
    allowed = refusal(address) is None
    assert (refusal(mapped) is None) == allowed
    assert (refusal(nat64) is None) == allowed


@given(ipv4)
def test_no_6to4_or_ipv4_compatible_form_is_ever_allowed(address):
    assert refusal(IPv6Address((0x2002 << 112) | (int(address) << 80))) is not None
    if int(address) > 1:
        assert refusal(IPv6Address(int(address))) is not None


@given(st.integers(min_value=0, max_value=2**128 - 1).map(IPv6Address))
def test_an_allowed_ipv6_address_is_public_unicast_or_carries_an_allowed_ipv4_address(address):
    if refusal(address) is not None:
        return
    assert not (address.is_multicast)
    assert not (address.is_link_local)
    assert not (address.is_loopback)
    assert not (address.is_unspecified)
    carried = address.ipv4_mapped or (IPv4Address(int(address) & 0xFFFFFFFF) if address in NAT64 else None)
    if carried is None:
        assert address.is_global
    else:
        assert refusal(carried) is None


def test_only_127_0_0_1_is_opened_by_the_loopback_setting():
    assert parse_target("http://127.0.0.1:9/", allow_loopback=True).loopback_only
    for host in ("127.0.0.2", "[::1]", "[::ffff:127.0.0.1]", "169.254.169.254", "10.0.0.1", "0.0.0.0"):
        with pytest.raises(ValueError, match="must not point at"):
            parse_target(f"http://{host}/", allow_loopback=True)
