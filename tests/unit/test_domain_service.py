"""The domain service's rules over a daemon on the in-memory store and a fake resolver: what
the three front doors share (service/domains.py, daemon/membership.py)."""

from __future__ import annotations

import inspect
import json
import random
from datetime import timedelta
from typing import Any

import pytest
from structlog.testing import capture_logs

from domainwatch.config.document import read_int
from domainwatch.config.loader import parse
from domainwatch.daemon.daemon import Daemon
from domainwatch.service.domains import Domains
from domainwatch.service.errors import Caller, ServiceError
from domainwatch.state.domain import DomainTrack
from domainwatch.store.base import DocumentWrite, Save, StoredDocument
from domainwatch.testing import FakeClock, FakeResolver, MemoryStore

OPS, VIEWER = Caller("ops", "admin"), Caller("grafana", "viewer")
CONFIG = """storage: {path: x}
domains:
  - {name: static.example.com, receiving: {mx: [{host: mx.example.net}]}}
"""
NAME = "api.example.org"
ZONE = {
    (f"send.{NAME}", "TXT"): ["v=spf1 include:provider.example.net ~all"],
    ("provider.example.net", "TXT"): ["v=spf1 ip4:192.0.2.0/24 -all"],
}


def document(**extra: Any) -> dict[str, Any]:
    return {"name": NAME, "sending": {"spf": {"include": ["provider.example.net"]}}, **extra}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


async def daemon_on(store: MemoryStore, clock: FakeClock, config: str = CONFIG) -> Daemon:
    return await Daemon.open(
        parse(config), store, resolver=FakeResolver(ZONE), clock=clock, rng=random.Random(1)
    )


@pytest.fixture
async def domains(store: MemoryStore, clock: FakeClock) -> Domains:
    return Domains(await daemon_on(store, clock))


async def refusal(call: Any, *args: Any) -> tuple[int, str]:
    """The refusal of a service call (a coroutine's, awaited)."""

    async def called() -> None:
        answer = call(*args)
        if inspect.isawaitable(answer):
            await answer

    with pytest.raises(ServiceError) as caught:
        await called()
    return caught.value.status, caught.value.code


async def test_create_then_check_verifies_and_events_tell_the_story(domains: Domains) -> None:
    status, body = await domains.create(document(verify=True), OPS)
    assert (201, "pending") == (status, json.loads(body)["status"])
    await domains.daemon.run_once()
    assert "verified" == (await domains.view(NAME))["status"]
    history = (await domains.history(NAME, 50))["history"]
    assert ("lifecycle", "created") == (history[-1]["kind"], history[-1]["subject"])
    assert [1, 2] == [e["sequence"] for e in reversed(history)][:2]


async def test_writes_need_an_admin_and_respect_the_config(domains: Domains) -> None:
    assert (403, "forbidden") == await refusal(domains.create, document(), VIEWER)
    assert (409, "managed_by_config") == await refusal(domains.create, {"name": "static.example.com"}, OPS)
    assert (409, "managed_by_config") == await refusal(domains.delete, "static.example.com", OPS, None)
    assert (404, "not_found") == await refusal(domains.update, "nothing.example.org", {}, OPS, None)
    assert (422, "invalid_domain") == await refusal(domains.delete, "not a name", OPS, None)
    assert (404, "not_found") == await refusal(domains.known, "not a name")


async def test_a_no_op_patch_writes_nothing(domains: Domains, store: MemoryStore) -> None:
    await domains.create(document(), OPS)
    before = len(await store.history(NAME))
    await domains.update(NAME, {"sending": {"spf": {"include": ["provider.example.net"]}}}, OPS, None)
    assert before == len(await store.history(NAME))


async def test_a_name_created_again_continues_its_history(domains: Domains, clock: FakeClock) -> None:
    await domains.create(document(verify=True), OPS)
    await domains.daemon.run_once()
    last = (await domains.history(NAME, 1))["history"][0]["sequence"]
    await domains.delete(NAME, OPS, None)
    assert (404, "not_found") == await refusal(domains.known, NAME)
    clock.advance(timedelta(minutes=1))
    await domains.create(document(), OPS)
    lifecycle = [
        (e["subject"], e["sequence"])
        for e in (await domains.history(NAME, 50))["history"]
        if e["kind"] == "lifecycle"
    ]
    assert [("created", last + 2), ("deleted", last + 1)] == lifecycle[:2]  # numbering goes on
    assert "not_started" == (await domains.view(NAME))["status"]  # verify: false now


async def test_api_domains_and_their_documents_outlive_the_daemon(
    store: MemoryStore, clock: FakeClock
) -> None:
    await Domains(await daemon_on(store, clock)).create(document(interval="10m"), OPS)
    again = Domains(await daemon_on(store, clock))
    assert "api" == (await again.view(NAME))["source"]
    assert "10m" == again.document(NAME)[0]["interval"]


async def test_the_config_takes_over_and_says_so(store: MemoryStore, clock: FakeClock) -> None:
    domains = Domains(await daemon_on(store, clock))
    await domains.create(document(), OPS)
    taken = CONFIG + f"  - {{name: {NAME}, sending: {{spf: {{include: [provider.example.net]}}}}}}\n"
    await domains.daemon.apply_config(parse(taken))
    assert "config" == (await domains.view(NAME))["source"]
    assert NAME not in await store.documents()
    lifecycle = [
        e["subject"] for e in (await domains.history(NAME, 50))["history"] if e["kind"] == "lifecycle"
    ]
    assert ["managed_by_config", "created"] == lifecycle
    # And after a restart on that config, it stays a config domain.
    assert "config" == (await Domains(await daemon_on(store, clock, taken)).view(NAME))["source"]


async def test_a_stored_document_the_models_refuse_is_skipped_then_fixable(
    store: MemoryStore, clock: FakeClock
) -> None:
    await Domains(await daemon_on(store, clock)).create(document(), OPS)
    stored = (await store.documents())[NAME]
    store.engine._documents[NAME] = type(stored)(  # type: ignore[attr-defined]
        NAME, {**stored.body, "interval": 5}, stored.created_at, stored.updated_at
    )
    domains = Domains(await daemon_on(store, clock))
    assert NAME not in domains.daemon.fleet.plans  # logged and skipped; the daemon runs
    await domains.update(NAME, {"interval": "5m"}, OPS, None)  # the fix
    assert "api" == (await domains.view(NAME))["source"]


async def test_verify_on_an_api_domain_is_kept_in_its_document(domains: Domains) -> None:
    await domains.create(document(), OPS)
    assert "not_started" == (await domains.view(NAME))["status"]
    answer = await domains.verify(NAME, OPS)
    assert "pending" == answer["domain"]["status"]
    assert domains.document(NAME)[0]["verify"] is True


async def test_an_idempotent_retry_is_answered_even_after_a_restart(
    store: MemoryStore, clock: FakeClock
) -> None:
    first = await Domains(await daemon_on(store, clock)).create(document(), OPS, "key-1")
    assert first == await Domains(await daemon_on(store, clock)).create(document(), OPS, "key-1")
    assert (201, NAME) == (first[0], json.loads(first[1])["name"])
    assert (422, "idempotency_key_reused") == await refusal(
        Domains(await daemon_on(store, clock)).create, document(interval="1m"), OPS, "key-1"
    )
    # Keys are the caller's own: another token's same key is another request.
    assert (409, "already_exists") == await refusal(
        Domains(await daemon_on(store, clock)).create, document(), Caller("ci", "admin"), "key-1"
    )
    assert (400, "bad_idempotency_key") == await refusal(
        Domains(await daemon_on(store, clock)).create, document(), OPS, "\x00"
    )


async def test_a_failed_write_changes_nothing(domains: Domains, store: MemoryStore) -> None:
    def broken(_: object) -> None:
        raise OSError("disk full")

    store.save_many = broken  # type: ignore[method-assign,assignment]
    with pytest.raises(OSError, match="disk full"):
        await domains.create(document(), OPS)
    assert NAME not in domains.daemon.fleet.plans
    assert NAME not in domains.daemon.fleet.tracks
    assert NAME not in domains.daemon.fleet.documents


@pytest.mark.parametrize(
    ("extra", "path", "message"),
    [
        ({"interval": "0s"}, "interval", "must be at least 30s"),
        ({"pending_interval": "1ms"}, "pending_interval", "must be at least 30s"),
        ({"failed_interval": "29s"}, "failed_interval", "must be at least 30s"),
        ({"recheck_interval": "9s"}, "recheck_interval", "must be at least 10s"),
        ({"window": "5m"}, "window", "must be at least 10m"),
    ],
)
async def test_an_api_document_is_held_to_the_configured_floors(
    domains: Domains, extra: dict[str, str], path: str, message: str
) -> None:
    """422 naming the field and the bound, on create and on update (issue #26, item 5)."""
    with pytest.raises(ServiceError) as created:
        await domains.create(document(**extra), OPS)
    assert (422, [{"path": path, "message": message}]) == (
        created.value.status,
        created.value.details["errors"],
    )
    await domains.create(document(), OPS)
    with pytest.raises(ServiceError) as updated:
        await domains.update(NAME, extra, OPS, None)
    assert (422, [{"path": path, "message": message}]) == (
        updated.value.status,
        updated.value.details["errors"],
    )


async def test_lowered_floors_let_an_api_document_through(store: MemoryStore, clock: FakeClock) -> None:
    lowered = Domains(await daemon_on(store, clock, CONFIG + "limits: {min_interval: 1s}\n"))
    status, _ = await lowered.create(document(interval="2s"), OPS)
    assert 201 == status


async def test_an_integer_too_long_to_read_is_a_422_naming_its_field(domains: Domains) -> None:
    """Issue #26, item 8: the API reads JSON with web/api.py's read_int."""
    raw = json.loads('{"name": "api.example.org", "confirm_missing": ' + "9" * 5000 + "}", parse_int=read_int)
    with pytest.raises(ServiceError) as caught:
        await domains.create(raw, OPS)
    errors = [{"path": "confirm_missing", "message": "a number of more than 4,300 digits"}]
    assert (422, errors) == (caught.value.status, caught.value.details["errors"])


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("127.0.0.1", "is an IP address, not a domain name"),
        ("_dmarc.x.example", "has a label with an underscore"),
        ("g\u043e\u043egle.com", "mixes scripts (Cyrillic, Latin)"),  # two Cyrillic o's
    ],
)
async def test_names_that_are_no_domain_to_watch_are_refused(domains: Domains, name: str, why: str) -> None:
    """Issue #26, item 9: 422 `invalid_domain` saying why."""
    with pytest.raises(ServiceError) as caught:
        await domains.create({**document(), "name": name}, OPS)
    assert (422, "invalid_domain") == (caught.value.status, caught.value.code)
    assert why in caught.value.details["errors"][0]["message"]


async def test_a_stored_name_the_rules_now_refuse_is_kept_logged_editable_and_deletable(
    store: MemoryStore, clock: FakeClock
) -> None:
    """Stored before the stricter rules: loaded, checked, logged once, never dropped."""
    name = "_legacy.example.org"
    stored = StoredDocument(name, {**document(), "name": name}, clock.now, clock.now)
    await store.save_many([Save(DomainTrack(name), write=DocumentWrite(stored))])
    with capture_logs() as logs:
        daemon = await daemon_on(store, clock)
    assert [name] == [e["domain"] for e in logs if e["event"] == "domain_name_refused_now"]
    assert name in daemon.fleet.api_domains
    service = Domains(daemon)
    assert name == (await service.update(name, {"interval": "10m"}, OPS, None))["name"]
    assert name == await service.delete(name, OPS, None)
