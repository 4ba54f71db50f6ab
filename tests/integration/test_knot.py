"""The CLI and the resolver against a real Knot DNS server on loopback (in CI: must run)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from domainwatch.dns.dnspython_resolver import DnsPythonResolver
from domainwatch.dns.resolver import Nameserver, Outcome, Query
from tests.integration.cli import run_cli
from tests.integration.knot import knot_server
from tests.keys import rsa_key

pytestmark = pytest.mark.knot

KEY = rsa_key(2048)
SOA = (
    "@ 3600 IN SOA ns1.{zone}. hostmaster.{zone}. 1 3600 600 86400 300\n"
    "@ 3600 IN NS ns1.{zone}.\n"
    "ns1 IN A 127.0.0.1\n"
)


def _txt(value: str) -> str:
    chunks = [value[i : i + 255] for i in range(0, len(value), 255)]
    return " ".join(f'"{chunk}"' for chunk in chunks)


EXAMPLE = (
    SOA.format(zone="example.com")
    + f"""
send.updates      IN TXT {_txt("v=spf1 include:amazonses.com ~all")}
send.updates      IN MX 10 feedback-smtp.us-east-1.amazonses.com.
resend._domainkey.updates IN TXT {_txt("p=" + KEY)}
_dmarc.updates    IN TXT "v=DMARC1; p=reject; rua=mailto:d@example.com"
send.broken       IN MX 10 feedback-smtp.us-east-1.amazonses.com.
big               IN TXT {_txt("v=spf1 " + " ".join(f"ip4:192.0.2.{n}" for n in range(60)) + " -all")}
"""
    + "".join(f'big IN TXT "verification-token-{n:03d}-{"x" * 180}"\n' for n in range(8))
)

AMAZONSES = (
    SOA.format(zone="amazonses.com")
    + """
@                               IN TXT "v=spf1 ip4:199.255.192.0/22 -all"
feedback-smtp.us-east-1         IN A 192.0.2.25
"""
)


@pytest.fixture(scope="module")
def knot_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    directory = tmp_path_factory.mktemp("knot")
    # `com` too: the DMARC tree walk asks _dmarc.com, and a server that refuses it (as Knot does for
    # a zone it does not serve) leaves the policy unknown: an error, not "missing".
    zones = {"example.com": EXAMPLE, "amazonses.com": AMAZONSES, "com": SOA.format(zone="com")}
    with knot_server(directory, zones) as port:
        yield port


def config(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(f"""
resolver: {{nameservers: ["127.0.0.1:{port}"], timeout: 1s}}
domains:
  - name: updates.example.com
    preset: resend
    region: us-east-1
    sending: {{dkim: [{{selector: resend, public_key: "{KEY}"}}]}}
  - name: broken.example.com
    preset: resend
    region: us-east-1
""")
    return path


async def test_check_against_knot(knot_port: int, tmp_path: Path) -> None:
    """Every record of a correct domain is present; the broken one's are missing, not errors."""
    result = await run_cli("check", "-c", str(config(tmp_path, knot_port)), "--format", "json")
    assert 1 == result.code, result.err
    domains = {
        d["name"]: {r["record"]: r["state"] for r in d["records"]} for d in json.loads(result.out)["domains"]
    }
    assert {
        "spf": "present",
        "dkim:resend": "present",
        "return_path_mx": "present",
        "dmarc": "present",
    } == domains["updates.example.com"]
    assert {
        "spf": "missing",
        "dkim:resend": "missing",
        "return_path_mx": "present",
        "dmarc": "missing",
    } == domains["broken.example.com"]


async def test_large_answer_over_tcp_from_knot(knot_port: int) -> None:
    """A TXT RRset too big for UDP comes back whole (TC=1 then TCP), long strings joined."""
    resolver = DnsPythonResolver([Nameserver("127.0.0.1", knot_port)], timeout=1, attempts=1)
    lookup = await resolver.resolve(Query.of("big.example.com", "TXT"))
    assert (Outcome.ANSWER, 9) == (lookup.outcome, len(lookup.records))
    spf = next(r for r in lookup.records if r.startswith("v=spf1"))
    assert spf.endswith("ip4:192.0.2.59 -all")


async def test_nxdomain_nodata_and_refused_from_knot(knot_port: int) -> None:
    """Knot's negative answers classify exactly; a zone it does not serve is refused, not missing."""
    resolver = DnsPythonResolver([Nameserver("127.0.0.1", knot_port)], timeout=1, attempts=1)
    assert Outcome.NXDOMAIN == (await resolver.resolve(Query.of("nope.example.com", "TXT"))).outcome
    assert Outcome.NODATA == (await resolver.resolve(Query.of("send.broken.example.com", "TXT"))).outcome
    assert Outcome.REFUSED == (await resolver.resolve(Query.of("example.org", "TXT"))).outcome
