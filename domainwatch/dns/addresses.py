"""The address policy: which addresses, learnt from DNS that strangers write, domainwatch may
connect to (pure). One module for every outbound connection DNS points at: the probes (an MX
host, `mta-sts.<domain>`) and, in authoritative mode, a domain's own nameservers.

An address may be connected to when Python's `ipaddress` says it is global and it is not
multicast; an IPv6 address that carries an IPv4 one (IPv4-mapped, IPv4-compatible, NAT64
`64:ff9b::/96` and `64:ff9b:1::/48`, 6to4, Teredo) is judged by the IPv4 address it carries.
Otherwise the probes would scan the operator's network: loopback, RFC 1918, link-local (cloud
metadata at 169.254.169.254), carrier-grade NAT (100.64/10) and the rest.
"""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_SHARED = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598: carrier-grade NAT
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052's well-known prefix
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215, with RFC 6052's /48 layout
_COMPATIBLE = ipaddress.ip_network("::/96")  # RFC 4291's deprecated IPv4-compatible form

# Checked in this order: the first that holds names the class.
_CLASSES: tuple[tuple[str, str], ...] = (
    ("is_unspecified", "unspecified"),
    ("is_loopback", "loopback"),
    ("is_link_local", "link-local"),
    ("is_multicast", "multicast"),
    ("is_private", "private"),
    ("is_reserved", "reserved"),
)


def address_class(address: str) -> str | None:
    """None when `address` may be connected to; else its class in words (`loopback`,
    `private`, `shared`, `link-local`, `multicast`, `this-network`, ..., or `invalid`)."""
    try:
        ip = carried(ipaddress.ip_address(address))
    except ValueError:
        return "invalid"
    if ip.version == 4 and ip in _THIS_NETWORK:
        return "this-network"
    if ip.version == 4 and ip in _SHARED:
        return "shared"
    for flag, name in _CLASSES:
        if getattr(ip, flag):
            return name
    return None if ip.is_global else "special"


def may_connect(address: str, *, allow_private: bool) -> bool:
    """The policy with its switch: `allow_private` (labs and tests) lets every valid address
    through."""
    if allow_private:
        return address_class(address) != "invalid"
    return address_class(address) is None


def carried(ip: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 one carries, when it is one of the forms that do; else itself."""
    if ip.version == 4:
        return ip
    assert isinstance(ip, ipaddress.IPv6Address)
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]  # the client's address, where the traffic ends up
    value = int(ip)
    if ip in _NAT64 or (ip in _COMPATIBLE and value > 1):  # ::1 and :: are IPv6's own
        return ipaddress.IPv4Address(value & 0xFFFFFFFF)
    if ip in _NAT64_LOCAL:  # RFC 6052 §2.2, /48: 16 bits, the zero octet "u", 16 bits
        high, low = (value >> 64) & 0xFFFF, (value >> 40) & 0xFFFF
        return ipaddress.IPv4Address(high << 16 | low)
    return ip
