"""DANE for SMTP and every MX address, for real: Knot signs the zone, Unbound validates, and
aiosmtpd presents trustme chains on two loopback addresses of one MX host (127.0.0.x and ::1,
with the lab switch of the address policy). Each DANE state of RFC 7672 in turn: `3 1 1`
matching on both addresses, a mismatch whose fix is published and then matches, `2 1 1` on
the issuer, usage 1 alone, an insecure zone, a bogus one; and the certificate findings DANE-EE
relieves, unless MTA-STS enforces."""

from __future__ import annotations

import hashlib
import ssl
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import trustme
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from domainwatch.checks.base import Expectation
from domainwatch.checks.kinds.dane import DaneExpectation
from domainwatch.checks.kinds.mta_sts import MtaStsExpectation
from domainwatch.checks.kinds.starttls import StartTlsExpectation
from domainwatch.checks.running.runner import check_domain
from domainwatch.config.schema import ResolverConfig
from domainwatch.dns.fast.transport import FastResolver
from domainwatch.dns.resolver import Nameserver
from domainwatch.model import RecordResult, RecordState
from domainwatch.probes.prober import Prober
from domainwatch.probes.routing import ProbingResolver
from domainwatch.testing import DnsTestServer
from tests.integration.dnssec_lab import CHILD, Lab
from tests.integration.tls_lab import Lab as TlsLab
from tests.integration.tls_lab import lab

HOST = f"mx.{CHILD}"
V4, V6 = "127.0.0.31", "::1"
ADDRESSES = f"mx IN A {V4}\nmx IN AAAA {V6}\n"
STRANGER_DS = "4242 13 2 " + "AB" * 32  # a DS made from a key the child never had
TLS = StartTlsExpectation(f"starttls:{HOST}", HOST, True)
DANE = DaneExpectation(f"dane:{HOST}", HOST, True)


@pytest.fixture
async def world(tmp_path: Path, dns_server: DnsTestServer) -> AsyncIterator[TlsLab]:
    (tmp_path / "tls").mkdir()
    async with lab(tmp_path / "tls", dns_server) as made:  # (its DNS server is unused here)
        yield made


def served(issuer: trustme.CA) -> tuple[ssl.SSLContext, list[x509.Certificate]]:
    """A server context with a certificate for the MX host from `issuer`, and its chain."""
    certificate = issuer.issue_cert(HOST)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate.configure_cert(context)
    return context, [x509.load_pem_x509_certificate(b.bytes()) for b in certificate.cert_chain_pems]


def tlsa(usage: int, certificate: x509.Certificate) -> str:
    key = certificate.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return f"_25._tcp.mx IN TLSA {usage} 1 1 {hashlib.sha256(key).hexdigest()}\n"


async def check(world: TlsLab, port: int, *expectations: Expectation) -> list[RecordResult]:
    resolver = FastResolver([Nameserver("127.0.0.1", port)], timeout=2, attempts=1, dnssec_ok=True)
    settings = ResolverConfig(nameservers=[f"127.0.0.1:{port}"], timeout=timedelta(seconds=2), attempts=1)
    prober = Prober(resolver, world.probes(), time.time, recheck=0)
    try:
        report = await check_domain(CHILD, list(expectations), ProbingResolver(resolver, prober), settings)
    finally:
        await resolver.aclose()
    return list(report.records)


def codes(result: RecordResult) -> list[str]:
    return [f.code.value for f in result.findings]


def outcomes(result: RecordResult) -> list[tuple[str, str]]:
    return [(a.address, a.outcome.value) for a in result.addresses]


async def test_every_address_is_probed_and_dane_ee_matches_or_is_fixed(tmp_path: Path, world: TlsLab) -> None:
    context, chain = served(world.ca)
    await world.smtp(HOST, context, V4)
    await world.smtp(HOST, context, V6)
    dnssec = Lab(tmp_path / "dnssec", records=ADDRESSES)
    ds = dnssec.learn_child_ds()
    stale = tlsa(3, served(world.ca)[1][0])  # another key's record: matches neither address
    dnssec.records = ADDRESSES + stale
    with dnssec.serve(ds) as port:
        tls, dane = await check(world, port, TLS, DANE)
    assert (RecordState.PRESENT, [(V4, "present"), (V6, "present")]) == (tls.state, outcomes(tls))
    assert (RecordState.WRONG, ["dane_no_match", "dane_no_match"]) == (dane.state, codes(dane))
    assert [V4, V6] == [f.found for f in dane.findings]
    fix = dane.findings[0].remediation
    assert fix is not None
    assert (f"_25._tcp.{HOST}", "TLSA") == (fix.name, fix.type)
    dnssec.records = ADDRESSES + stale + f"_25._tcp.mx IN TLSA {fix.value}\n"  # published as given
    with dnssec.serve(ds) as port:
        (dane,) = await check(world, port, DANE)
    assert (RecordState.PRESENT, [], 1) == (dane.state, codes(dane), dane.facts["dane_matched"])
    assert tlsa(3, chain[0]).endswith(fix.value + "\n")


async def test_dane_ta_usage_1_an_insecure_zone_and_a_bogus_one(tmp_path: Path, world: TlsLab) -> None:
    intermediate = world.ca.create_child_ca()
    context, chain = served(intermediate)  # the server sends its leaf and the intermediate
    await world.smtp(HOST, context, V4)
    dnssec = Lab(tmp_path / "dnssec", records=f"mx IN A {V4}\n")
    ds = dnssec.learn_child_ds()
    dnssec.records = f"mx IN A {V4}\n" + tlsa(2, chain[1]) + tlsa(2, intermediate_of(world))
    with dnssec.serve(ds) as port:
        (dane,) = await check(world, port, DANE)
    assert (RecordState.PRESENT, []) == (dane.state, codes(dane))  # 2 1 1 on the issuer
    dnssec.records = f"mx IN A {V4}\n" + tlsa(1, chain[0])
    with dnssec.serve(ds) as port:
        (dane,) = await check(world, port, DANE)
    assert (RecordState.WRONG, ["dane_unusable_record"]) == (dane.state, codes(dane))
    dnssec.records = f"mx IN A {V4}\n" + tlsa(3, chain[0])
    with dnssec.serve(None) as port:  # no DS at the parent: the child is insecure
        (dane,) = await check(world, port, DANE)
    assert (RecordState.MISSING, ["dane_insecure"]) == (dane.state, codes(dane))
    with dnssec.serve(STRANGER_DS) as port:  # a DS matching no key: bogus
        (dane,) = await check(world, port, DANE)
    assert RecordState.ERROR == dane.state
    assert "dane_bogus" == codes(dane)[0]


def intermediate_of(world: TlsLab) -> x509.Certificate:
    """Another issuer's certificate: a second usable 2 1 1 record, so no rollover warning."""
    return x509.load_pem_x509_certificate(world.ca.create_child_ca().cert_pem.bytes())


async def test_dane_ee_relieves_an_untrusted_address_unless_mta_sts_enforces(
    tmp_path: Path, world: TlsLab
) -> None:
    trusted, good = served(world.ca)
    untrusted, stranger = served(world.stranger)
    await world.smtp(HOST, trusted, V4)
    await world.smtp(HOST, untrusted, V6)
    dnssec = Lab(tmp_path / "dnssec", records=ADDRESSES)
    ds = dnssec.learn_child_ds()
    with dnssec.serve(ds) as port:
        (tls,) = await check(world, port, TLS)
    assert (RecordState.WRONG, [(V4, "present"), (V6, "wrong")]) == (tls.state, outcomes(tls))
    assert ["certificate_untrusted"] == codes(tls)
    assert V6 in tls.findings[0].message
    matching = ADDRESSES + tlsa(3, good[0]) + tlsa(3, stranger[0])
    dnssec.records = matching
    with dnssec.serve(ds) as port:
        tls, dane = await check(world, port, TLS, DANE)
    assert (RecordState.PRESENT, RecordState.PRESENT) == (tls.state, dane.state)
    assert [("certificate_untrusted", "warning")] == [(f.code.value, f.severity.value) for f in tls.findings]

    policy = f"version: STSv1\nmode: enforce\nmx: {HOST}\nmax_age: 604800\n"

    async def serve_policy(_: web.Request) -> web.Response:
        return web.Response(text=policy, content_type="text/plain")

    address = await world.https([f"mta-sts.{CHILD}"], serve_policy)
    dnssec.records = matching + f"mta-sts IN A {address}\n" + '_mta-sts IN TXT "v=STSv1; id=1"\n'
    mta_sts = MtaStsExpectation("mta_sts", f"_mta-sts.{CHILD}", True, CHILD, "enforce", (HOST,))
    with dnssec.serve(ds) as port:
        tls, _, sts = await check(world, port, TLS, DANE, mta_sts)
    assert "enforce" == sts.facts.get("mta_sts_mode")
    assert (RecordState.WRONG, ["certificate_untrusted"]) == (tls.state, codes(tls))
    assert "error" == tls.findings[0].severity.value
