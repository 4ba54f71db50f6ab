"""Domains managed over the API, end to end: a real daemon process, real HTTP, real DNS (the
test server), a real webhook receiver. The records a create answer lists are published as
given (zone-file lines into the DNS server) and must verify."""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from domainwatch.testing import DnsTestServer
from tests.integration.api_daemon import CONFIG_DOMAIN, VIEWER, ApiDaemon, started
from tests.integration.cli import run_cli
from tests.integration.receiver import Receiver, new_secret
from tests.keys import rsa_key

NAME = "updates.example.org"


def document(name: str = NAME, key: int = 0) -> dict[str, Any]:
    return {
        "name": name,
        "sending": {
            "spf": {"include": ["provider.example.net"]},
            "dkim": [{"selector": "s1", "public_key": rsa_key(2048, key)}],
            "mx": {"host": "feedback.provider.example.net"},
        },
    }


def provider(dns: DnsTestServer) -> None:
    """What the email provider publishes on its own side."""
    dns.set("provider.example.net", "TXT", ["v=spf1 ip4:192.0.2.0/24 -all"])
    dns.set("feedback.provider.example.net", "A", ["192.0.2.10"])


def publish_answer(dns: DnsTestServer, domain: dict[str, Any]) -> None:
    """Publish every record the answer lists, exactly as listed."""
    dns.publish("\n".join(r["zone_line"] for r in domain["records"] if r["zone_line"]))


def statuses(domain: dict[str, Any]) -> dict[str, str]:
    return {r["record"]: r["status"] for r in domain["records"]}


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hook = await Receiver([new_secret()]).start()
    yield hook
    await hook.stop()


@pytest.fixture
async def daemon(tmp_path: Path, dns_server: DnsTestServer, receiver: Receiver) -> AsyncIterator[ApiDaemon]:
    provider(dns_server)
    running = await started(tmp_path, dns_server, receiver)
    yield running
    await running.stop()


async def test_create_publish_verify_patch_delete(
    daemon: ApiDaemon, dns_server: DnsTestServer, receiver: Receiver
) -> None:
    created = await daemon.call("POST", "/api/v1/domains", document())
    assert 201 == created.status
    body = created.body
    assert ("api", "not_started") == (body["source"], body["status"])
    assert created.headers["location"] == f"/api/v1/domains/{NAME}"
    lines = {r["record"]: r["zone_line"] for r in body["records"]}
    assert lines["spf"] == f'send.{NAME}. 3600 IN TXT "v=spf1 include:provider.example.net ~all"'
    assert lines["return_path_mx"] == f"send.{NAME}. 3600 IN MX 10 feedback.provider.example.net."
    assert lines["dkim:s1"].startswith(f's1._domainkey.{NAME}. 3600 IN TXT "v=DKIM1; k=rsa; p=')
    assert {"name", "type", "expected"} <= set(body["records"][0])
    publish_answer(dns_server, body)
    await daemon.call("POST", f"/api/v1/domains/{NAME}/verify")
    verified = await daemon.status(NAME, "verified")
    assert {"spf": "verified", "dkim:s1": "verified", "return_path_mx": "verified"}.items() <= statuses(
        verified
    ).items()
    # A new DKIM key: that record restarts, the others keep their state.
    new_key = {"sending": {"dkim": [{"selector": "s1", "public_key": rsa_key(2048, 1)}]}}
    patched = await daemon.call("PATCH", f"/api/v1/domains/{NAME}", new_key)
    assert 200 == patched.status, patched.body
    after = statuses(patched.body)
    assert ("pending", "verified", "verified") == (after["dkim:s1"], after["spf"], after["return_path_mx"])
    document_now = (await daemon.call("GET", f"/api/v1/domains/{NAME}/document")).body
    assert rsa_key(2048, 1) == document_now["sending"]["dkim"][0]["public_key"]
    assert document_now["verify"] is True  # the verify action is kept in the document
    # Delete: gone at once, and the webhook receiver hears of it.
    assert 204 == (await daemon.call("DELETE", f"/api/v1/domains/{NAME}")).status
    assert 404 == (await daemon.call("GET", f"/api/v1/domains/{NAME}")).status
    await daemon.until(lambda: _received(receiver, "domain.deleted"))
    deleted = next(r.body for r in receiver.received if r.body["type"] == "domain.deleted")
    assert (NAME, "api") == (deleted["data"]["domain"], deleted["data"]["source"])
    sequences = receiver.sequences(NAME)
    assert sorted(sequences) == sequences  # the deletion comes after the status changes


async def _received(receiver: Receiver, kind: str) -> bool:
    return any(r.body["type"] == kind for r in receiver.received)


async def test_history_shows_the_lifecycle(daemon: ApiDaemon) -> None:
    await daemon.call("POST", "/api/v1/domains", document())
    await daemon.call("PATCH", f"/api/v1/domains/{NAME}", {"interval": "10m"})
    renamed = await daemon.call("PATCH", f"/api/v1/domains/{NAME}", {"name": "other.example.org"})
    assert (422, "name") == (renamed.status, renamed.body["error"]["errors"][0]["path"])
    history = (await daemon.call("GET", f"/api/v1/domains/{NAME}/history", token=VIEWER)).body["history"]
    lifecycle = [(e["subject"], e["reason"]) for e in reversed(history) if e["kind"] == "lifecycle"]
    assert [
        ("created", "created over the API by ops"),
        ("updated", "updated over the API by ops"),
    ] == lifecycle


async def test_config_domains_are_read_only(daemon: ApiDaemon) -> None:
    for method, path, body in (
        ("POST", "/api/v1/domains", {"name": CONFIG_DOMAIN, "verify": False}),
        ("PATCH", f"/api/v1/domains/{CONFIG_DOMAIN}", {"interval": "1m"}),
        ("DELETE", f"/api/v1/domains/{CONFIG_DOMAIN}", None),
    ):
        answer = await daemon.call(method, path, body)
        assert (409, "managed_by_config") == (answer.status, answer.body["error"]["code"]), (method, answer)
    config_document = await daemon.call("GET", f"/api/v1/domains/{CONFIG_DOMAIN}/document", token=VIEWER)
    assert {"include": ["provider.example.net"], "authorize": []} == config_document.body["sending"]["spf"]
    assert config_document.headers["etag"].startswith('"')


async def test_a_viewer_reads_but_cannot_write(daemon: ApiDaemon) -> None:
    assert 201 == (await daemon.call("POST", "/api/v1/domains", document())).status
    assert 200 == (await daemon.call("GET", f"/api/v1/domains/{NAME}", token=VIEWER)).status
    for method, path, body in (
        ("POST", "/api/v1/domains", document("other.example.org")),
        ("PATCH", f"/api/v1/domains/{NAME}", {"interval": "1m"}),
        ("DELETE", f"/api/v1/domains/{NAME}", None),
        ("POST", f"/api/v1/domains/{NAME}/verify", None),
    ):
        answer = await daemon.call(method, path, body, token=VIEWER)
        assert 403 == answer.status, (method, path)
    assert 401 == (await daemon.call("POST", "/api/v1/domains", document(), token=None)).status


async def test_invalid_bodies_are_answered_with_field_paths(daemon: ApiDaemon) -> None:
    bad = {"name": NAME, "sending": {"dkim": [{"selector": "no spaces allowed"}]}, "interval": 5}
    answer = await daemon.call("POST", "/api/v1/domains", bad)
    assert (422, "invalid_domain") == (answer.status, answer.body["error"]["code"])
    assert {
        ("sending.dkim[0].selector", "must be a DNS label"),
        ("interval", "must be a duration such as 500ms, 2s, 5m, 72h or 30d"),
    } == {(e["path"], e["message"]) for e in answer.body["error"]["errors"]}
    for name, message in (("*.example.org", "must name one domain (no wildcards)"), ("a..b", None)):
        answer = await daemon.call("POST", "/api/v1/domains", {"name": name, "verify": False})
        assert 422 == answer.status
        assert "name" == answer.body["error"]["errors"][0]["path"]
        assert message in (None, answer.body["error"]["errors"][0]["message"])
    assert 400 == (await daemon.call("POST", "/api/v1/domains", data=b"{not json", headers=JSON)).status
    nested = b"[" * 20_000 + b"]" * 20_000
    assert 400 == (await daemon.call("POST", "/api/v1/domains", data=nested, headers=JSON)).status
    huge = {"name": NAME, "preset": "x" * 70_000}
    assert 413 == (await daemon.call("POST", "/api/v1/domains", huge)).status
    assert 404 == (await daemon.call("PATCH", f"/api/v1/domains/{NAME}", {"interval": "1m"})).status
    # Nothing was half-written: no domain came of any of it.
    listing = await daemon.call("GET", "/api/v1/domains?source=api", token=VIEWER)
    assert 0 == listing.body["total"]


JSON = {"Content-Type": "application/json"}


async def test_names_are_normalised_and_taken_names_refused(daemon: ApiDaemon) -> None:
    created = await daemon.call("POST", "/api/v1/domains", {"name": "Bücher.Example.ORG.", "verify": False})
    assert 201 == created.status
    assert "xn--bcher-kva.example.org" == created.body["name"]
    again = await daemon.call(
        "POST", "/api/v1/domains", {"name": "xn--bcher-kva.example.org", "verify": False}
    )
    assert (409, "already_exists") == (again.status, again.body["error"]["code"])


async def test_idempotency_key_and_if_match(daemon: ApiDaemon) -> None:
    key = {"Idempotency-Key": "signup-42"}
    first = await daemon.call("POST", "/api/v1/domains", document(), headers=key)
    retry = await daemon.call("POST", "/api/v1/domains", document(), headers=key)
    assert (201, 201) == (first.status, retry.status)
    assert first.body == retry.body
    reused = await daemon.call("POST", "/api/v1/domains", document("b.example.org"), headers=key)
    assert (422, "idempotency_key_reused") == (reused.status, reused.body["error"]["code"])
    etag = (await daemon.call("GET", f"/api/v1/domains/{NAME}")).headers["etag"]
    changed = await daemon.call(
        "PATCH", f"/api/v1/domains/{NAME}", {"interval": "2m"}, headers={"If-Match": etag}
    )
    assert 200 == changed.status
    stale = await daemon.call(
        "PATCH", f"/api/v1/domains/{NAME}", {"interval": "3m"}, headers={"If-Match": etag}
    )
    assert (412, "precondition_failed") == (stale.status, stale.body["error"]["code"])
    gone = await daemon.call("DELETE", f"/api/v1/domains/{NAME}", headers={"If-Match": etag})
    assert 412 == gone.status
    assert (
        204
        == (
            await daemon.call(
                "DELETE", f"/api/v1/domains/{NAME}", headers={"If-Match": changed.headers["etag"]}
            )
        ).status
    )


async def test_lists_and_exports_filter_by_source(daemon: ApiDaemon) -> None:
    await daemon.call("POST", "/api/v1/domains", document())
    listing = (await daemon.call("GET", "/api/v1/domains?source=api", token=VIEWER)).body
    assert [NAME] == [d["name"] for d in listing["domains"]]
    found = (await daemon.call("GET", "/api/v1/domains?q=static", token=VIEWER)).body
    assert [CONFIG_DOMAIN] == [d["name"] for d in found["domains"]]
    csv = (await daemon.call("GET", "/api/v1/export/domains.csv?source=api")).body
    assert [NAME] == [line.split(",")[0] for line in csv.splitlines()[1:]]
    assert csv.splitlines()[0].endswith(",source,labels")
    history = (await daemon.call("GET", "/api/v1/export/history.csv?q=updates")).body
    assert {NAME} == {line.split(",")[1] for line in history.splitlines()[1:]}


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
async def test_api_domains_survive_a_restart(
    tmp_path: Path, dns_server: DnsTestServer, daemon: ApiDaemon, how: int
) -> None:
    provider(dns_server)
    created = (await daemon.call("POST", "/api/v1/domains", {**document(), "verify": True})).body
    publish_answer(dns_server, created)
    await daemon.status(NAME, "verified")
    await daemon.stop(how)
    again = await ApiDaemon(daemon.config, daemon.port).start()
    try:
        domain = (await again.call("GET", f"/api/v1/domains/{NAME}")).body
        assert "api" == domain["source"]
        if how == signal.SIGTERM:  # a clean stop writes everything
            assert "verified" == domain["status"]
        # After kill -9 the last check's batch (at most 50 ms of them) may be lost: the next
        # check observes the same records again.
        await again.status(NAME, "verified")
        stored = (await again.call("GET", f"/api/v1/domains/{NAME}/document")).body
        assert document()["sending"] == stored["sending"]
    finally:
        await again.stop()


async def test_the_config_takes_over_a_name_managed_over_the_api(daemon: ApiDaemon) -> None:
    await daemon.call("POST", "/api/v1/domains", document())
    text = daemon.config.read_text()
    daemon.config.write_text(
        text + f"  - name: {NAME}\n    sending: {{spf: {{include: [provider.example.net]}}}}\n"
    )
    assert 200 == (await daemon.call("POST", "/-/reload")).status
    domain = (await daemon.call("GET", f"/api/v1/domains/{NAME}")).body
    assert "config" == domain["source"]
    history = (await daemon.call("GET", f"/api/v1/domains/{NAME}/history")).body["history"]
    assert "managed_by_config" in [e["subject"] for e in history if e["kind"] == "lifecycle"]
    assert 409 == (await daemon.call("DELETE", f"/api/v1/domains/{NAME}")).status


async def test_a_write_for_another_shard_names_the_owner(tmp_path: Path, dns_server: DnsTestServer) -> None:
    running = await started(tmp_path, dns_server, None, extra="sharding: {shard: 0, total_shards: 4}\n")
    try:
        answers = [
            await running.call("POST", "/api/v1/domains", {"name": f"d{i}.example.org", "verify": False})
            for i in range(12)
        ]
        elsewhere = [a for a in answers if a.status == 421]
        assert elsewhere
        assert all(a.body["error"]["code"] == "other_shard" for a in elsewhere)
        assert all(1 <= a.body["error"]["shard"] <= 3 for a in elsewhere)
        assert {201, 421} == {a.status for a in answers}
    finally:
        await running.stop()


async def test_the_status_page_shows_the_source_and_what_to_publish(daemon: ApiDaemon) -> None:
    await daemon.call("POST", "/api/v1/domains", document())
    page = (await daemon.call("GET", f"/domains/{NAME}", token=VIEWER)).body
    assert "Managed over the API." in page
    assert f"send.{NAME}. 3600 IN TXT &#34;v=spf1 include:provider.example.net ~all&#34;" in page
    index = (await daemon.call("GET", "/", token=VIEWER)).body
    assert '<td class="narrow-hide">api</td>' in index
    assert '<td class="narrow-hide">config</td>' in index
    config_page = (await daemon.call("GET", f"/domains/{CONFIG_DOMAIN}", token=VIEWER)).body
    assert "Managed by the config file." in config_page


async def test_the_zone_block_published_as_given_makes_the_domain_verify(
    daemon: ApiDaemon, dns_server: DnsTestServer, tmp_path: Path
) -> None:
    """GET /api/v1/domains/{name}/zone (a viewer may) and `domains get --format zone` give one
    block; pasted into the DNS test server as it is, the domain verifies."""
    name = "zone.example.org"
    assert 201 == (await daemon.call("POST", "/api/v1/domains", {**document(name), "verify": True})).status
    answer = await daemon.call("GET", f"/api/v1/domains/{name}/zone", token=VIEWER)
    assert 200 == answer.status
    assert answer.headers["content-type"].startswith("text/dns")
    block = answer.body
    assert block.startswith(f"; domainwatch: the records {name} must still publish")
    token = tmp_path / "viewer"
    token.write_text(VIEWER)
    printed = await run_cli(
        "domains", "get", name, "--format", "zone", "--url", daemon.url, "--token-file", str(token)
    )
    assert (0, block) == (printed.code, printed.out)
    dns_server.publish(block)
    await daemon.status(name, "verified")
    done = (await daemon.call("GET", f"/api/v1/domains/{name}/zone", token=VIEWER)).body
    assert done.startswith(f"; domainwatch: every record of {name} is in place")  # nothing to paste twice
    assert 404 == (await daemon.call("GET", "/api/v1/domains/unknown.example.org/zone", token=VIEWER)).status


async def test_owner_labels_through_the_api_the_export_and_the_webhooks(
    daemon: ApiDaemon, dns_server: DnsTestServer, receiver: Receiver
) -> None:
    """`labels` on create, a 422 naming the key, the list filtered by label, the CSV column and
    every webhook body's data.labels."""
    bad = await daemon.call("POST", "/api/v1/domains", {**document(), "labels": {"Team": "x"}})
    assert (422, "labels.Team") == (bad.status, bad.body["error"]["errors"][0]["path"])
    labelled = {**document(), "labels": {"team": "billing", "customer": "acme"}, "verify": True}
    created = await daemon.call("POST", "/api/v1/domains", labelled)
    assert {"team": "billing", "customer": "acme"} == created.body["labels"]
    await daemon.call(
        "POST", "/api/v1/domains", {**document("other.example.org"), "labels": {"team": "platform"}}
    )
    billing = await daemon.call("GET", "/api/v1/domains?label=team=billing")
    assert [NAME] == [d["name"] for d in billing.body["domains"]]
    either = await daemon.call(
        "GET", "/api/v1/domains?label=team=billing&label=team=platform&label=customer=acme"
    )
    assert [NAME] == [d["name"] for d in either.body["domains"]]  # AND across keys
    assert 400 == (await daemon.call("GET", "/api/v1/domains?label=team")).status
    publish_answer(dns_server, created.body)
    await daemon.status(NAME, "verified")
    await daemon.until(lambda: _received_from(receiver, NAME))
    sent = [r.body["data"] for r in receiver.received if r.body["type"] == "domain.status_changed"]
    assert {"team": "billing", "customer": "acme"} == next(d for d in sent if d["domain"] == NAME)["labels"]
    assert {} == next(d for d in sent if d["domain"] == CONFIG_DOMAIN)["labels"]
    export = await daemon.call("GET", "/api/v1/export/domains.csv?label=team=billing")
    header, row = export.body.splitlines()[:2]
    assert header.endswith(",labels")
    assert row.endswith(",customer=acme;team=billing")


async def _received_from(receiver: Receiver, name: str) -> bool:
    return any(r.body["data"].get("domain") == name for r in receiver.received)
