"""The JSON API, probes, reload and exports over real HTTP to the aiohttp app."""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from domainwatch.config.loader import parse
from domainwatch.daemon.daemon import Daemon
from domainwatch.store.sqlite import SqliteStore
from domainwatch.testing import FakeClock
from domainwatch.web.app import create_app
from tests.integration.web_fixtures import ADMIN, VIEWER, config_text, make_daemon, zone

Client = TestClient[Any, Any]
MakeClient = Callable[[web.Application], Awaitable[Client]]


@pytest.fixture
async def client(tmp_path: Path, aiohttp_client: MakeClient) -> Client:
    daemon, exposition = await make_daemon(tmp_path)
    return await aiohttp_client(create_app(daemon, exposition))


@pytest.fixture
async def secured(tmp_path: Path, aiohttp_client: MakeClient) -> Client:
    daemon, exposition = await make_daemon(tmp_path, tokens=True)
    return await aiohttp_client(create_app(daemon, exposition))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_domain_list_has_the_documented_shape(client: Client) -> None:
    """GET /api/v1/domains answers {"domains": [...]} with the domain object fields."""
    response = await client.get("/api/v1/domains")
    assert 200 == response.status
    body = await response.json()
    good = next(d for d in body["domains"] if d["name"] == "good.example.com")
    assert {"name", "status", "status_since", "window_deadline", "stale", "capabilities", "records"} <= set(
        good
    )
    assert ("verified", {"sending": "verified", "receiving": "verified"}) == (
        good["status"],
        good["capabilities"],
    )
    spf = good["records"][0]
    assert {"record", "status", "state", "name", "type", "expected", "found", "findings"} <= set(spf)
    assert ("spf", "verified", "present", "send.good.example.com") == (
        spf["record"],
        spf["status"],
        spf["state"],
        spf["name"],
    )


async def test_status_filter_and_bad_filter(client: Client) -> None:
    """?status= filters; an unknown status is a 400 with a JSON error."""
    body = await (await client.get("/api/v1/domains?status=not_started")).json()
    assert ["idle.example.com"] == [d["name"] for d in body["domains"]]
    bad = await client.get("/api/v1/domains?status=green")
    assert (400, "bad_parameter") == (bad.status, (await bad.json())["error"]["code"])


async def test_unknown_domain_is_404_json(client: Client) -> None:
    """Unknown domains and unknown paths answer JSON errors, never a traceback."""
    response = await client.get("/api/v1/domains/nope.example.com")
    assert (404, "not_found") == (response.status, (await response.json())["error"]["code"])
    assert 404 == (await client.get("/api/v1/nothing-here")).status


async def test_history_lists_changes_newest_first(client: Client) -> None:
    """The history holds every change with its observations."""
    body = await (await client.get("/api/v1/domains/good.example.com/history?limit=3")).json()
    assert 3 == len(body["history"])
    assert ("domain", "verified") == (body["history"][0]["kind"], body["history"][0]["status"])
    assert "spf" in body["history"][0]["observations"]
    assert 400 == (await client.get("/api/v1/domains/good.example.com/history?limit=0")).status


async def test_admin_actions_are_refused_without_tokens(client: Client) -> None:
    """No tokens configured: reads open, admin actions 403 with how to enable them."""
    response = await client.post("/api/v1/domains/good.example.com/verify")
    body = await response.json()
    assert (403, "forbidden") == (response.status, body["error"]["code"])
    assert "server.tokens" in body["error"]["message"]
    assert 403 == (await client.get("/api/v1/export/domains.csv")).status
    assert 403 == (await client.post("/-/reload")).status


async def test_tokens_401_403_and_open_probes(secured: Client) -> None:
    """With tokens: 401 without, viewers read, admins act; probes need no token."""
    assert 401 == (await secured.get("/api/v1/domains")).status
    assert 401 == (await secured.get("/api/v1/domains", headers=bearer("wrong-token-0123456789"))).status
    assert 401 == (await secured.get("/metrics")).status
    assert 200 == (await secured.get("/metrics", headers=bearer(VIEWER))).status
    assert 200 == (await secured.get("/", headers=bearer(VIEWER))).status
    assert (
        403 == (await secured.post("/api/v1/domains/good.example.com/verify", headers=bearer(VIEWER))).status
    )
    assert (
        202 == (await secured.post("/api/v1/domains/good.example.com/verify", headers=bearer(ADMIN))).status
    )
    for probe in ("/livez", "/healthz", "/readyz"):
        assert 200 == (await secured.get(probe)).status
    unauthorized = await secured.get("/api/v1/domains")
    assert "Bearer" in unauthorized.headers["WWW-Authenticate"]


async def test_verify_restarts_a_not_started_domain_and_is_idempotent(
    tmp_path: Path, aiohttp_client: MakeClient
) -> None:
    """POST verify: not_started -> pending with an immediate check; a second call changes nothing."""
    daemon, exposition = await make_daemon(tmp_path, tokens=True)
    client = await aiohttp_client(create_app(daemon, exposition))
    first = await client.post("/api/v1/domains/idle.example.com/verify", headers=bearer(ADMIN))
    body = await first.json()
    assert (202, "pending") == (first.status, body["domain"]["status"])
    assert body["events"]
    assert ["idle.example.com"] == daemon.schedule.pop_due(daemon.clock())
    second = await (
        await client.post("/api/v1/domains/idle.example.com/verify", headers=bearer(ADMIN))
    ).json()
    assert [] == second["events"]


async def test_readyz_waits_for_the_first_round(tmp_path: Path, aiohttp_client: MakeClient) -> None:
    """/readyz is 503 until every domain was checked once; a restart on that store is ready at
    once (its statuses rest on stored observations), while a newly added domain is not."""
    daemon, exposition = await make_daemon(tmp_path, check=False)
    client = await aiohttp_client(create_app(daemon, exposition))
    waiting = await client.get("/readyz")
    assert 503 == waiting.status
    assert {"checked": 0, "total": 3 - 1, "eta_seconds": None} == (await waiting.json())["first_round"]
    await daemon.run_once()
    cold = await client.get("/readyz")  # checked, but no scrape would be complete at once yet
    assert (503, False) == (cold.status, (await cold.json())["metrics_warm"])
    await exposition.warm_up()
    done = await client.get("/readyz")
    assert 200 == done.status
    assert {"checked": 2, "total": 2} == {
        k: v for k, v in (await done.json())["first_round"].items() if k != "eta_seconds"
    }
    await daemon.shutdown()
    store = SqliteStore(daemon.config.storage.location.target)
    restarted = await Daemon.open(daemon.config, store, resolver=zone(), clock=FakeClock())
    assert restarted.ready
    await restarted.shutdown()
    grown = parse(
        config_text(tmp_path, False) + "  - {name: new.example.com, sending: {spf: {include: [a.example]}}}\n"
    )
    again = await Daemon.open(
        grown, SqliteStore(daemon.config.storage.location.target), resolver=zone(), clock=FakeClock()
    )
    assert not again.ready
    await again.shutdown()


async def test_exports_stream_csv(secured: Client) -> None:
    """domains.csv and history.csv are CSV with a header; since= is validated."""
    domains = await secured.get("/api/v1/export/domains.csv", headers=bearer(ADMIN))
    rows = list(csv.reader(io.StringIO(await domains.text())))
    assert ("text/csv", "domain") == (domains.content_type, rows[0][0])
    assert {"good.example.com", "evil.example.com", "idle.example.com"} == {r[0] for r in rows[1:]}
    history = await secured.get(
        "/api/v1/export/history.csv?since=2020-01-01T00:00:00Z", headers=bearer(ADMIN)
    )
    assert len(list(csv.reader(io.StringIO(await history.text())))) > 5
    bad = await secured.get("/api/v1/export/history.csv?since=yesterday", headers=bearer(ADMIN))
    assert 400 == bad.status


async def test_reload_endpoint_reports_invalid_config(tmp_path: Path, aiohttp_client: MakeClient) -> None:
    """POST /-/reload: 200 when valid, 400 with every error when not (the running config stays)."""
    daemon, exposition = await make_daemon(tmp_path, tokens=True)
    path = tmp_path / "config.yaml"
    path.write_text(config_text(tmp_path, tokens=True))
    daemon.config_path = path
    client = await aiohttp_client(create_app(daemon, exposition))
    assert 200 == (await client.post("/-/reload", headers=bearer(ADMIN))).status
    path.write_text("domains: [{name: bad..example}]\n")
    response = await client.post("/-/reload", headers=bearer(ADMIN))
    body = await response.json()
    assert (400, "invalid_config") == (response.status, body["error"]["code"])
    assert any("empty label" in line for line in body["error"]["details"])
    assert 3 == len(daemon.fleet.plans)
    scrape = await (await client.get("/metrics", headers=bearer(ADMIN))).text()
    assert "domainwatch_config_last_reload_successful 0.0" in scrape


async def test_openapi_is_served(client: Client) -> None:
    """The OpenAPI document is served from the package."""
    response = await client.get("/api/v1/openapi.yaml")
    assert 200 == response.status
    assert "openapi: 3.0.3" in await response.text()


async def test_domain_of_another_shard_names_its_owner(tmp_path: Path, aiohttp_client: MakeClient) -> None:
    """A replica answers 404 for another shard's domain, saying which shard owns it."""
    import random  # noqa: PLC0415

    from domainwatch.config.loader import parse  # noqa: PLC0415
    from domainwatch.daemon.daemon import Daemon  # noqa: PLC0415
    from domainwatch.daemon.sharding import shard_of  # noqa: PLC0415
    from domainwatch.metrics.exposition import Exposition  # noqa: PLC0415
    from domainwatch.metrics.instruments import Metrics  # noqa: PLC0415
    from domainwatch.store.sqlite import SqliteStore  # noqa: PLC0415
    from domainwatch.testing import FakeClock, FakeResolver  # noqa: PLC0415

    names = [f"d{n}.example.com" for n in range(12)]
    foreign = next(n for n in names if shard_of(n, 3) != 0)
    domains = "".join(f"  - {{name: {n}, receiving: {{mx: [{{host: mx.example.net}}]}}}}\n" for n in names)
    config = parse(f"sharding: {{shard: 0, total_shards: 3}}\nstorage: {{path: x}}\ndomains:\n{domains}")
    metrics = Metrics()
    daemon = await Daemon.open(
        config,
        SqliteStore(":memory:"),
        resolver=FakeResolver({}),
        clock=FakeClock(),
        rng=random.Random(1),
        metrics=metrics,
    )
    client = await aiohttp_client(create_app(daemon, Exposition(metrics.registry, daemon.fleet)))
    answer = await client.get(f"/api/v1/domains/{foreign}")
    body = await answer.json()
    assert (404, "other_shard") == (answer.status, body["error"]["code"])
    assert f"shard {shard_of(foreign, 3)} of 3" in body["error"]["message"]
    scrape = await (await client.get("/metrics")).text()
    assert 'domainwatch_shard_info{shard="0",total_shards="3"} 1.0' in scrape


async def test_the_list_sorts_filters_and_pages_by_cursor(tmp_path: Path, aiohttp_client: MakeClient) -> None:
    """sort, order, status (repeatable), capability and finding filters; cursor pages that end;
    an unknown value is a 400 naming its parameter."""
    daemon, exposition = await make_daemon(tmp_path)
    client = await aiohttp_client(create_app(daemon, exposition))

    async def names(query: str) -> tuple[list[str], Any]:
        body = await (await client.get(f"/api/v1/domains?{query}")).json()
        return [d["name"] for d in body["domains"]], body

    assert ["evil.example.com", "good.example.com", "idle.example.com"] == (await names(""))[0]
    assert ["idle.example.com", "good.example.com", "evil.example.com"] == (await names("order=desc"))[0]
    by_status, _ = await names("sort=status")
    assert "idle.example.com" == by_status[0]  # not_started comes first in the status order
    assert {"good.example.com", "idle.example.com"} == set((await names("capability=receiving"))[0])
    assert ["good.example.com", "idle.example.com"] == (await names("status=verified&status=not_started"))[0]
    view = await (await client.get("/api/v1/domains/evil.example.com")).json()
    code = next(f["code"] for r in view["records"] for f in r["findings"] if f["severity"] == "error")
    assert ["evil.example.com"] == (await names(f"finding={code}&finding=dkim_missing"))[0]
    walked, cursor = [], None
    for _ in range(5):
        page, body = await names("sort=status_since&limit=1" + (f"&cursor={cursor}" if cursor else ""))
        walked += page
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(walked) == ["evil.example.com", "good.example.com", "idle.example.com"]
    refused = ["sort=size", "order=up", "capability=both", "finding=nope", "limit=1001", "cursor=zzz"]
    for bad, key in [(text, text.partition("=")[0]) for text in refused]:
        answer = await client.get(f"/api/v1/domains?{bad}")
        assert 400 == answer.status, bad
        assert key in (await answer.json())["error"]["message"]
