"""The status page over HTTP: content, filters, and attacker-controlled TXT kept inert."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from domainwatch.config.loader import parse
from domainwatch.web.app import create_app
from tests.integration.web_fixtures import VIEWER, config_text, make_daemon

Client = TestClient[Any, Any]
MakeClient = Callable[[web.Application], Awaitable[Client]]


@pytest.fixture
async def client(tmp_path: Path, aiohttp_client: MakeClient) -> Client:
    daemon, exposition = await make_daemon(tmp_path)
    return await aiohttp_client(create_app(daemon, exposition))


async def test_index_lists_domains_with_counts(client: Client) -> None:
    """The index shows every domain, its status badge, and counts per status."""
    html = await (await client.get("/")).text()
    assert 'href="/domains/good.example.com"' in html
    assert '<strong data-status="verified">1</strong>' in html
    assert '<strong data-status="not_started">1</strong>' in html


async def test_index_filters_by_status_and_name(client: Client) -> None:
    """?status= and ?q= narrow the list; a bad status is a 400 page."""
    html = await (await client.get("/?status=not_started")).text()
    assert "idle.example.com" in html
    assert "good.example.com</a>" not in html
    html = await (await client.get("/?q=evil")).text()
    assert "evil.example.com</a>" in html
    assert "idle.example.com</a>" not in html
    bad = await client.get("/?status=<b>")
    assert (400, "text/html") == (bad.status, bad.content_type)
    assert "<b>" not in await bad.text()


async def test_owner_labels_are_shown_and_filter_the_overview(
    tmp_path: Path, aiohttp_client: MakeClient
) -> None:
    """A domain's labels on its page and in the overview, each a link to the domains sharing it."""
    daemon, exposition = await make_daemon(tmp_path)
    text = config_text(tmp_path, False).replace(
        "  - name: good.example.com\n",
        '  - name: good.example.com\n    labels: {team: billing, note: "<i>x</i>"}\n',
    )
    await daemon.apply_config(parse(text))
    client = await aiohttp_client(create_app(daemon, exposition))
    page = await (await client.get("/domains/good.example.com")).text()
    assert 'href="/?label=team%3Dbilling">team=billing</a>' in page
    assert "<i>x</i>" not in page
    assert "&lt;i&gt;x&lt;/i&gt;" in page
    overview = await (await client.get("/?label=team%3Dbilling")).text()
    assert "good.example.com</a>" in overview
    assert "evil.example.com</a>" not in overview
    assert 400 == (await client.get("/?label=Team%3Dx")).status


async def test_domain_page_shows_records_fix_and_history(client: Client) -> None:
    """The domain page: each record, the exact record to publish, and the history."""
    html = await (await client.get("/domains/evil.example.com")).text()
    assert "send.evil.example.com" in html
    assert 'id="history"' in html
    assert "verification requested" in html
    unknown = await client.get("/domains/nope.example.com")
    assert (404, "text/html") == (unknown.status, unknown.content_type)


async def test_hostile_txt_content_stays_inert(client: Client) -> None:
    """<script> and attribute-breaking payloads published in TXT are escaped everywhere."""
    for path in ("/domains/evil.example.com", "/?q=evil"):
        response = await client.get(path)
        html = await response.text()
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert "onerror=alert(1)>" not in html
    html = await (await client.get("/domains/evil.example.com")).text()
    assert "&lt;script&gt;alert(&#34;spf&#34;)&lt;/script&gt;" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert "script-src 'none'" in response.headers["Content-Security-Policy"]


async def test_pages_need_a_token_when_tokens_are_configured(
    tmp_path: Path, aiohttp_client: MakeClient
) -> None:
    """With tokens, the page answers 401 (as HTML) without one."""
    daemon, exposition = await make_daemon(tmp_path, tokens=True)
    client = await aiohttp_client(create_app(daemon, exposition))
    response = await client.get("/")
    assert (401, "text/html") == (response.status, response.content_type)
    assert 200 == (await client.get("/", headers={"Authorization": f"Bearer {VIEWER}"})).status


async def test_the_overview_pages_sorts_refreshes_and_says_what_is_wrong(client: Client) -> None:
    """The first error of each domain, relative times with UTC in the title, a refresh on
    request (10 to 3600 s), sortable columns and a next link that walks every domain."""
    html = await (await client.get("/?refresh=30&sort=name")).text()
    assert '<meta http-equiv="refresh" content="30">' in html
    assert "<code>spf_" in html  # evil.example.com's first error
    assert 'title="20' in html  # the UTC time behind "... ago"
    assert 'href="/?sort=status&amp;order=asc"' in html or "sort=status" in html
    assert 400 == (await client.get("/?refresh=5")).status
    seen: list[str] = []
    url = "/?limit=1"
    for _ in range(5):
        page = await (await client.get(url)).text()
        seen += [
            n for n in ("evil.example.com", "good.example.com", "idle.example.com") if f">{n}</a>" in page
        ]
        marker = page.find('id="next" href="')
        if marker < 0:
            break
        url = page[marker + len('id="next" href="') :].split('"', 1)[0].replace("&amp;", "&")
    assert ["evil.example.com", "good.example.com", "idle.example.com"] == seen


async def test_the_domain_page_draws_its_timeline_as_svg(client: Client) -> None:
    """Inline SVG that parses as XML: a lane for the domain, each capability and each record,
    coloured by status classes (no style attribute), each change linking to its history row,
    and the same data as a table."""
    html = await (await client.get("/domains/good.example.com")).text()
    svg_text = html[html.index("<svg") : html.index("</svg>") + len("</svg>")]
    svg = ElementTree.fromstring(svg_text)
    ns = "{http://www.w3.org/2000/svg}"
    lanes = svg.findall(f"{ns}g")
    view = await (await client.get("/api/v1/domains/good.example.com")).json()
    assert 1 + len(view["capabilities"]) + len(view["records"]) == len(lanes)
    statuses = {"not_started", "pending", "verified", "partially_verified", "partially_failed", "failed",
                "temporary_failure"}  # fmt: skip
    assert {rect.get("class") for lane in lanes for rect in lane.findall(f"{ns}rect")} <= statuses | {"stale"}
    assert "style" not in svg_text
    links = [a.get("href") or "" for a in svg.iter(f"{ns}a")]
    assert links
    assert all(f'id="{link.removeprefix("#")}"' in html for link in links)
    assert svg.find(f"{ns}title") is not None
    assert svg.find(f"{ns}desc") is not None
    assert "The timeline as a table" in html


async def test_the_overview_charts_the_fleet_from_the_day_counts(
    tmp_path: Path, aiohttp_client: MakeClient
) -> None:
    """30 days of stacked bars from the stored day counts (an empty slot for a day without),
    today's top finding codes linking to the filtered list, and the same numbers as a table."""
    daemon, exposition = await make_daemon(tmp_path)
    today = daemon.clock()
    await daemon.store.save_day_counts(
        (today - timedelta(days=2)).strftime("%Y-%m-%d"), {"verified": 2, "pending": 1}
    )
    await daemon.store.save_day_counts(today.strftime("%Y-%m-%d"), {"verified": 1, "failed": 2})
    client = await aiohttp_client(create_app(daemon, exposition))
    html = await (await client.get("/")).text()
    start = html.index('<svg class="fleet-chart"')
    svg = ElementTree.fromstring(html[start : html.index("</svg>", start) + len("</svg>")])
    ns = "{http://www.w3.org/2000/svg}"
    days = svg.findall(f"{ns}g")
    assert 30 == len(days)
    bars = [[rect.get("class") for rect in day.findall(f"{ns}rect")] for day in days]
    assert ["verified", "failed"] == bars[-1]  # stacked in the badges' order
    assert ["pending", "verified"] == bars[-3]
    assert [] == bars[-2]  # no counts that day: an empty slot
    assert "/?finding=" in html  # today's top findings (evil.example.com has errors)
    assert html.count("<tr><td>20") >= 2  # the table: a row for each day with counts
