"""The daemon's access log over real HTTP: one line per answer with the route template, never
a query string, a token or a domain name; denials counted each and logged ten a minute per
client address."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from structlog.testing import capture_logs

from domainwatch.web.access import DENIALS_LOGGED
from domainwatch.web.app import create_app
from tests.integration.web_fixtures import VIEWER, make_daemon


async def test_each_answer_is_one_line_by_route_template(tmp_path: Path, aiohttp_client: Any) -> None:
    daemon, exposition = await make_daemon(tmp_path, tokens=True)
    client = await aiohttp_client(create_app(daemon, exposition))
    with capture_logs() as logs:
        response = await client.get(
            "/api/v1/domains/good.example.com?token=" + VIEWER, headers={"Authorization": f"Bearer {VIEWER}"}
        )
        assert 200 == response.status
    [line] = [entry for entry in logs if entry["event"] == "access"]
    assert ("GET", "/api/v1/domains/{name}", 200, "127.0.0.1") == (
        line["method"],
        line["route"],
        line["status"],
        line["client"],
    )
    assert line["duration_ms"] >= 0
    assert VIEWER not in repr(logs)
    assert "good.example.com" not in repr(logs)


async def test_denials_are_counted_each_and_logged_ten_a_minute(tmp_path: Path, aiohttp_client: Any) -> None:
    daemon, exposition = await make_daemon(tmp_path, tokens=True)
    client = await aiohttp_client(create_app(daemon, exposition))
    with capture_logs() as logs:
        for _ in range(DENIALS_LOGGED + 5):
            assert (
                401 == (await client.get("/api/v1/domains", headers={"Authorization": "Bearer wrong"})).status
            )
    denied = [entry for entry in logs if entry["event"] == "access_denied"]
    assert DENIALS_LOGGED == len(denied)
    assert {("/api/v1/domains", 401)} == {(entry["route"], entry["status"]) for entry in denied}
    metrics = await client.get("/metrics", headers={"Authorization": f"Bearer {VIEWER}"})
    text = (await metrics.read()).decode()
    assert (
        f'domainwatch_http_requests_total{{code="401",route="/api/v1/domains"}} {DENIALS_LOGGED + 5}.0'
        in text
    )
