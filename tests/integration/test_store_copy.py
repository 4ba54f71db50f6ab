"""`domainwatch store copy`: a SQLite store with history, an API domain and webhooks waiting is
moved to PostgreSQL, and a daemon on the copy carries on with the same statuses, history and
deliveries. Refused while a daemon holds the source, and into a store that holds anything."""

from __future__ import annotations

import json
import random
from pathlib import Path

import aiohttp

from domainwatch.config.loader import parse
from domainwatch.config.schema import Config
from domainwatch.daemon.daemon import Daemon
from domainwatch.service.domains import Domains
from domainwatch.service.errors import Caller
from domainwatch.state.rules import Status
from domainwatch.store.base import Store
from domainwatch.store.holder import holding
from domainwatch.store.postgres import PostgresStore
from domainwatch.store.sqlite import SqliteStore
from domainwatch.testing import FakeClock, FakeResolver
from domainwatch.webhooks.worker import WebhookWorker
from tests.integration.cli import run_cli
from tests.integration.daemons import free_port
from tests.integration.postgres import Postgres
from tests.integration.postgres_stores import new_database, postgres

__all__ = ["postgres"]  # a fixture

ZONE = FakeResolver(
    {
        ("send.shop.example.com", "TXT"): ["v=spf1 include:p.example.net ~all"],
        ("p.example.net", "TXT"): ["v=spf1 -all"],
    }
)


def config(storage: str) -> Config:
    # The endpoint is a closed port: every delivery stays pending, to be copied.
    return parse(f"""
storage: {storage}
limits: {{min_interval: 1ms, min_recheck_interval: 1ms, min_window: 1ms}}
webhooks:
  - {{name: ops, url: "http://127.0.0.1:{free_port()}/hook", secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}}
domains:
  - {{name: shop.example.com, sending: {{spf: {{include: [p.example.net]}}}}}}
  - {{name: never.example.com, receiving: {{mx: [{{host: mx.example.net}}]}}}}
""")


async def fill(store: Store, settings: Config, clock: FakeClock) -> Daemon:
    daemon = await Daemon.open(settings, store, resolver=ZONE, clock=clock, rng=random.Random(1))
    domains = Domains(daemon)
    await domains.create(
        {"name": "api.example.org", "verify": True, "receiving": {"mx": [{"host": "mx.example.net"}]}},
        Caller("ops", "admin"),
    )
    await daemon.run_once()
    worker = WebhookWorker(settings, store, clock=clock)
    await worker.start()
    async with aiohttp.ClientSession() as session:
        await worker.run_once(session)  # fanned out, attempted, refused: pending again
    return daemon


async def snapshot(store: Store) -> tuple[object, ...]:
    return (
        await store.load(include_removed=True),
        await store.history(limit=10_000),
        await store.deliveries(),
        await store.outbox(),
        await store.documents(),
        await store.disabled(),
        {name: await store.results(name) for name in await store.load()},
    )


async def test_a_sqlite_store_moves_to_postgresql_whole(tmp_path: Path, postgres: Postgres) -> None:
    path, clock = tmp_path / "state.db", FakeClock()
    sqlite = SqliteStore(path)
    daemon = await fill(sqlite, config(f"{{path: '{path}'}}"), clock)
    statuses = {name: track.status for name, track in daemon.fleet.tracks.items()}
    await daemon.shutdown()
    reopened = SqliteStore(path, readonly=True)
    before = await snapshot(reopened)
    await reopened.close()
    assert before[2], "the story needs deliveries waiting"

    url = new_database(postgres).replace("domainwatch@", "domainwatch:s3cret-password@")
    copied = await run_cli("store", "copy", f"sqlite:///{path}", url)
    assert 0 == copied.code, copied.err
    assert "s3cret-password" not in copied.out + copied.err
    assert "domainwatch:***@" in copied.out

    target = await PostgresStore.open(url)
    assert before == await snapshot(target)
    # The offline commands read the store the config's URL names, as the daemon does.
    settings = tmp_path / "postgres.yaml"
    settings.write_text("storage: {url_file: url.txt}\ndomains: []\n")
    (tmp_path / "url.txt").write_text(url)
    status = await run_cli("status", "-c", str(settings), "--format", "json")
    shown = {d["name"]: d["status"] for d in json.loads(status.out)["domains"]}
    assert {"api.example.org": statuses["api.example.org"]} == shown, status.err
    other = next(s.value for s in Status if s is not statuses["api.example.org"])
    filtered = await run_cli(
        "status", "-c", str(settings), "--format", "json", "--status", other, "--sort", "status"
    )
    assert (0, []) == (filtered.code, json.loads(filtered.out)["domains"])
    again = await Daemon.open(config(f"{{url: '{url}'}}"), target, resolver=ZONE, clock=clock)
    assert statuses == {name: track.status for name, track in again.fleet.tracks.items()}
    assert "api.example.org" in again.fleet.plans  # the API document came along
    await again.shutdown()


async def test_copy_is_refused_while_a_daemon_holds_the_source_or_into_a_full_store(
    tmp_path: Path, postgres: Postgres
) -> None:
    path = tmp_path / "state.db"
    daemon = await fill(SqliteStore(path), config(f"{{path: '{path}'}}"), FakeClock())
    await daemon.shutdown()
    url = new_database(postgres)
    with holding(str(path)):
        held = await run_cli("store", "copy", f"sqlite:///{path}", url)
    assert (2, "writes this store; stop it first") == (held.code, held.err.strip()[-32:])
    assert 0 == (await run_cli("store", "copy", f"sqlite:///{path}", url)).code
    again = await run_cli("store", "copy", f"sqlite:///{path}", url)
    assert 2 == again.code
    assert "already holds domains or history" in again.err
    back = tmp_path / "back.db"
    assert 0 == (await run_cli("store", "copy", url, f"sqlite:///{back}")).code  # and back again
    source, copy = SqliteStore(path, readonly=True), SqliteStore(back, readonly=True)
    assert await snapshot(source) == await snapshot(copy)
    await source.close()
    await copy.close()
