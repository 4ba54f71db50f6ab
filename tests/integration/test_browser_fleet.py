"""The status page at fleet scale in a real headless Chromium: 10,000 domains, one of them with
a scripted history (a flap, a stale period, a window deadline). Full-page screenshots go to
build/screenshots/; `make screenshots` copies them into docs/images/ for the README."""

from __future__ import annotations

import json
import os
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from domainwatch.config.loader import parse
from domainwatch.daemon.daemon import Daemon
from domainwatch.dns.resolver import Outcome
from domainwatch.metrics.exposition import Exposition
from domainwatch.metrics.instruments import Metrics
from domainwatch.state.facts import DomainFacts
from domainwatch.state.rules import Status
from domainwatch.testing import FakeClock, FakeResolver
from domainwatch.testing.memory_store import MemoryStore
from domainwatch.web.app import create_app
from tests.integration.test_browser import CHROMIUM, FLAGS
from tests.keys import rsa_key

FLEET = 10_000
SHOP = "shop.example.com"
SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
SPF = "v=spf1 include:amazonses.com ~all"


def zone() -> FakeResolver:
    return FakeResolver(
        {
            (f"send.{SHOP}", "TXT"): [SPF],
            ("amazonses.com", "TXT"): ["v=spf1 ip4:192.0.2.0/24 -all"],
            (f"send.{SHOP}", "MX"): ["10 feedback-smtp.us-east-1.amazonses.com"],
            ("feedback-smtp.us-east-1.amazonses.com", "A"): ["192.0.2.25"],
            (f"resend._domainkey.{SHOP}", "TXT"): [f"v=DKIM1; k=rsa; p={rsa_key(2048)}"],
            (f"_dmarc.{SHOP}", "TXT"): ["v=DMARC1; p=reject; rua=mailto:d@example.com"],
        }
    )


async def scripted(daemon: Daemon, clock: FakeClock, resolver: FakeResolver) -> None:
    """SHOP's week: verified, an 8-minute flap, a resolver outage, then a lost key (pending its
    window's deadline)."""
    key = resolver.data.copy()

    async def hours(n: float) -> None:
        end = clock.now + timedelta(hours=n)
        while clock.now < end:
            await daemon.run_once()
            clock.advance(timedelta(minutes=2))

    await hours(30)
    for _ in range(4):  # the flap: the SPF record comes and goes
        resolver.data.pop(next(q for q in key if q.name == f"send.{SHOP}" and q.rdtype == "TXT"))
        await hours(0.05)
        resolver.data.update(key)
        await hours(0.05)
    await hours(40)
    for query in list(resolver.data):
        resolver.data[query] = Outcome.SERVFAIL
    await hours(6)
    resolver.data.update(key)
    await hours(30)
    resolver.data.pop(next(q for q in key if q.rdtype == "TXT" and q.name.startswith("resend._domainkey")))
    await hours(5)


async def fleet(tmp_path: Path) -> Daemon:
    domains: list[dict[str, Any]] = [
        {"name": SHOP, "preset": "resend", "region": "us-east-1", "labels": {"team": "billing"}}
    ]
    idle = {"verify": False, "sending": {"spf": {"include": ["a.example"]}}}
    domains += [{"name": f"d{n:05}.example.net", **idle} for n in range(FLEET - 1)]
    defaults = {"interval": "10m", "pending_interval": "2m", "recheck_interval": "2m", "window": "72h"}
    config = parse(json.dumps({"defaults": {**defaults, "confirm_missing": 1}, "domains": domains}))
    clock, resolver = FakeClock(), zone()
    daemon = await Daemon.open(config, MemoryStore(), resolver=resolver, clock=clock, rng=random.Random(5))
    await scripted(daemon, clock, resolver)
    rng = random.Random(9)
    statuses = [Status.VERIFIED] * 6 + [
        Status.PENDING,
        Status.FAILED,
        Status.TEMPORARY_FAILURE,
        Status.NOT_STARTED,
    ]
    for name, track in list(daemon.fleet.tracks.items()):
        if name == SHOP:
            continue
        since = clock.now - timedelta(minutes=rng.randrange(60 * 24 * 20))
        daemon.fleet.tracks[name] = replace(track, status=rng.choice(statuses), since=since, checked_at=since)
        if rng.random() < 0.02:
            daemon.fleet.facts[name] = DomainFacts(
                {"error": 1}, {}, ("spf_include_invalid",), "spf_include_invalid: x"
            )
    for day in range(30):
        moment = clock.now - timedelta(days=29 - day)
        verified = 6000 + day * 40
        counts = {
            "verified": verified,
            "pending": 2000 - day * 30,
            "failed": 700,
            "not_started": 1300 - day * 10,
        }
        await daemon.store.save_day_counts(moment.strftime("%Y-%m-%d"), counts)
    return daemon


@pytest.fixture
async def browser_page(
    tmp_path: Path, aiohttp_server: Callable[[web.Application], Awaitable[TestServer]]
) -> AsyncIterator[Any]:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium missing: scripts/install-test-deps.sh installs it as root")
        pytest.skip("Debian chromium is not installed")
    from playwright.async_api import async_playwright  # noqa: PLC0415 (only where chromium exists)

    daemon = await fleet(tmp_path)
    server = await aiohttp_server(create_app(daemon, Exposition(Metrics().registry, daemon.fleet)))
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = await browser.new_page(
            base_url=str(server.make_url("/")), viewport={"width": 1280, "height": 900}
        )
        yield page
        await browser.close()


async def shot(page: Any, name: str) -> None:
    """The whole page, and what the first screen shows (the README's pictures)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    await page.screenshot(path=str(SHOTS / f"{name}-top.png"))


async def test_ten_thousand_domains_in_a_browser(browser_page: Any) -> None:
    page = browser_page
    await page.goto("/?sort=status_since&order=desc")
    assert "all 10000" in " ".join((await page.inner_text("#counts")).split())
    assert 30 == await page.locator("svg.fleet-chart g.day").count()
    await shot(page, "overview")
    # The last page, by following the Next links' cursors (100 a page would be 100 clicks: 1,000).
    await page.goto("/?sort=name&limit=1000")
    for _ in range(12):
        if await page.locator("#next").count() == 0:
            break
        async with page.expect_navigation():
            await page.click("#next")
    rows = await page.locator("#domains tbody tr").all_inner_texts()
    assert SHOP in rows[-1]  # the last name in the fleet's order
    # Sorted by a column header, then filtered by a finding code.
    await page.goto("/")
    await page.click("th >> text=Status")
    assert "sort=status" in page.url
    await page.goto("/?finding=spf_include_invalid")
    shown = await page.locator("#domains tbody tr").all_inner_texts()
    assert shown
    assert all("spf_include_invalid" in row for row in shown)
    # The scripted domain: its timeline has the flap, the stale period and the deadline.
    await page.goto(f"/domains/{SHOP}")
    lanes = page.locator("svg.timeline g.lane")
    assert await lanes.count() >= 5
    assert await page.locator("svg.timeline rect.stale").count() == 1
    assert await page.locator("svg.timeline line.deadline").count() == 1
    assert await page.locator("svg.timeline rect.temporary_failure").count() >= 2
    await shot(page, "domain")
    # 400 px wide: nothing overflows the page.
    await page.set_viewport_size({"width": 400, "height": 800})
    await page.goto("/")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 400
    await shot(page, "overview-400px")
