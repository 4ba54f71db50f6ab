"""The shipped alert rules: generated, valid, unit-tested with promtool, in two tiers (pages
never per domain), each documented in a runbook; the example Alertmanager config is valid."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "domainwatch-alerts.yaml"
PROMTOOL = ROOT / ".cache" / "debian" / "usr" / "bin" / "promtool"
PAGES = {
    "DomainwatchDown",
    "DomainwatchNotReady",
    "DomainwatchLookupsFailing",
    "DomainwatchChecksBehind",
    "DomainwatchWebhookBacklog",
    "DomainwatchWebhookDeadLetters",
    "DomainwatchStoreErrors",
    "DomainwatchVerifiedDomainsDropping",
    "DomainwatchNoReplicaUp",
    "DomainwatchFleetNotFullyOwned",
}
TICKETS = {
    "DomainwatchDomainTemporaryFailure",
    "DomainwatchDomainFailedAfterVerified",
    "DomainwatchTLSCertificateExpiring",
    "DomainwatchDNSSECSignaturesExpiring",
    "DomainwatchSTARTTLSLost",
    "DomainwatchDKIMWeakKey",
    "DomainwatchSPFTooManyLookups",
    "DomainwatchMTASTSPolicyUnreachable",
    "DomainwatchRecordWeakened",
    "DomainwatchConfigReloadFailed",
}
REQUIRED = PAGES | TICKETS
# Gone with the two tiers: a never-verified domain's onboarding, or one alert per domain for a
# fleet-wide cause.
REMOVED = {
    "DomainwatchDomainFailed",
    "DomainwatchDomainStale",
    "DomainwatchDomainPartiallyFailed",
    "DomainwatchWindowExpiringSoon",
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
    assert REQUIRED == found
    assert {f"## {name}".lower() for name in REQUIRED} == {
        line for line in runbooks.splitlines() if line.startswith("## domainwatch")
    }  # no runbook of a removed rule
    for rule in alerts():
        labels, notes = rule["labels"], rule["annotations"]
        assert labels["severity"] == ("page" if rule["alert"] in PAGES else "ticket")
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


def test_the_rules_are_generated_from_their_parameters() -> None:
    """`make rules` output is what is committed (make lint checks it too)."""
    result = subprocess.run(
        [sys.executable, str(RULES.parent / "rules.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert 0 == result.returncode, result.stderr


def test_no_page_keeps_a_domain_label() -> None:
    """promtool compares an alert's labels exactly: the pages' cases prove what they carry."""
    cases = yaml.safe_load((RULES.parent / "domainwatch-alerts.test.yaml").read_text())["tests"]
    fired = [
        (test["alert_rule_test"][1]["alertname"], alert["exp_labels"])
        for test in cases
        for alert in test["alert_rule_test"][1]["exp_alerts"]
    ]
    assert PAGES == {name for name, labels in fired if labels["severity"] == "page"}
    assert [] == [name for name, labels in fired if labels["severity"] == "page" and "domain" in labels]
    assert all(
        "domain" in labels for name, labels in fired if name in TICKETS - {"DomainwatchConfigReloadFailed"}
    )


def test_the_example_alertmanager_config_is_valid() -> None:
    """`amtool check-config` accepts deploy/compose/alertmanager.yml (routes, inhibitions)."""
    amtool = PROMTOOL.with_name("amtool")
    if not amtool.exists():
        if os.environ.get("CI"):
            pytest.fail("amtool missing: scripts/install-test-deps.sh extracts it as root")
        pytest.skip("amtool not extracted")
    config = ROOT / "deploy" / "compose" / "alertmanager.yml"
    result = subprocess.run(
        [str(amtool), "check-config", str(config)], capture_output=True, text=True, check=False
    )
    assert 0 == result.returncode, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        ("severity=page alertname=DomainwatchLookupsFailing", "pager"),
        (
            "severity=ticket alertname=DomainwatchDomainTemporaryFailure team=billing domain=a.example",
            "team-billing",
        ),
        ("severity=ticket alertname=DomainwatchDKIMWeakKey team=platform domain=b.example", "team-platform"),
        ("severity=ticket alertname=DomainwatchDKIMWeakKey domain=c.example", "tickets"),
        ("severity=ticket alertname=DomainwatchDKIMWeakKey team=unknown domain=d.example", "tickets"),
    ],
)
def test_the_example_routes_pages_and_each_team_apart(labels: str, receiver: str) -> None:
    """Pages reach the pager; tickets the receiver of their `team`, or the default queue."""
    amtool = PROMTOOL.with_name("amtool")
    if not amtool.exists():
        pytest.skip("amtool not extracted")
    config = ROOT / "deploy" / "compose" / "alertmanager.yml"
    result = subprocess.run(
        [str(amtool), "config", "routes", "test", f"--config.file={config}", *labels.split()],
        capture_output=True,
        text=True,
        check=False,
    )
    assert receiver == result.stdout.strip(), result.stderr


def test_removed_rules_and_their_runbooks_are_gone() -> None:
    runbooks = (ROOT / "docs" / "runbooks.md").read_text()
    assert set() == REMOVED & {str(rule["alert"]) for rule in alerts()}
    assert [] == [name for name in REMOVED if f"## {name}\n" in runbooks]


def test_every_domain_ticket_carries_its_team() -> None:
    """Each per-domain ticket joins the owner labels; a promtool case proves `team` arrives."""
    per_domain = TICKETS - {"DomainwatchConfigReloadFailed"}
    joined = {str(r["alert"]) for r in alerts() if "group_left (label_team)" in str(r["expr"])}
    assert per_domain == joined
    cases = yaml.safe_load((RULES.parent / "domainwatch-alerts.test.yaml").read_text())["tests"]
    teams = [
        alert["exp_labels"].get("team")
        for test in cases
        for alert in test["alert_rule_test"][1]["exp_alerts"]
    ]
    assert "billing" in teams
