"""Planning and fingerprints: what a config asks of a domain, and the digests stored with each
record (a changed digest restarts the record's verification, so they must not drift)."""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from domainwatch.checks.base import Expectation
from domainwatch.checks.fingerprints import LEGACY, canonical, fingerprint, legacy_fingerprint
from domainwatch.checks.kinds.mx import MxExpectation
from domainwatch.checks.kinds.spf.kind import SpfExpectation
from domainwatch.checks.registry import KINDS, kind_of
from domainwatch.config.loader import load, parse
from domainwatch.config.plan import DomainPlan, adopt_legacy_fingerprints, plan
from domainwatch.state.domain import DomainTrack

EXAMPLE = Path(__file__).parents[2] / "config.example.yaml"
# What domainwatch 0.1 stored for each record of config.example.yaml (and a domain with SPF
# networks), computed by that version: an upgrade must recognise every one of them.
STORED_BY_0_1 = {
    ("updates.example.com", "spf"): "351cd9b88cda5dd1",
    ("updates.example.com", "dkim:resend"): "d9370038f07b1863",
    ("updates.example.com", "return_path_mx"): "bf0f8bdf2b9681b0",
    ("updates.example.com", "receiving_mx"): "9adec51bb62adf79",
    ("updates.example.com", "dmarc"): "cd64fd4490ee2b34",
    ("updates.example.com", "tracking"): "aa4e9e5fd089bd74",
    ("mail.example.org", "spf"): "cf8952eab09e3f0c",
    ("mail.example.org", "dkim:tokenone"): "fae9c8a878aef39c",
    ("mail.example.org", "dkim:tokentwo"): "a71cc5be82cad6e3",
    ("mail.example.org", "dkim:tokenthree"): "50a56d6fab618d41",
    ("mail.example.org", "return_path_mx"): "57c96296c9e93989",
    ("mail.example.org", "dmarc"): "89da760c48cfe41b",
    ("net.example.com", "spf"): "5fa2d5207d798131",
    ("net.example.com", "dmarc"): "8d725acbfff6ad21",
}
NETWORKS = """
domains:
  - name: net.example.com
    sending: {spf: {include: [amazonses.com, 192.0.2.0/24], authorize: ["2001:db8::1"]}}
"""


def _domains() -> list[object]:
    return [*load(EXAMPLE, env={}).domains, *parse(NETWORKS).domains]


def test_the_example_config_plans_every_record_kind() -> None:
    """config.example.yaml shows each kind (the fingerprint tests below rely on it)."""
    planned = {e.record.partition(":")[0] for domain in load(EXAMPLE, env={}).domains for e in plan(domain)}
    assert {kind.name for kind in KINDS} == planned


def test_every_fingerprint_stored_by_version_0_1_is_recognised() -> None:
    """legacy_fingerprint rebuilds exactly what 0.1 stored, for every kind it had."""
    known_to_0_1 = {name for name, _ in STORED_BY_0_1}  # the example has grown since
    found = {
        (domain.name, e.record): legacy_fingerprint(e)  # type: ignore[attr-defined]
        for domain in _domains()
        if domain.name in known_to_0_1  # type: ignore[attr-defined]
        for e in plan(domain)
    }
    newer = {key for key, value in found.items() if value is None}  # kinds 0.1 did not have
    assert {"starttls", "dane", "mta_sts", "tls_rpt", "return_path_cname"} >= {
        record.partition(":")[0] for _, record in newer
    }
    assert {key: LEGACY + value for key, value in STORED_BY_0_1.items()} == {
        key: value for key, value in found.items() if key not in newer
    }


def test_a_fingerprint_is_pinned() -> None:
    """Made from the canonical encoding (the digest of the text below): changing how it is made
    restarts every record's verification."""
    canonical = (
        '{"expectation":{"all_qualifier":"~","includes":["amazonses.com"],"name":"send.example.com",'
        '"networks":[],"record":"spf","required":true},"kind":"spf"}'
    )
    assert hashlib.sha256(canonical.encode()).hexdigest()[:16] == "efd4afad5e718133"
    expect = SpfExpectation("spf", "send.example.com", True, ("amazonses.com",))
    assert "efd4afad5e718133" == fingerprint("spf", expect)


def test_fingerprints_follow_values_not_spelling() -> None:
    """Equal expectations digest alike; any changed value digests differently."""
    a = SpfExpectation("spf", "send.example.com", True, ("amazonses.com",))
    same = SpfExpectation("spf", "send.example.com", True, ("amazonses.com",))
    other = SpfExpectation("spf", "send.example.com", True, ("x.com",))
    assert fingerprint("spf", a) == fingerprint("spf", same)
    assert fingerprint("spf", a) != fingerprint("spf", other)
    assert fingerprint("spf", a) != fingerprint("dmarc", a)


def test_legacy_fingerprints_are_adopted_only_where_the_expectation_is_the_same() -> None:
    """An unchanged record takes the current fingerprint (no restart); a changed one keeps the
    old digest, so reconciling it restarts it as any changed expectation does."""
    domain = load(EXAMPLE, env={}).domains[0]
    domain_plan = DomainPlan.of(domain, load(EXAMPLE, env={}).defaults)
    stored = {
        s.record: LEGACY + STORED_BY_0_1[(domain.name, s.record)]
        for s in domain_plan.specs
        if (domain.name, s.record) in STORED_BY_0_1
    }
    stored["spf"] = LEGACY + "0000000000000000"  # the SPF expectation changed since
    track = adopt_legacy_fingerprints(DomainTrack(domain.name, fingerprints=stored), domain_plan)
    current = {s.record: s.fingerprint for s in domain_plan.specs if s.record in stored}
    assert {**current, "spf": stored["spf"]} == dict(track.fingerprints)


def _reference(kind: str, expect: Expectation) -> str:
    """The canonical encoding, spelled with json.dumps itself."""

    def plain(value: object) -> object:
        if isinstance(value, tuple | list):
            return [plain(item) for item in value]
        return str(value) if isinstance(value, ipaddress.IPv4Network | ipaddress.IPv6Network) else value

    fields = {
        f.name: plain(getattr(expect, f.name))
        for f in dataclasses.fields(expect)
        if f.metadata.get("fingerprint", True)  # a DKIM key's role is not part of it
    }
    return json.dumps({"kind": kind, "expectation": fields}, sort_keys=True, separators=(",", ":"))


def test_the_canonical_text_is_what_json_dumps_writes() -> None:
    for domain in _domains():
        for expect in plan(domain):
            kind = kind_of(expect.record).name
            assert _reference(kind, expect) == canonical(kind, expect)


@given(
    st.text(), st.text(), st.booleans(), st.lists(st.text(), max_size=3), st.sampled_from(["~", "-", "é\x00"])
)
def test_the_canonical_text_is_what_json_dumps_writes_for_any_values(
    record: str, name: str, required: bool, includes: list[str], qualifier: str
) -> None:
    expect = SpfExpectation(record, name, required, tuple(includes), (), qualifier)
    assert _reference("spf", expect) == canonical("spf", expect)


_NETWORKS = st.one_of(
    st.ip_addresses(v=4).map(lambda a: ipaddress.ip_network(f"{a}/32")),
    st.ip_addresses(v=6).map(lambda a: ipaddress.ip_network(f"{a}/128")),
)


@given(
    st.lists(st.tuples(st.text(), st.integers()), max_size=3),
    st.lists(_NETWORKS, max_size=3),
    st.sampled_from(["mx", "spf", "\u2028"]),
)
def test_the_canonical_text_of_nested_tuples_and_networks_is_what_json_dumps_writes(
    hosts: list[tuple[str, int]], networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network], kind: str
) -> None:
    for expect in (
        MxExpectation("mx", "example.com", True, tuple(hosts)),
        SpfExpectation("spf", "example.com", False, (), tuple(networks)),
    ):
        assert _reference(kind, expect) == canonical(kind, expect)


def test_domains_with_the_same_provider_share_its_values() -> None:
    """Plans of a fleet hold one object for equal provider values (memory at 100k domains)."""
    config = parse(
        "domains:\n"
        + "".join(
            f"  - {{name: d{n}.example.com,"
            " sending: {mx: {host: mx.esp.example}, dkim: [{selector: s1}]},"
            " receiving: {mx: [{host: in.esp.example}]}}\n"
            for n in range(2)
        )
    )
    first, second = ({e.record: e for e in plan(d)} for d in config.domains)
    for record in ("return_path_mx", "receiving_mx"):
        assert first[record].hosts is second[record].hosts  # type: ignore[attr-defined]
        assert first[record].name != second[record].name
    assert first["dkim:s1"].record is second["dkim:s1"].record


def test_a_dkim_role_is_not_part_of_the_fingerprint() -> None:
    """Promoting a `next` key to `active` is no expectation change: the record keeps its status."""
    keys = [{"selector": "s1", "cname": "s1.dkim.example.net", "role": role} for role in ("next", "active")]
    configs = [parse(f"domains: [{{name: example.com, sending: {{dkim: [{json.dumps(k)}]}}}}]") for k in keys]
    plans = [DomainPlan.of(c.domains[0], c.defaults) for c in configs]
    (nxt,), (active,) = ([s for s in p.specs if s.record == "dkim:s1"] for p in plans)
    assert nxt.fingerprint == active.fingerprint
    assert (nxt.capability, active.capability) == (None, "sending")  # a `next` key is advisory
