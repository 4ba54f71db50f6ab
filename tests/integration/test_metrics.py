"""/metrics: every documented family with its labels, gzip, and `promtool check metrics`."""

from __future__ import annotations

import asyncio
import gzip
import os
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from domainwatch.web.app import create_app
from tests.integration.web_fixtures import make_daemon

Client = TestClient[Any, Any]
MakeClient = Callable[[web.Application], Awaitable[Client]]
ROOT = Path(__file__).resolve().parents[2]
PROMTOOL = ROOT / ".cache" / "debian" / "usr" / "bin" / "promtool"

FAMILIES = {
    "domainwatch_domain_status": {"domain", "status"},
    "domainwatch_capability_status": {"domain", "capability", "status"},
    "domainwatch_record_status": {"domain", "record", "status"},
    "domainwatch_domain_status_since_timestamp_seconds": {"domain"},
    "domainwatch_domain_last_check_timestamp_seconds": {"domain"},
    "domainwatch_domain_window_deadline_timestamp_seconds": {"domain"},
    "domainwatch_domain_findings": {"domain", "severity"},
    "domainwatch_spf_dns_lookups": {"domain"},
    "domainwatch_dmarc_policy": {"domain", "policy"},
    "domainwatch_domain_stale": {"domain"},
    "domainwatch_checks": {"result"},
    "domainwatch_check_duration_seconds": set(),
    "domainwatch_status_changes": {"status"},
    "domainwatch_config_last_reload_successful": set(),
    "domainwatch_config_last_reload_success_timestamp_seconds": set(),
    "domainwatch_domains": {"status"},
    "domainwatch_build_info": {"version"},
}


@pytest.fixture
async def scrape(tmp_path: Path, aiohttp_client: MakeClient) -> str:
    daemon, metrics = await make_daemon(tmp_path)
    client: Client = await aiohttp_client(create_app(daemon, metrics))
    return await (await client.get("/metrics")).text()


def samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        out[family.name] = [
            (dict(s.labels), s.value) for s in family.samples if s.name.endswith(("_bucket",)) is False
        ]
    return out


async def test_every_documented_family_is_present_with_its_labels(scrape: str) -> None:
    """Each metric of the contract is exported with exactly its documented labels."""
    families = samples(scrape)
    for name, labels in FAMILIES.items():
        assert name in families, name
        assert families[name], name
        for sample_labels, _ in families[name]:
            assert labels == set(sample_labels) - {"le"}, (name, sample_labels)


async def test_domain_status_is_one_hot_and_others_export_current_only(scrape: str) -> None:
    """All seven statuses per domain (one 1); capability and record status only the current one."""
    families = samples(scrape)
    good = [
        (s["status"], v)
        for s, v in families["domainwatch_domain_status"]
        if s["domain"] == "good.example.com"
    ]
    assert 7 == len(good)
    assert [("verified", 1.0)] == [(s, v) for s, v in good if v == 1.0]
    records = [s for s, _ in families["domainwatch_record_status"] if s["domain"] == "good.example.com"]
    assert {("spf", "verified"), ("receiving_mx", "verified"), ("dmarc", "pending")} == {
        (s["record"], s["status"]) for s in records
    }
    deadline_domains = {
        s["domain"] for s, _ in families["domainwatch_domain_window_deadline_timestamp_seconds"]
    }
    assert "good.example.com" not in deadline_domains  # only pending / temporary_failure have one
    assert "evil.example.com" in deadline_domains


async def test_gzip_when_asked(tmp_path: Path, aiohttp_client: MakeClient) -> None:
    """Accept-Encoding: gzip gets a gzipped exposition."""
    daemon, metrics = await make_daemon(tmp_path)
    client: Client = await aiohttp_client(create_app(daemon, metrics))
    response = await client.get("/metrics", headers={"Accept-Encoding": "gzip"}, auto_decompress=False)
    assert "gzip" == response.headers["Content-Encoding"]
    assert b"domainwatch_domain_status" in gzip.decompress(await response.read())


async def test_exposition_passes_promtool_check_metrics(scrape: str) -> None:
    """Debian's promtool (extracted by `make test`) finds nothing to complain about."""
    if not PROMTOOL.exists():
        if os.environ.get("CI"):
            pytest.fail("promtool missing: scripts/install-test-deps.sh extracts it as root")
        pytest.skip("promtool not extracted (run scripts/install-test-deps.sh as root)")
    result = await asyncio.to_thread(
        subprocess.run,
        [str(PROMTOOL), "check", "metrics"],
        input=scrape,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (0, "") == (result.returncode, result.stdout + result.stderr)
