"""The status page in a real headless Chromium (Debian's), as a person would use it."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from domainwatch.web.app import create_app
from tests.integration.web_fixtures import make_daemon

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Tab:
    """A browser page and the JavaScript dialogs (alert, confirm) it opened."""

    page: Any
    dialogs: list[str]


@pytest.fixture
async def tab(
    tmp_path: Path, aiohttp_server: Callable[[web.Application], Awaitable[TestServer]]
) -> AsyncIterator[Tab]:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium missing: scripts/install-test-deps.sh installs it as root")
        pytest.skip("Debian chromium is not installed")
    from playwright.async_api import async_playwright  # noqa: PLC0415 (only where chromium exists)

    daemon, exposition = await make_daemon(tmp_path)
    server = await aiohttp_server(create_app(daemon, exposition))
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = await browser.new_page(base_url=str(server.make_url("/")))
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: dialogs.append(dialog.message))
        yield Tab(page, dialogs)
        await browser.close()


async def test_overview_shows_counts_and_every_domain(tab: Tab) -> None:
    """A person sees the counts per status and one row per domain with its badge."""
    await tab.page.goto("/")
    counts = await tab.page.inner_text("#counts")
    assert "all 3" in " ".join(counts.split())
    rows = await tab.page.locator("#domains tbody tr").all_inner_texts()
    assert 3 == len(rows)
    assert any("good.example.com" in r and "verified" in r for r in rows)


async def test_filtering_by_status_with_the_form(tab: Tab) -> None:
    """Choosing a status and pressing Filter narrows the table (no JavaScript needed)."""
    await tab.page.goto("/")
    await tab.page.select_option("select[name=status]", "not_started")
    await tab.page.click("button[type=submit]")
    rows = await tab.page.locator("#domains tbody tr").all_inner_texts()
    assert 1 == len(rows)
    assert "idle.example.com" in rows[0]


async def test_domain_page_shows_the_fix_and_hostile_text_stays_text(tab: Tab) -> None:
    """Following a domain link shows its records and the record to publish; TXT payloads never run."""
    await tab.page.goto("/")
    await tab.page.click("text=evil.example.com")
    await tab.page.wait_for_selector("#records")
    text = await tab.page.inner_text("#records")
    assert '<script>alert("spf")</script>' in text  # shown as text
    assert "send.evil.example.com. 3600 IN TXT" in text  # the fix, copyable
    assert [] == tab.dialogs
    assert 0 == await tab.page.locator("#records img").count()
