"""The address policy (dns/addresses.py): only addresses on the public internet are connected
to; IPv6 forms that carry an IPv4 address are judged by it."""

from __future__ import annotations

import pytest

from domainwatch.checks.kinds.probed import refused_addresses
from domainwatch.dns.addresses import address_class, may_connect
from domainwatch.model import Severity

REFUSED = [
    ("127.0.0.1", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local"),  # cloud metadata
    ("100.100.100.200", "shared"),  # carrier-grade NAT, where another cloud's metadata lives
    ("0.1.2.3", "this-network"),
    ("224.0.0.1", "multicast"),
    ("255.255.255.255", "private"),
    ("::1", "loopback"),
    ("::", "unspecified"),
    ("fe80::1", "link-local"),
    ("fc00::1", "private"),
    ("ff02::1", "multicast"),
    ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
    ("::ffff:169.254.169.254", "link-local"),
    ("::10.0.0.1", "private"),  # IPv4-compatible
    ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
    ("64:ff9b:1:a9fe:a9:fe00::", "link-local"),  # local-use NAT64 (RFC 8215), RFC 6052's /48 form
    ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
    ("2002:a00:1::", "private"),  # 6to4 of 10.0.0.1
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback"),  # Teredo, client 127.0.0.1
    ("not an address", "invalid"),
]
ALLOWED = [
    "8.8.8.8",
    "1.1.1.1",
    "2001:4860:4860::8888",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
    "2002:808:808::",
]


@pytest.mark.parametrize(("address", "kind"), REFUSED)
def test_addresses_off_the_public_internet_are_refused_with_their_class(address: str, kind: str) -> None:
    assert kind == address_class(address)
    assert not may_connect(address, allow_private=False)


@pytest.mark.parametrize("address", ALLOWED)
def test_global_addresses_may_be_connected_to(address: str) -> None:
    assert address_class(address) is None
    assert may_connect(address, allow_private=False)


def test_the_switch_lets_private_addresses_through_but_never_an_invalid_one() -> None:
    assert may_connect("127.0.0.2", allow_private=True)
    assert may_connect("100.64.0.1", allow_private=True)
    assert not may_connect("300.1.1.1", allow_private=True)


def test_a_refused_address_is_an_error_when_none_was_probed_and_a_warning_when_one_was() -> None:
    """The finding names the host, the address and its class, never a port or an outcome."""
    refused = [{"address": "127.0.0.1", "class": "loopback"}]
    (alone,) = refused_addresses("mx.example.com", {"refused": refused})
    assert (Severity.ERROR, "probe_address_not_global", "127.0.0.1") == (
        alone.severity,
        alone.code,
        alone.found,
    )
    assert "mx.example.com resolves to 127.0.0.1, a loopback address" in alone.message
    assert "25" not in alone.message
    (beside,) = refused_addresses("mx.example.com", {"refused": refused, "address": "192.0.2.1"})
    assert Severity.WARNING == beside.severity
    assert [] == refused_addresses("mx.example.com", {"address": "192.0.2.1"})
