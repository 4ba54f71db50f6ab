"""The transport-security probes against real servers on loopback: aiosmtpd with STARTTLS and
trustme certificates, a server that drops connections, an HTTPS server serving MTA-STS
policies, and the DNS test server."""

from __future__ import annotations

import asyncio
import json
import ssl
import time
import warnings
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiohttp import web

from domainwatch.checks.base import Expectation
from domainwatch.checks.kinds.mta_sts import MtaStsExpectation, policy_text, txt_record
from domainwatch.checks.kinds.starttls import StartTlsExpectation
from domainwatch.checks.kinds.tls_rpt import TlsRptExpectation
from domainwatch.checks.running.runner import check_records
from domainwatch.config.schema import ProbesConfig
from domainwatch.dns.fast.transport import FastResolver
from domainwatch.dns.resolver import Nameserver, Resolver
from domainwatch.model import RecordResult, RecordState
from domainwatch.probes.prober import Prober
from domainwatch.probes.routing import ProbingResolver
from domainwatch.testing import DnsTestServer
from tests.integration.cli import run_cli
from tests.integration.tls_lab import ZONE, Lab, lab, tls_11_works


@pytest.fixture
async def world(tmp_path: Path, dns_server: DnsTestServer) -> AsyncIterator[Lab]:
    async with lab(tmp_path, dns_server) as made:
        yield made


@pytest.fixture
async def dns(dns_server: DnsTestServer) -> AsyncIterator[Resolver]:
    resolver = FastResolver([Nameserver("127.0.0.1", dns_server.port)], timeout=0.5, attempts=2)
    yield resolver
    await resolver.aclose()


def probes(world: Lab, **changes: object) -> ProbesConfig:
    return world.probes(**changes)


async def check(
    world: Lab, dns: Resolver, *expectations: Expectation, **changes: object
) -> list[RecordResult]:
    prober = Prober(dns, probes(world, **changes), time.time, recheck=0)
    return await check_records(list(expectations), ProbingResolver(dns, prober))


def starttls(host: str, min_version: str = "1.2") -> StartTlsExpectation:
    return StartTlsExpectation(f"starttls:{host}", host, True, min_version)


def codes(result: RecordResult) -> list[str]:
    return [f.code.value for f in result.findings]


async def test_a_good_server_is_present_with_what_it_negotiated(world: Lab, dns: Resolver) -> None:
    host = f"mx1.{ZONE}"
    await world.smtp(host, world.context([host]))
    (result,) = await check(world, dns, starttls(host))
    assert (RecordState.PRESENT, []) == (result.state, codes(result))
    assert result.found[0].startswith("127.0.0.2: TLS 1.3 ")  # one line per address
    assert f"certificate for {host}" in result.found[0]
    # trustme's CA names an organisation and no common name, as many private CAs do.
    assert "issued by trustme v" in result.found[0]
    assert result.facts["tls_version"] == "1.3"
    assert int(result.facts["tls_certificate_expiry"]) > time.time() + 300 * 86400


@pytest.mark.parametrize(
    ("variant", "code"),
    [
        ("wrong_name", "certificate_name_mismatch"),
        ("expired", "certificate_expired"),
        ("unknown_ca", "certificate_untrusted"),
        ("no_starttls", "starttls_not_offered"),
    ],
)
async def test_each_problem_is_a_wrong_record_with_its_code(
    world: Lab, dns: Resolver, variant: str, code: str
) -> None:
    host = f"{variant.replace('_', '-')}.{ZONE}"
    contexts: dict[str, Callable[[], ssl.SSLContext | None]] = {
        "wrong_name": lambda: world.context([f"other.{ZONE}"]),
        "expired": lambda: world.context([host], expired=True),
        "unknown_ca": lambda: world.context([host], ca=world.stranger),
        "no_starttls": lambda: None,
    }
    context = contexts[variant]()
    await world.smtp(host, context)
    (result,) = await check(world, dns, starttls(host))
    assert RecordState.WRONG == result.state
    assert code in codes(result)
    if variant in ("expired", "unknown_ca"):  # read again without verifying: the names still show
        assert f"certificate for {host}" in result.found[0]


async def test_an_old_tls_version_is_reported(world: Lab, dns: Resolver) -> None:
    """TLS 1.1 if this OpenSSL still speaks it; otherwise TLS 1.2 against a minimum of 1.3."""
    host = f"old.{ZONE}"
    context = world.context([host])
    old = tls_11_works()
    with warnings.catch_warnings():  # naming TLS 1.1 is deprecated: that is the point
        warnings.simplefilter("ignore", DeprecationWarning)
        context.maximum_version = ssl.TLSVersion.TLSv1_1 if old else ssl.TLSVersion.TLSv1_2
        if old:
            context.minimum_version = ssl.TLSVersion.TLSv1_1
            context.set_ciphers("DEFAULT:@SECLEVEL=0")
    await world.smtp(host, context)
    (result,) = await check(world, dns, starttls(host, "1.2" if old else "1.3"))
    assert (RecordState.WRONG, ["tls_version_too_old"]) == (result.state, codes(result))
    assert result.facts["tls_version"] == ("1.1" if old else "1.2")


async def test_a_server_that_cannot_be_probed_is_an_error_never_a_failure(world: Lab, dns: Resolver) -> None:
    dropping, silent = f"drop.{ZONE}", f"refused.{ZONE}"
    await world.dropping(dropping)
    world.address_for(silent)  # an address nothing listens on: connection refused
    dns_server = world.dns
    dns_server.set(f"nowhere.{ZONE}", "TXT", ["no address here"])
    results = await check(world, dns, starttls(dropping), starttls(silent), starttls(f"nowhere.{ZONE}"))
    assert [RecordState.ERROR] * 3 == [r.state for r in results]
    assert all(codes(r) == ["lookup_error"] for r in results)


async def test_one_mx_host_is_probed_once_for_every_domain(world: Lab, dns: Resolver) -> None:
    host = f"shared.{ZONE}"
    await world.smtp(host, world.context([host]))
    prober = Prober(dns, probes(world), time.time, recheck=0)
    resolver = ProbingResolver(dns, prober)
    for _ in range(5):  # five domains on one provider
        (result,) = await check_records([starttls(host)], resolver)
        assert RecordState.PRESENT == result.state
    assert 1 == prober.probes_run


# -- MTA-STS ----------------------------------------------------------------------------------
DOMAIN = f"mail.{ZONE}"
MX = (f"mx1.{ZONE}", f"mx2.{ZONE}")


def mta_sts(mode: str = "enforce", hosts: tuple[str, ...] = MX) -> MtaStsExpectation:
    return MtaStsExpectation("mta_sts", f"_mta-sts.{DOMAIN}", True, DOMAIN, mode, hosts)


async def serve_policy(world: Lab, answer: web.StreamResponse, record: str | None = None) -> None:
    async def handler(_: web.Request) -> web.StreamResponse:
        return answer

    await world.https([f"mta-sts.{DOMAIN}"], handler)
    world.dns.set(f"_mta-sts.{DOMAIN}", "TXT", [record or txt_record("x")])


async def test_a_valid_policy_is_present(world: Lab, dns: Resolver) -> None:
    await serve_policy(world, web.Response(text=policy_text("enforce", list(MX)), content_type="text/plain"))
    (result,) = await check(world, dns, mta_sts())
    assert (RecordState.PRESENT, []) == (result.state, codes(result))
    assert {
        "mta_sts_mode": "enforce",
        "mta_sts_policy_fetched": 1,
        "mta_sts_max_age": 604800,
        "mta_sts_mx": "mx1.tls.test mx2.tls.test",
        "mta_sts_uncovered": 0,
    } == result.facts


def plain(text: str, content_type: str = "text/plain") -> web.Response:
    return web.Response(text=text, content_type=content_type)


BAD_POLICIES: dict[str, tuple[Callable[[], web.Response], str]] = {
    "invalid": (lambda: plain("version: STSv1\nmode: sometimes\n"), "mta_sts_policy_invalid"),
    "wrong_mx": (lambda: plain(policy_text("enforce", [f"mx9.{ZONE}"])), "mta_sts_mx_not_covered"),
    "redirect": (
        lambda: web.Response(status=301, headers={"Location": "https://example.org/p.txt"}),
        "mta_sts_policy_invalid",
    ),
    "oversize": (lambda: plain("version: STSv1\n" + "x" * 70_000), "mta_sts_policy_invalid"),
    "not_text_plain": (
        lambda: plain(policy_text("enforce", list(MX)), "text/html"),
        "mta_sts_policy_invalid",
    ),
    "testing_below_enforce": (lambda: plain(policy_text("testing", list(MX))), "mta_sts_mode_below_required"),
}


@pytest.mark.parametrize("case", sorted(BAD_POLICIES))
async def test_each_bad_policy_is_wrong_with_the_policy_to_serve(
    world: Lab, dns: Resolver, case: str
) -> None:
    answer, code = BAD_POLICIES[case]
    await serve_policy(world, answer())
    (result,) = await check(world, dns, mta_sts())
    assert RecordState.WRONG == result.state
    finding = next(f for f in result.findings if f.code.value == code)
    assert finding.remediation is not None
    assert policy_text("enforce", list(MX)) == finding.remediation.value
    assert f"mta-sts.{DOMAIN}/.well-known/mta-sts.txt" == finding.remediation.name


async def test_no_record_is_missing_and_an_unreachable_policy_an_error(world: Lab, dns: Resolver) -> None:
    world.dns.set(DOMAIN, "MX", [f"10 {MX[0]}"])
    (missing,) = await check(world, dns, mta_sts())
    assert (RecordState.MISSING, ["mta_sts_missing"]) == (missing.state, codes(missing))
    assert missing.findings[0].remediation is not None
    world.dns.set(f"_mta-sts.{DOMAIN}", "TXT", [txt_record("x")])
    world.address_for(f"mta-sts.{DOMAIN}")  # nothing listens there
    (unreachable,) = await check(world, dns, mta_sts())
    assert (RecordState.ERROR, ["mta_sts_policy_unreachable"]) == (unreachable.state, codes(unreachable))


async def test_the_suggested_record_and_policy_verify_when_published(world: Lab, dns: Resolver) -> None:
    """Fixes that work: publish the TXT and serve the policy the findings give; it verifies."""
    world.dns.set(DOMAIN, "MX", [f"10 {MX[0]}", f"20 {MX[1]}"])
    (missing,) = await check(world, dns, mta_sts(hosts=()))
    assert (RecordState.MISSING, ["mta_sts_missing"]) == (missing.state, codes(missing)), missing
    record = missing.findings[0].remediation
    assert record is not None
    policy = policy_text("enforce", list(MX))
    await serve_policy(world, web.Response(text=policy, content_type="text/plain"), record.value)
    (fixed,) = await check(world, dns, mta_sts(hosts=()))
    assert (RecordState.PRESENT, []) == (fixed.state, codes(fixed))


async def test_tls_rpt_records(world: Lab, dns: Resolver) -> None:
    expect = TlsRptExpectation("tls_rpt", f"_smtp._tls.{DOMAIN}", True, (f"mailto:tls@{DOMAIN}",))
    (missing,) = await check(world, dns, expect)
    assert (RecordState.MISSING, ["tls_rpt_missing"]) == (missing.state, codes(missing))
    world.dns.set(f"_smtp._tls.{DOMAIN}", "TXT", ["v=TLSRPTv1; rua=ftp://x.example"])
    (invalid,) = await check(world, dns, expect)
    assert (RecordState.WRONG, ["tls_rpt_invalid"]) == (invalid.state, codes(invalid))
    fix = invalid.findings[0].remediation
    assert fix is not None
    world.dns.set(fix.name, fix.type, [fix.value])  # published as given
    (fixed,) = await check(world, dns, expect)
    assert (RecordState.PRESENT, []) == (fixed.state, codes(fixed))


async def test_inspect_tls_and_check_probe_from_the_command_line(world: Lab, tmp_path: Path) -> None:
    """`inspect --tls` probes each published MX host; `check` probes what a config asks."""
    good, bad = f"mx1.{ZONE}", f"mx2.{ZONE}"
    await world.smtp(good, world.context([good]))
    await world.smtp(bad, None)
    world.dns.set(DOMAIN, "MX", [f"10 {good}", f"20 {bad}"])
    lab_options = ("--smtp-port", str(world.smtp_port), "--https-port", str(world.https_port))
    inspected = await run_cli(
        "inspect", DOMAIN, "--tls", "--nameserver", world.dns.address, "--format", "json",
        "--ca-file", world.ca_file, "--allow-private-addresses", *lab_options,
    )  # fmt: skip
    assert 1 == inspected.code, inspected.err
    records = {r["record"]: r for r in json.loads(inspected.out)["domains"][0]["records"]}
    assert ("present", "wrong") == (records[f"starttls:{good}"]["state"], records[f"starttls:{bad}"]["state"])
    assert {"mta_sts", "tls_rpt"} <= set(records)
    config = tmp_path / "config.yaml"
    config.write_text(f"""
resolver: {{nameservers: ["{world.dns.address}"]}}
probes: {{smtp_port: {world.smtp_port}, https_port: {world.https_port}, ca_file: "{world.ca_file}",
          allow_private_addresses: true}}
domains:
  - name: {DOMAIN}
    receiving: {{mx: [{{host: {good}}}], tls: {{required: true}}}}
""")
    checked = await run_cli("check", "-c", str(config), "--format", "json")
    assert 0 == checked.code, checked.out + checked.err
    states = {r["record"]: r["state"] for r in json.loads(checked.out)["domains"][0]["records"]}
    assert {"receiving_mx": "present", f"starttls:{good}": "present"} == states
    plain = await run_cli("inspect", DOMAIN, "--nameserver", world.dns.address, "--format", "json")
    assert not any(
        r["record"].startswith(("starttls", "mta_sts"))
        for r in json.loads(plain.out)["domains"][0]["records"]
    )


async def test_a_host_off_the_public_internet_is_reported_and_never_connected_to(
    world: Lab, dns: Resolver
) -> None:
    """The address policy (issue #26, item 2): an MX host on loopback, an MTA-STS host on the
    cloud metadata address. Each record is `wrong` with `probe_address_not_global` naming the
    host, the address and its class; the server listening there sees no connection."""
    host = f"internal.{ZONE}"
    address = world.address_for(host)
    accepted: list[object] = []

    def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(reader)
        writer.close()

    listener = await asyncio.start_server(accept, address, world.smtp_port)
    world.dns.set(f"mta-sts.{DOMAIN}", "A", ["169.254.169.254"])
    world.dns.set(f"mta-sts.{DOMAIN}", "AAAA", ["::ffff:10.0.0.1"])
    world.dns.set(f"_mta-sts.{DOMAIN}", "TXT", [txt_record("x")])
    try:
        tls, sts = await check(world, dns, starttls(host), mta_sts(), allow_private_addresses=False)
    finally:
        listener.close()
    assert (RecordState.WRONG, ["probe_address_not_global"]) == (tls.state, codes(tls))
    assert f"{host} resolves to {address}, a loopback address" in tls.findings[0].message
    assert (RecordState.WRONG, ["probe_address_not_global"] * 2) == (sts.state, codes(sts))
    assert [f"mta-sts.{DOMAIN} resolves to 169.254.169.254, a link-local address",
            f"mta-sts.{DOMAIN} resolves to ::ffff:10.0.0.1, a private address"] == [
        f.message.split(",", 2)[0] + "," + f.message.split(",", 2)[1] for f in sts.findings
    ]  # fmt: skip
    assert [] == accepted


async def test_a_policy_that_arrives_in_pieces_is_read_whole(world: Lab, dns: Resolver) -> None:
    """Issue #26, item 6: the server writes the policy in three pieces with pauses between."""
    text = policy_text("enforce", list(MX)).encode()
    thirds = [text[: len(text) // 3], text[len(text) // 3 : 2 * len(text) // 3], text[2 * len(text) // 3 :]]

    async def slowly(request: web.Request) -> web.StreamResponse:
        answer = web.StreamResponse(headers={"Content-Type": "text/plain"})
        await answer.prepare(request)
        for piece in thirds:
            await answer.write(piece)
            await asyncio.sleep(0.2)
        await answer.write_eof()
        return answer

    await world.https([f"mta-sts.{DOMAIN}"], slowly)
    world.dns.set(f"_mta-sts.{DOMAIN}", "TXT", [txt_record("x")])
    (result,) = await check(world, dns, mta_sts())
    assert (RecordState.PRESENT, []) == (result.state, codes(result))


async def test_each_probe_is_timed_for_the_metrics(world: Lab, dns: Resolver) -> None:
    host = f"mx1.{ZONE}"
    await world.smtp(host, world.context([host]))
    timed: list[tuple[str, str, float]] = []
    prober = Prober(
        dns,
        probes(world),
        time.time,
        recheck=0,
        observe=lambda probe, outcome, s: timed.append((probe, outcome, s)),
    )
    await check_records([starttls(host)], ProbingResolver(dns, prober))
    assert [("starttls", "answer")] == [(probe, outcome) for probe, outcome, _ in timed]
    assert 0 < timed[0][2] < 3
