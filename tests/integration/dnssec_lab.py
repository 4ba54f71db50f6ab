"""A signed zone behind a validating resolver: Knot DNS serves the parent zone `test.` and the
child `signed.test.` (signed by Knot's automatic signing, or pre-signed here with signatures
that have expired), and Unbound validates below a trust anchor for `test.`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dns.dnssec
import dns.dnssectypes
import dns.message
import dns.name
import dns.query
import dns.rdatatype
import dns.rdtypes.ANY.DNSKEY
import dns.zone
from cryptography.hazmat.primitives.asymmetric import ec

from tests.integration.knot import knot_server
from tests.integration.unbound import unbound_server
from tests.keys import rsa_key

PARENT, CHILD = "test", "signed.test"
NAME = f"s1._domainkey.{CHILD}"
RECORD = f"v=DKIM1; k=rsa; p={rsa_key(2048)}"


def _txt(value: str) -> str:
    return " ".join(f'"{value[i : i + 255]}"' for i in range(0, len(value), 255))


def parent_zone(ds: str | None) -> str:
    """The parent: delegates the child to Knot itself, with `ds` as the child's DS (None: the
    delegation is insecure)."""
    secure = f"signed IN DS {ds}\n" if ds else ""
    return (
        f"$ORIGIN {PARENT}.\n$TTL 300\n"
        f"@ IN SOA ns.{PARENT}. hostmaster.{PARENT}. {time.time_ns() // 10**9} 3600 600 86400 300\n"
        f"@ IN NS ns.{PARENT}.\nns IN A 127.0.0.1\n"
        f"signed IN NS ns.signed.{PARENT}.\nns.signed IN A 127.0.0.1\n{secure}"
    )


def child_zone(records: str = "") -> str:
    """The child: a DKIM key, and `records` (zone-file lines relative to the child)."""
    return (
        f"$ORIGIN {CHILD}.\n$TTL 300\n"
        f"@ IN SOA ns.{CHILD}. hostmaster.{CHILD}. {time.time_ns() // 10**9} 3600 600 86400 300\n"
        f"@ IN NS ns.{CHILD}.\nns IN A 127.0.0.1\n"
        f"s1._domainkey IN TXT {_txt(RECORD)}\n{records}"
    )


def expired_child_zone() -> str:
    """The child, signed here with signatures that expired ten days ago (its signer stopped)."""
    zone = dns.zone.from_text(child_zone(), origin=f"{CHILD}.", relativize=False)
    keys: list[tuple[dns.dnssec.PrivateKey, dns.rdtypes.ANY.DNSKEY.DNSKEY]] = []
    for flags in (257, 256):
        private = ec.generate_private_key(ec.SECP256R1())
        algorithm = dns.dnssectypes.Algorithm.ECDSAP256SHA256
        dnskey = dns.dnssec.make_dnskey(private.public_key(), algorithm, flags)
        keys.append((private, dnskey))
    now = int(time.time())
    # Ten days past: validators allow clock skew of up to a day (Unbound's val-sig-skew-max), so
    # signatures only just expired would sometimes still validate.
    dns.dnssec.sign_zone(zone, keys=keys, inception=now - 40 * 86400, expiration=now - 10 * 86400)
    return zone.to_text(relativize=False)


def ds_of(port: int, zone: str) -> str:
    """The DS (SHA-256) of the key-signing key `zone` serves, asked of Knot directly."""
    response = dns.query.udp(dns.message.make_query(f"{zone}.", "DNSKEY"), "127.0.0.1", port=port, timeout=2)
    (rrset,) = [r for r in response.answer if r.rdtype == dns.rdatatype.DNSKEY]
    (ksk,) = [k for k in rrset if isinstance(k, dns.rdtypes.ANY.DNSKEY.DNSKEY) and k.flags & 1]
    return str(dns.dnssec.make_ds(dns.name.from_text(f"{zone}."), ksk, "SHA256"))


@dataclass
class Lab:
    directory: Path
    expired: bool = False
    records: str = ""  # more of the child zone (its MX hosts, their TLSA records)
    child_ds: str = ""  # the child's true DS, once known
    _presigned: str = ""  # the expired child, signed once (its keys must not change)

    def zones(self, ds: str | None) -> dict[str, str]:
        if self.expired and not self._presigned:
            self._presigned = expired_child_zone()
        return {PARENT: parent_zone(ds), CHILD: self._presigned or child_zone(self.records)}

    @property
    def signed(self) -> tuple[str, ...]:
        return (PARENT,) if self.expired else (PARENT, CHILD)

    @contextmanager
    def serve(self, ds: str | None) -> Iterator[int]:
        """Knot with the parent publishing `ds` for the child, and Unbound in front: its port."""
        knot_dir = self.directory / "knot"
        knot_dir.mkdir(parents=True, exist_ok=True)
        zones = self.zones(ds)
        with knot_server(knot_dir, zones, signed=self.signed) as knot:
            anchor = f"{PARENT}. IN DS {ds_of(knot, PARENT)}"
            self.child_ds = ds_of(knot, CHILD)
            stubs = {PARENT: knot, CHILD: knot}
            with unbound_server(self.directory / f"unbound-{time.monotonic_ns()}", stubs, anchor) as port:
                yield port

    def learn_child_ds(self) -> str:
        """Start once without a DS, so the child's keys exist (Knot keeps them): its true DS."""
        with self.serve(None):
            return self.child_ds
