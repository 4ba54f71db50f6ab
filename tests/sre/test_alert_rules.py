"""The shipped alert rules: valid, unit-tested with promtool, and each documented in a runbook."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "domainwatch-alerts.yaml"
PROMTOOL = ROOT / ".cache" / "debian" / "usr" / "bin" / "promtool"
REQUIRED = {
    "DomainwatchDomainFailed",
    "DomainwatchDomainTemporaryFailure",
    "DomainwatchDomainPartiallyFailed",
    "DomainwatchDomainStale",
    "DomainwatchWindowExpiringSoon",
    "DomainwatchSPFTooManyLookups",
    "DomainwatchDKIMWeakKey",
    "DomainwatchWebhookBacklog",
    "DomainwatchWebhookDeadLetters",
    "DomainwatchConfigReloadFailed",
    "DomainwatchDown",
    "DomainwatchTLSCertificateExpiring",
    "DomainwatchSTARTTLSLost",
    "DomainwatchMTASTSPolicyUnreachable",
    "DomainwatchDNSSECSignaturesExpiring",
}


def alerts() -> list[dict[str, Any]]:
    return [rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    if not PROMTOOL.exists():
        if os.environ.get("CI"):
            pytest.fail("promtool missing: scripts/install-test-deps.sh extracts it as root")
        pytest.skip("promtool not extracted")
    return subprocess.run(
        [str(PROMTOOL), *args], capture_output=True, text=True, check=False, cwd=RULES.parent
    )


def test_every_required_alert_follows_mixin_conventions() -> None:
    """severity label, summary, description and a runbook_url anchor that exists in runbooks.md."""
    runbooks = (ROOT / "docs" / "runbooks.md").read_text().lower()
    found = {str(rule["alert"]) for rule in alerts()}
    assert REQUIRED <= found
    for rule in alerts():
        labels, notes = rule["labels"], rule["annotations"]
        assert labels["severity"] in ("critical", "warning", "info")
        assert {"summary", "description", "runbook_url"} <= set(notes)
        anchor = str(notes["runbook_url"]).split("#")[1]
        assert f"## {rule['alert']}".lower() in runbooks
        assert anchor == str(rule["alert"]).lower()


def test_promtool_check_rules() -> None:
    """`promtool check rules` accepts the file."""
    result = promtool("check", "rules", RULES.name)
    assert 0 == result.returncode, result.stdout + result.stderr


def test_promtool_unit_tests_fire_and_stay_quiet() -> None:
    """`promtool test rules`: every alert fires when it should and not before."""
    result = promtool("test", "rules", "domainwatch-alerts.test.yaml")
    assert 0 == result.returncode, result.stdout + result.stderr
    tested = {
        line.split(":")[1].strip()
        for line in (RULES.parent / "domainwatch-alerts.test.yaml").read_text().splitlines()
        if "alertname:" in line
    }
    assert REQUIRED == tested
