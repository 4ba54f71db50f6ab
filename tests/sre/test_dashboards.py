"""Dashboards as code: fresh, structurally sound, and every expression valid PromQL (promtool)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BOARDS = {path.name: json.loads(path.read_text()) for path in sorted((ROOT / "dashboards").glob("*.json"))}
PROMTOOL = ROOT / ".cache" / "debian" / "usr" / "bin" / "promtool"


def expressions(board: dict[str, Any]) -> list[str]:
    return [t["expr"] for panel in board["panels"] for t in panel.get("targets", [])]


def concrete(expr: str, domain: str = "shop.example.com") -> str:
    """Dashboard variables replaced the way Grafana would, so Prometheus can run the query."""
    return (
        expr.replace("$__rate_interval", "1m")
        .replace("$__range", "1h")
        .replace('"$job"', '".+"')
        .replace('"$domain"', f'"{domain}"')
    )


def test_generated_json_is_fresh() -> None:
    """Regenerating gives the committed JSON byte for byte."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "dashboards" / "generate.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (0, "") == (result.returncode, result.stderr)


def test_three_dashboards_with_stable_uids_and_tags() -> None:
    """Overview, Domain and Operator, with the uids links and provisioning rely on."""
    assert {"domainwatch-overview", "domainwatch-domain", "domainwatch-operator"} == {
        b["uid"] for b in BOARDS.values()
    }
    assert all("domainwatch" in b["tags"] for b in BOARDS.values())


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_structure(name: str) -> None:
    """Unique panel ids, grid in bounds without overlap, every target an expression on $datasource."""
    board = BOARDS[name]
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    cells: set[tuple[int, int]] = set()
    for panel in board["panels"]:
        grid = panel["gridPos"]
        assert 0 <= grid["x"], panel["title"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        assert grid["h"] > 0, panel["title"]
        area = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not area & cells, f"{panel['title']} overlaps another panel"
        cells |= area
        assert "${datasource}" == panel["datasource"]["uid"]
        assert panel["targets"]
        for target in panel["targets"]:
            assert target["expr"].strip()
            assert 'job=~"$job"' in target["expr"]
    names = [v["name"] for v in board["templating"]["list"]]
    assert ["datasource", "job"] == names[:2]


def test_every_expression_is_valid_promql(tmp_path: Path) -> None:
    """Each expression, wrapped as a recording rule, passes `promtool check rules`."""
    if not PROMTOOL.exists():
        if os.environ.get("CI"):
            pytest.fail("promtool missing: scripts/install-test-deps.sh extracts it as root")
        pytest.skip("promtool not extracted")
    rules = [
        {"record": f"dashboard:expr{n}", "expr": concrete(expr)}
        for n, expr in enumerate(e for b in BOARDS.values() for e in expressions(b))
    ]
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    result = subprocess.run(
        [str(PROMTOOL), "check", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert 0 == result.returncode, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout
