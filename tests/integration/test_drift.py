"""Drift end to end over real DNS: the daemon (fake time) checks domains the DNS test server
publishes, and what changes comes out in the history, the webhooks (a verifying receiver), the
metrics and the API: a table of changes, a pin acknowledged and a maintenance window, and a DKIM
rotation from `next` to `retiring`."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from domainwatch.config.loader import parse
from domainwatch.metrics.instruments import Metrics
from domainwatch.store.sqlite import SqliteStore
from domainwatch.testing import DnsTestServer, FakeClock
from domainwatch.testing.dns_server import Behaviour
from domainwatch.web.app import create_app
from tests.integration.receiver import Receiver, new_secret
from tests.integration.test_webhooks import Harness as WebhookHarness
from tests.keys import rsa_key
from tests.unit.test_drift_reasons import CHANGES

Client = TestClient[Any, Any]
MakeClient = Callable[[Any], Awaitable[Client]]
ADMIN = "admin-token-0123456789abc"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
DOMAIN, PINNED = "drift.example.com", "pinned.example.com"
STEP = timedelta(seconds=11)  # one check interval, and a little


def config_text(tmp_path: Path, dns: DnsTestServer, hooks: str = "", extra: str = "") -> str:
    return f"""
resolver: {{nameservers: ['{dns.address}'], timeout: 500ms, attempts: 2}}
storage: {{path: "{tmp_path / "state.db"}"}}
server: {{listen: 127.0.0.1:8427, tokens: [{{name: ops, role: admin, token: {ADMIN}}}]}}
defaults:
  {{confirm_missing: 1, interval: 10s, pending_interval: 10s, recheck_interval: 10s, failed_interval: 10s,
   dkim_retire_overlap: 1h, dkim_max_key_age: 30d}}
limits: {{min_interval: 1ms, min_recheck_interval: 1ms, min_window: 1ms, min_probe_interval: 1ms}}
webhook_retry_scale: 0.0001
{hooks}
{extra}"""


DOMAINS = f"""domains:
  - name: {DOMAIN}
    sending: {{spf: {{include: [p.example.net]}}, dkim: [{{selector: s1}}], return_path: "@"}}
    receiving: {{mx: [{{host: mx1.example.net, priority: 10}}]}}
    dmarc: {{required: true}}
  - name: {PINNED}
    pins: [spf]
    sending: {{spf: {{include: [p.example.net]}}, return_path: "@"}}
"""


def publish_base(dns: DnsTestServer) -> None:
    dns.set("p.example.net", "TXT", ["v=spf1 ip4:198.51.100.0/24 -all"])
    dns.set("q.example.net", "TXT", ["v=spf1 ip4:203.0.113.0/24 -all"])
    for host, address in (("mx1.example.net", "192.0.2.1"), ("mx2.example.net", "192.0.2.2")):
        dns.set(host, "A", [address])
    dns.set(DOMAIN, "TXT", ["v=spf1 include:p.example.net -all"])
    dns.set(f"s1._domainkey.{DOMAIN}", "TXT", [f"v=DKIM1; p={rsa_key(2048)}"])
    dns.set(DOMAIN, "MX", ["10 mx1.example.net"])
    dns.set(f"_dmarc.{DOMAIN}", "TXT", ["v=DMARC1; p=reject; rua=mailto:d@example.com"])
    dns.set(PINNED, "TXT", ["v=spf1 include:p.example.net -all"])


class Harness(WebhookHarness):
    """test_webhooks' harness, its resolver the daemon's own (real DNS to the test server)."""

    def __init__(self, tmp_path: Path, dns: DnsTestServer, text: str) -> None:
        self.clock = FakeClock(datetime.now(UTC))  # near real time: the receiver checks signature age
        self.config = parse(text)
        self.store = SqliteStore(self.config.storage.location.target)
        self.metrics = Metrics()
        self.resolver = None  # type: ignore[assignment]
        self.dns = dns

    @classmethod
    async def started(cls, tmp_path: Path, dns: DnsTestServer, text: str) -> Harness:
        harness = cls(tmp_path, dns, text)
        await harness.start()
        return harness

    async def stop(self) -> None:
        await self.daemon.shutdown()

    async def step(self, session: aiohttp.ClientSession | None = None, by: timedelta = STEP) -> None:
        """Fake time moves on a check interval: every domain is checked, webhooks delivered."""
        self.clock.advance(by)
        await self.daemon.run_once(self.clock.now)
        if session is not None:
            for _ in range(3):
                await self.worker.run_once(session)

    async def changes(self, name: str) -> list[dict[str, Any]]:
        events = await self.daemon.history(name, 1000)
        return [
            dict(e.observations) | {"sequence": e.sequence} for e in reversed(events) if e.kind == "change"
        ]

    def record(self, name: str, record: str) -> dict[str, Any]:
        known = self.daemon.fleet.known_results(name)
        assert known is not None
        return dict(known[record])


@pytest.fixture
async def harnesses() -> AsyncIterator[list[Harness]]:
    """Harnesses a test starts, stopped after it (the resolver's sockets closed)."""
    started: list[Harness] = []
    yield started
    for harness in started:
        await harness.stop()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    server = await Receiver([new_secret()]).start()
    yield server
    await server.stop()


def hooks(receiver: Receiver) -> str:
    entry = {"name": "drift", "url": receiver.url, "secrets": receiver.secrets, "events": ["record.changed"]}
    return f"webhooks: [{json.dumps(entry)}]"


async def test_a_table_of_changes_agrees_in_history_webhooks_and_metrics(
    tmp_path: Path, dns_server: DnsTestServer, receiver: Receiver, harnesses: list[Harness]
) -> None:
    publish_base(dns_server)
    text = config_text(tmp_path, dns_server, hooks(receiver)) + DOMAINS
    harness = await Harness.started(tmp_path, dns_server, text)
    harnesses.append(harness)
    names = {
        "dmarc": f"_dmarc.{DOMAIN}",
        "spf": DOMAIN,
        "dkim:s1": f"s1._domainkey.{DOMAIN}",
        "receiving_mx": DOMAIN,
    }
    rtype = {"receiving_mx": "MX"}
    table = [
        c for c in CHANGES if c[0] in names and c[2] and "INCLUDE" not in c[1][0] and "/32" not in c[2][0]
    ]
    async with aiohttp.ClientSession() as session:
        await harness.step(session)
        assert await harness.changes(DOMAIN) == []  # the first observation is a baseline, not a change
        for record, before, after, _, _ in table:  # each starts from what is published (restored)
            dns_server.set(names[record], rtype.get(record, "TXT"), before)
            await harness.step(session)
            seen = len(await harness.changes(DOMAIN))
            dns_server.set(names[record], rtype.get(record, "TXT"), after)
            await harness.step(session)
            changes = await harness.changes(DOMAIN)
            assert len(changes) >= seen + 1, (record, after)
        # A lookup error between two equal values is no change.
        seen = len(await harness.changes(DOMAIN))
        dns_server.behave(f"_dmarc.{DOMAIN}", Behaviour.SERVFAIL)
        await harness.step(session)
        assert harness.record(DOMAIN, "dmarc")["state"] == "error"
        dns_server.behave(f"_dmarc.{DOMAIN}", Behaviour.ANSWER)
        await harness.step(session)
        assert len(await harness.changes(DOMAIN)) == seen

    changes = await harness.changes(DOMAIN)
    for record, before, after, reasons, direction in table:
        match = [
            c
            for c in changes
            if c["record"] == record and c["before"] == sorted(before) and c["after"] == sorted(after)
        ]
        assert match, (record, before, after)
        got = [r["code"] + (f":{r['tag']}" if "tag" in r else "") for r in match[-1]["reasons"]]
        assert (got, match[-1]["direction"]) == (reasons, direction)
    # The history names found values by value set; its readers see them again.
    stored = [e for e in await harness.store.history(DOMAIN) if e.kind == "domain"]
    shown = [e for e in await harness.daemon.history(DOMAIN, 1000) if e.kind == "domain"]
    assert stored
    assert all(
        "found" not in s and "found_set" in s
        for s in stored[0].observations.values()
        if s.get("state") == "present"
    )
    assert all(isinstance(s["found"], list) for e in shown for s in e.observations.values())
    # Webhooks: one signed record.changed per change, in the domain's sequence, same data.
    bodies = [r.body["data"] for r in receiver.received if r.body["type"] == "record.changed"]
    mine = [b for b in bodies if b["domain"] == DOMAIN]
    assert [b["sequence"] for b in mine] == [c["sequence"] for c in changes]
    assert [(b["record"], b["before"], b["after"], b["direction"]) for b in mine] == [
        (c["record"], c["before"], c["after"], c["direction"]) for c in changes
    ]
    # Metrics: the counter by kind and direction, the weakened timestamp of weakened records.
    await harness.exposition.warm_up()
    text = harness.exposition.render()[0].decode()
    weakening = sum(1 for c in changes if c["record"] == "dmarc" and c["direction"] == "weakening")
    counter = harness.metrics.record_changes.labels("dmarc", "weakening")._value.get()
    assert counter == weakening
    assert (
        f'domainwatch_record_changes_total{{direction="weakening",kind="dmarc"}} {float(weakening)}' in text
    )
    weakened = harness.daemon.fleet.tracks[DOMAIN].drift["dmarc"].weakened_at
    assert weakened is not None
    line = f'domainwatch_record_weakened_timestamp_seconds{{domain="{DOMAIN}",record="dmarc"}}'
    values = [float(row.split()[-1]) for row in text.splitlines() if row.startswith(line)]
    assert values == [weakened.timestamp()]


async def test_a_pin_is_acknowledged_and_a_window_keeps_changes_from_findings(
    tmp_path: Path, dns_server: DnsTestServer, aiohttp_client: MakeClient, harnesses: list[Harness]
) -> None:
    publish_base(dns_server)
    harness = await Harness.started(tmp_path, dns_server, config_text(tmp_path, dns_server) + DOMAINS)
    harnesses.append(harness)
    client = await aiohttp_client(create_app(harness.daemon, harness.exposition))
    await harness.step()
    await harness.step()
    assert harness.daemon.fleet.tracks[PINNED].status.value == "verified"
    ack = f"/api/v1/domains/{PINNED}/records/spf/acknowledge"
    assert (await client.post(ack, headers=AUTH)).status == 200  # nothing changed: a no-op baseline

    dns_server.set(PINNED, "TXT", ["v=spf1 include:p.example.net ~all"])  # still passes SPF's check
    await harness.step()
    spf = harness.record(PINNED, "spf")
    assert "record_pinned_changed" in [f["code"] for f in spf["findings"]]
    assert spf["state"] == "wrong"
    assert harness.daemon.fleet.tracks[PINNED].records["spf"].status.value == "temporary_failure"

    refusals = {
        f"/api/v1/domains/{PINNED}/records/dkim%3Anone/acknowledge": (404, "not_found"),
        f"/api/v1/domains/{DOMAIN}/records/spf/acknowledge": (409, "not_pinned"),
        "/api/v1/domains/unknown.example.com/records/spf/acknowledge": (404, "not_found"),
    }
    for path, (status, code) in refusals.items():
        answer = await client.post(path, headers=AUTH)
        assert (answer.status, (await answer.json())["error"]["code"]) == (status, code), path
    assert (await client.post(ack)).status == 401  # admin only
    answer = await client.post(ack, headers=AUTH)
    assert answer.status == 200
    body = await answer.json()
    assert (body["record"]["record"], [e["kind"] for e in body["events"]]) == ("spf", ["acknowledged"])
    await harness.step()
    spf = harness.record(PINNED, "spf")
    assert spf["state"] == "present"
    assert "record_pinned_changed" not in [f["code"] for f in spf["findings"]]
    await harness.step()
    assert harness.daemon.fleet.tracks[PINNED].records["spf"].status.value == "verified"

    # A maintenance window: the change is recorded, never a finding, and the pin moves with it.
    bad = [
        ({"domains": "[a-z]*", "records": ["spf"], "ends_at": "2099-01-01T00:00:00Z"}, "domains"),
        ({"domains": "*", "records": ["spf"], "ends_at": "2001-01-01T00:00:00Z"}, "ends_at"),
        ({"domains": "*", "records": ["spf"], "ends_at": "2001-01-01"}, "ends_at"),
        ({"domains": "*", "records": [], "ends_at": "2099-01-01T00:00:00Z"}, "records"),
    ]
    for window, path in bad:
        answer = await client.post("/api/v1/maintenance-windows", json=window, headers=AUTH)
        assert answer.status == 422, window
        assert path in [e["path"] for e in (await answer.json())["error"]["errors"]]
    ends = (harness.clock.now + timedelta(hours=2)).isoformat()
    window = {"domains": "pinned.*", "records": ["sp?"], "ends_at": ends, "comment": "SPF flattening"}
    answer = await client.post("/api/v1/maintenance-windows", json=window, headers=AUTH)
    assert answer.status == 201
    created = await answer.json()
    listed = await (await client.get("/api/v1/maintenance-windows", headers=AUTH)).json()
    assert [w["id"] for w in listed["windows"]] == [created["id"]]
    weakened = harness.daemon.fleet.tracks[PINNED].drift["spf"].weakened_at  # by the -all -> ~all
    dns_server.set(PINNED, "TXT", ["v=spf1 include:p.example.net include:q.example.net ~all"])
    await harness.step()
    spf = harness.record(PINNED, "spf")
    assert "record_pinned_changed" not in [f["code"] for f in spf["findings"]]
    last = (await harness.changes(PINNED))[-1]
    assert (last["in_window"], last["direction"]) == (True, "weakening")
    assert harness.daemon.fleet.tracks[PINNED].drift["spf"].weakened_at == weakened  # no ticket
    assert (await client.delete(f"/api/v1/maintenance-windows/{created['id']}", headers=AUTH)).status == 204
    assert (await client.delete(f"/api/v1/maintenance-windows/{created['id']}", headers=AUTH)).status == 404
    await harness.step()  # the window is gone; what was published inside it is the pin's baseline
    assert "record_pinned_changed" not in [f["code"] for f in harness.record(PINNED, "spf")["findings"]]
    page = await client.get(f"/domains/{PINNED}", headers=AUTH)
    assert 'class="drift drift-weakening"' in await page.text()  # on the page's timeline
    kinds = [e.kind for e in reversed(await harness.daemon.history(PINNED, 100))]
    assert kinds.count("change") == 2
    assert kinds.count("acknowledged") == 2


async def test_a_dkim_rotation_keeps_the_domain_verified(
    tmp_path: Path, dns_server: DnsTestServer, aiohttp_client: MakeClient, harnesses: list[Harness]
) -> None:
    """active A, next B -> B published -> dkim_next_ready -> active B, retiring A -> A removed
    after the overlap: verified throughout, the findings in order."""
    key_a, key_b = f"v=DKIM1; p={rsa_key(2048)}", f"v=DKIM1; p={rsa_key(2048, 1)}"
    dns_server.set("rot.example.com", "TXT", ["v=spf1 include:p.example.net -all"])
    dns_server.set("p.example.net", "TXT", ["v=spf1 -all"])
    dns_server.set("a._domainkey.rot.example.com", "TXT", [key_a])
    harness = await Harness.started(tmp_path, dns_server, config_text(tmp_path, dns_server) + "domains: []\n")
    harnesses.append(harness)
    client = await aiohttp_client(create_app(harness.daemon, harness.exposition))
    document = {
        "name": "rot.example.com",
        "verify": True,
        "sending": {
            "return_path": "@",
            "spf": {"include": ["p.example.net"]},
            "dkim": [{"selector": "a"}, {"selector": "b", "role": "next"}],
        },
    }
    assert (await client.post("/api/v1/domains", json=document, headers=AUTH)).status == 201
    seen: list[tuple[str, str]] = []

    async def check(by: timedelta = STEP) -> None:
        await harness.step(by=by)
        assert harness.daemon.fleet.tracks["rot.example.com"].status.value == "verified"
        for record in ("dkim:a", "dkim:b"):
            for finding in harness.record("rot.example.com", record)["findings"]:
                if (
                    finding["code"].startswith(("dkim_next", "dkim_retiring"))
                    and (record, finding["code"]) not in seen
                ):
                    seen.append((record, finding["code"]))

    await check()
    await check()
    dns_server.set("b._domainkey.rot.example.com", "TXT", [key_b])
    await check()
    await check(timedelta(seconds=301))  # the DNS test server's TTL: resolvers hold at most that
    assert ("dkim:b", "dkim_next_ready") in seen
    status_b = harness.daemon.fleet.tracks["rot.example.com"].records["dkim:b"].status
    patch = {"sending": {"dkim": [{"selector": "a", "role": "retiring"}, {"selector": "b"}]}}
    answer = await client.patch("/api/v1/domains/rot.example.com", json=patch, headers=AUTH)
    assert answer.status == 200, await answer.text()
    await check()
    assert harness.daemon.fleet.tracks["rot.example.com"].records["dkim:b"].status is status_b  # kept
    dns_server.remove("a._domainkey.rot.example.com")
    await check()
    dns_server.set("a._domainkey.rot.example.com", "TXT", [key_a])
    await check()
    await check(timedelta(hours=1))
    dns_server.remove("a._domainkey.rot.example.com")
    await check()
    codes = [code for _, code in seen]
    assert codes == [
        "dkim_next_not_ready",
        "dkim_next_ready",
        "dkim_retiring_removed_early",
        "dkim_retiring_safe_to_remove",
    ]
    assert "dkim_retiring_removed_early" not in [
        f["code"] for f in harness.record("rot.example.com", "dkim:a")["findings"]
    ]
    # A pin dropped: its finding goes with it.
    assert (
        await client.patch("/api/v1/domains/rot.example.com", json={"pins": ["spf"]}, headers=AUTH)
    ).status == 200
    await check()
    dns_server.set("rot.example.com", "TXT", ["v=spf1 include:p.example.net ~all"])
    await harness.step()
    assert "record_pinned_changed" in [
        f["code"] for f in harness.record("rot.example.com", "spf")["findings"]
    ]
    assert (
        await client.patch("/api/v1/domains/rot.example.com", json={"pins": []}, headers=AUTH)
    ).status == 200
    await harness.step()
    await harness.step()
    assert "record_pinned_changed" not in [
        f["code"] for f in harness.record("rot.example.com", "spf")["findings"]
    ]


async def test_a_change_while_stopped_is_judged_from_the_stored_values(
    tmp_path: Path, dns_server: DnsTestServer, harnesses: list[Harness]
) -> None:
    """After a restart the last values come from the store (value sets), not from memory."""
    publish_base(dns_server)
    text = config_text(tmp_path, dns_server) + DOMAINS
    first = await Harness.started(tmp_path, dns_server, text)
    await first.step()
    await first.daemon.shutdown()
    dns_server.set(f"_dmarc.{DOMAIN}", "TXT", ["v=DMARC1; p=quarantine; rua=mailto:d@example.com"])
    harness = await Harness.started(tmp_path, dns_server, text)
    harnesses.append(harness)
    harness.clock.now = first.clock.now
    assert harness.daemon.fleet.recent_sets == {}
    await harness.step()
    (change,) = await harness.changes(DOMAIN)
    assert change["before"] == ["v=DMARC1; p=reject; rua=mailto:d@example.com"]
    assert [r["code"] for r in change["reasons"]] == ["dmarc_policy_lowered"]
