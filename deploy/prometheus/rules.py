"""The alert rules and their promtool tests, generated from parameters.yaml.

Two tiers (docs/alerting.md): `severity: page` for the operator, about the service as a whole
(none keeps a `domain` label: a resolver outage is one page, whatever the fleet's size), and
`severity: ticket` for a domain's owner, about one domain that had been verified. A domain that
never was verified (pending, not started, failed at its first window) alerts nobody: it stays on
the page, in the API, the metrics and the webhooks.

Each rule carries a case for promtool: input series, a moment it must not fire yet, and the
moment it fires with its labels. `python deploy/prometheus/rules.py` writes both files;
`--check` (make lint) fails when they are stale.

Usage: python deploy/prometheus/rules.py [--check]
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
PARAMETERS = HERE / "parameters.yaml"
RULES = HERE / "domainwatch-alerts.yaml"
TESTS = HERE / "domainwatch-alerts.test.yaml"
RUNBOOKS = "https://github.com/domainwatch/domainwatch/blob/main/docs/runbooks.md"
JOB = 'job="domainwatch"'


@dataclass(frozen=True)
class Case:
    """promtool's proof: `series` (selector: values a minute apart), quiet at `quiet` minutes,
    firing at `fires` minutes with `labels` (besides alertname and severity)."""

    series: dict[str, str]
    quiet: int
    fires: int
    labels: dict[str, str] = field(default_factory=dict)
    description: str | None = None  # as rendered, where the template asks Prometheus a query


@dataclass(frozen=True)
class Rule:
    name: str
    tier: str  # page | ticket
    expr: str
    wait: str  # the rule's `for`
    summary: str
    description: str
    case: Case


def minutes(duration: str) -> int:
    """A `for:` duration in whole minutes (the tests evaluate a minute apart)."""
    number, unit = int(duration[:-1]), duration[-1]
    return number * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit] // 60


def pages(p: dict[str, Any]) -> list[Rule]:
    failing = 'outcome=~"timeout|servfail|refused|network|malformed"'
    window = p["lookups_failing_window"]
    dropping = (
        "topk(1, sum by (code) (increase(domainwatch_verified_lost_total[1h])))"
        f" > scalar(clamp_min(sum(domainwatch_domains) * {p['verified_dropping_share']},"
        f" {p['verified_dropping_domains']}))"
    )
    return [
        Rule("DomainwatchDown", "page", f"up{{{JOB}}} == 0 or absent(up{{{JOB}}})", p["down_for"],
             "domainwatch is down or not scraped",
             "No domain is being watched and no status change is being delivered.",
             Case({f'up{{{JOB},instance="dw:8427"}}': "0x30"}, 2, minutes(p["down_for"]) + 1,
                  {"job": "domainwatch", "instance": "dw:8427"})),
        Rule("DomainwatchNotReady", "page", "domainwatch_ready == 0", p["not_ready_for"],
             "domainwatch on {{ $labels.instance }} has not been ready for a while",
             "Its first round has not ended (or it is stuck): statuses are not backed by checks yet.",
             Case({f'domainwatch_ready{{{JOB},instance="dw:8427"}}': "0x40"}, 2,
                  minutes(p["not_ready_for"]) + 1, {"job": "domainwatch", "instance": "dw:8427"})),
        Rule("DomainwatchLookupsFailing", "page",
             f"sum without (nameserver, outcome) (rate(domainwatch_dns_queries_total{{{failing}}}[{window}]))"
             f" / sum without (nameserver, outcome) (rate(domainwatch_dns_queries_total[{window}]))"
             f" > {p['lookups_failing_ratio']}",
             p["lookups_failing_for"],
             "DNS lookups of domainwatch on {{ $labels.instance }} are failing",
             "A share of the fleet's lookups time out or fail: the resolver, or the network to it, is"
             " down. Statuses hold (a failed lookup is never a missing record); checks are not conclusive.",
             Case({f'domainwatch_dns_queries_total{{{JOB},instance="dw:8427",nameserver="ns",outcome="answer"}}': "0+60x40",
                   f'domainwatch_dns_queries_total{{{JOB},instance="dw:8427",nameserver="ns",outcome="timeout"}}': "0+0x10 0+60x30"},
                  9, 10 + minutes(p["lookups_failing_for"]) + 3, {"job": "domainwatch", "instance": "dw:8427"})),
        Rule("DomainwatchChecksBehind", "page", f"domainwatch_scheduler_lag_seconds > {p['checks_behind_seconds']}",
             p["checks_behind_for"],
             "domainwatch on {{ $labels.instance }} is falling behind its checks",
             "Checks start well after they fall due: too many domains for max_concurrent_checks, or a slow resolver.",
             Case({f'domainwatch_scheduler_lag_seconds{{{JOB},instance="dw:8427"}}': "900x40"}, 2,
                  minutes(p["checks_behind_for"]) + 1, {"job": "domainwatch", "instance": "dw:8427"})),
        Rule("DomainwatchWebhookBacklog", "page",
             f"domainwatch_webhook_outbox_oldest_pending_age_seconds > {p['webhook_backlog_seconds']}",
             p["webhook_backlog_for"],
             "Webhooks to {{ $labels.endpoint }} are falling behind",
             "Status changes are not reaching {{ $labels.endpoint }}; deliveries are being retried.",
             Case({f'domainwatch_webhook_outbox_oldest_pending_age_seconds{{{JOB},endpoint="ops"}}': "1800x40"}, 2,
                  minutes(p["webhook_backlog_for"]) + 1, {"job": "domainwatch", "endpoint": "ops"})),
        Rule("DomainwatchWebhookDeadLetters", "page", "domainwatch_webhook_dead_letters > 0", p["dead_letters_for"],
             "Webhook deliveries to {{ $labels.endpoint }} were dead-lettered",
             "Events ran out of retries; they are kept and can be replayed.",
             Case({f'domainwatch_webhook_dead_letters{{{JOB},endpoint="ops"}}': "3x40"}, 2,
                  minutes(p["dead_letters_for"]) + 1, {"job": "domainwatch", "endpoint": "ops"})),
        Rule("DomainwatchStoreErrors", "page", "increase(domainwatch_store_errors_total[10m]) > 0", p["store_errors_for"],
             "The store of domainwatch on {{ $labels.instance }} refuses {{ $labels.operation }} operations",
             "Writes are failing: checks are re-derived and retried, but nothing new is kept while it lasts.",
             Case({f'domainwatch_store_errors_total{{{JOB},instance="dw:8427",operation="save"}}': "0+1x40"}, 2,
                  minutes(p["store_errors_for"]) + 2,
                  {"job": "domainwatch", "instance": "dw:8427", "operation": "save"})),
        Rule("DomainwatchNoReplicaUp", "page", f"max(up{{{JOB}}}) == 0", p["no_replica_for"],
             "No domainwatch replica is up",
             "Every replica is down or unscraped: no domain of the fleet is checked, no webhook sent.",
             Case({f'up{{{JOB},instance="a:8427"}}': "1 1 0x30", f'up{{{JOB},instance="b:8427"}}': "1 0x30"},
                  2, 3 + minutes(p["no_replica_for"])),
             ),
        Rule("DomainwatchFleetNotFullyOwned", "page", "sum(domainwatch_slots_owned) < 1024", p["unowned_for"],
             "Part of the fleet is checked by no replica",
             "{{ $value }} of 1,024 slots are held: the domains of the others go unchecked (docs/ha.md).",
             Case({f'domainwatch_slots_owned{{{JOB},instance="a:8427"}}': "512x40",
                   f'domainwatch_slots_owned{{{JOB},instance="b:8427"}}': "512 512 512 0x40"},
                  2, 3 + minutes(p["unowned_for"]), description=(
                      "512 of 1,024 slots are held: the domains of the others go unchecked (docs/ha.md).")),
             ),
        Rule("DomainwatchVerifiedDomainsDropping", "page", dropping, "0m",
             "Many domains left verified within an hour, most with {{ $labels.code }}",
             "A shared cause (a provider's include or DNS host broke) rather than one customer's change:"
             " the domains' first finding is {{ $labels.code }}.",
             Case({f'domainwatch_verified_lost_total{{{JOB},code="spf_include_missing"}}': "0 0 0 0 0 30x40",
                   f'domainwatch_verified_lost_total{{{JOB},code="dkim_missing"}}': "0+1x40",
                   f'domainwatch_domains{{{JOB},status="verified"}}': "500x40"},
                  3, 7, {"code": "spf_include_missing"})),
    ]  # fmt: skip


def owned(expr: str) -> str:
    """A per-domain rule's expression, carrying `team` from the domain's owner labels
    (domainwatch_domain_labels' label_team, metrics.labels_allow). A domain with no labels
    series (labels_allow empty, or the family denied) still alerts, without `team`."""
    joined = (
        f"({expr}) * on (instance, domain) group_left (label_team) domainwatch_domain_labels"
        f" or ({expr}) unless on (instance, domain) domainwatch_domain_labels"
    )
    with_team = f'label_replace({joined}, "team", "$1", "label_team", "(.+)")'
    return f'label_replace({with_team}, "label_team", "", "label_team", ".*")'


def tickets(p: dict[str, Any]) -> list[Rule]:
    return [
        owned_rule(rule) if rule.name != "DomainwatchConfigReloadFailed" else rule for rule in _tickets(p)
    ]


def owned_rule(rule: Rule) -> Rule:
    return Rule(rule.name, rule.tier, owned(rule.expr), rule.wait, rule.summary, rule.description, rule.case)


def _tickets(p: dict[str, Any]) -> list[Rule]:
    was_verified = "and on (domain) domainwatch_domain_last_verified_timestamp_seconds"
    verified = 'domainwatch_domain_last_verified_timestamp_seconds{job="domainwatch",domain="%s"}'
    wait = minutes(p["ticket_for"])
    return [
        Rule("DomainwatchDomainTemporaryFailure", "ticket", 'domainwatch_domain_status{status="temporary_failure"} == 1',
             p["ticket_for"], "{{ $labels.domain }} lost a verified record",
             "A record of {{ $labels.domain }} that was verified is missing."
             ' {{ with printf "domainwatch_domain_window_deadline_timestamp_seconds{domain=%q} - time()" $labels.domain | query }}'
             "{{ . | first | value | humanizeDuration }} left before it fails.{{ end }}",
             Case({f'domainwatch_domain_status{{{JOB},domain="tf.example.com",status="temporary_failure"}}': "1x30",
                   f'domainwatch_domain_window_deadline_timestamp_seconds{{{JOB},domain="tf.example.com"}}': "259200x30",
                   f'domainwatch_domain_labels{{{JOB},domain="tf.example.com",label_team="billing"}}': "1x30"},
                  wait - 1, wait + 1,
                  {"job": "domainwatch", "domain": "tf.example.com", "status": "temporary_failure", "team": "billing"},
                  f"A record of tf.example.com that was verified is missing. {humanized(259200 - (wait + 1) * 60)} left before it fails.")),
        Rule("DomainwatchDomainFailedAfterVerified", "ticket",
             f'domainwatch_domain_status{{status="failed"}} == 1 {was_verified}', p["ticket_for"],
             "{{ $labels.domain }} failed after it had been verified",
             "A record of {{ $labels.domain }} stayed missing through its window. A domain that never"
             " verified does not alert: that is its owner's onboarding, on the status page.",
             Case({f'domainwatch_domain_status{{{JOB},domain="lost.example.com",status="failed"}}': "1x30",
                   verified % "lost.example.com": "1.7e9x30",
                   f'domainwatch_domain_status{{{JOB},domain="never.example.com",status="failed"}}': "1x30"},
                  wait - 1, wait + 1, {"job": "domainwatch", "domain": "lost.example.com", "status": "failed"})),
        Rule("DomainwatchSPFTooManyLookups", "ticket", "domainwatch_spf_dns_lookups > 10", p["ticket_for"],
             "{{ $labels.domain }}: SPF needs more than 10 DNS lookups",
             "Receivers evaluate the SPF record of {{ $labels.domain }} to permerror: its mail fails SPF.",
             Case({f'domainwatch_spf_dns_lookups{{{JOB},domain="big.example.com"}}': "12x30",
                   f'domainwatch_spf_dns_lookups{{{JOB},domain="ok.example.com"}}': "9x30"},
                  wait - 1, wait + 1, {"job": "domainwatch", "domain": "big.example.com"})),
        Rule("DomainwatchDKIMWeakKey", "ticket", "domainwatch_dkim_key_bits < 2048", p["ticket_for"],
             "{{ $labels.domain }}: DKIM key {{ $labels.selector }} is under 2048 bits",
             "RSA keys under 2048 bits are weak; under 1024 bits verifiers reject them (RFC 8301).",
             Case({f'domainwatch_dkim_key_bits{{{JOB},domain="old.example.com",selector="s1"}}': "1024x30"},
                  wait - 1, wait + 1, {"job": "domainwatch", "domain": "old.example.com", "selector": "s1"})),
        Rule("DomainwatchTLSCertificateExpiring", "ticket",
             f"(domainwatch_tls_certificate_expiry_timestamp_seconds - time()) < {p['tls_expiry_days']} * 86400",
             p["ticket_for"], "The certificate of {{ $labels.mx }} expires soon",
             "{{ $labels.mx }}, an MX host of {{ $labels.domain }}, offers a certificate over STARTTLS that"
             f" expires within {p['tls_expiry_days']} days; senders enforcing TLS stop delivering once it has.",
             Case({f'domainwatch_tls_certificate_expiry_timestamp_seconds{{{JOB},domain="a.example.com",mx="mx.example.net"}}': "86400x30"},
                  wait - 1, wait + 1, {"job": "domainwatch", "domain": "a.example.com", "mx": "mx.example.net"})),
        Rule("DomainwatchDNSSECSignaturesExpiring", "ticket",
             f"(domainwatch_domain_signatures_expire_timestamp_seconds - time()) < {p['dnssec_expiry_days']} * 86400",
             p["ticket_for"], "The DNSSEC signatures of {{ $labels.domain }} expire soon",
             "A DNSSEC signature over a record of {{ $labels.domain }} expires within"
             f" {p['dnssec_expiry_days']} days and has not been renewed; once it expires, validating receivers"
             " cannot see the record.",
             Case({f'domainwatch_domain_signatures_expire_timestamp_seconds{{{JOB},domain="signed.example.com"}}': "86400x30"},
                  wait - 1, wait + 1, {"job": "domainwatch", "domain": "signed.example.com"})),
        Rule("DomainwatchSTARTTLSLost", "ticket",
             'domainwatch_record_status{record=~"starttls:.+", status=~"temporary_failure|failed"} == 1',
             p["ticket_for"], "{{ $labels.domain }}: {{ $labels.record }} no longer passes",
             "An MX host of {{ $labels.domain }} no longer offers STARTTLS with a valid certificate;"
             " senders enforcing TLS do not deliver to it.",
             Case({f'domainwatch_record_status{{{JOB},domain="a.example.com",record="starttls:mx.example.net",status="temporary_failure"}}': "1x30"},
                  wait - 1, wait + 1,
                  {"job": "domainwatch", "domain": "a.example.com", "record": "starttls:mx.example.net",
                   "status": "temporary_failure"})),
        Rule("DomainwatchMTASTSPolicyUnreachable", "ticket",
             "domainwatch_mta_sts_policy_fetch_success == 0"
             ' and on (domain) max_over_time(domainwatch_mta_sts_mode{mode="enforce"}[1d]) == 1',
             p["mta_sts_unreachable_for"],
             "{{ $labels.domain }}: the MTA-STS policy (mode enforce) cannot be fetched",
             "The policy https://mta-sts.{{ $labels.domain }}/.well-known/mta-sts.txt, which was in enforce"
             " mode, cannot be fetched; senders without a cached policy cannot apply it.",
             Case({f'domainwatch_mta_sts_policy_fetch_success{{{JOB},domain="a.example.com"}}': "0x60",
                   f'domainwatch_mta_sts_mode{{{JOB},domain="a.example.com",mode="enforce"}}': "1x60"},
                  minutes(p["mta_sts_unreachable_for"]) - 1, minutes(p["mta_sts_unreachable_for"]) + 1,
                  {"job": "domainwatch", "domain": "a.example.com"})),
        Rule("DomainwatchRecordWeakened", "ticket",
             f"time() - domainwatch_record_weakened_timestamp_seconds < {minutes(p['record_weakened_window']) * 60}",
             "0m", "{{ $labels.domain }}: {{ $labels.record }} was weakened",
             "What {{ $labels.record }} of {{ $labels.domain }} publishes changed for the weaker (a lower"
             " DMARC policy, a wider SPF, a shorter DKIM key, ...): the record.changed event and the domain's"
             f" history say how. The ticket clears {p['record_weakened_window']} after the change.",
             Case({f'domainwatch_record_weakened_timestamp_seconds{{{JOB},domain="a.example.com",record="dmarc"}}': "_x10 600x20",
                   f'domainwatch_record_weakened_timestamp_seconds{{{JOB},domain="b.example.com",record="spf"}}': "-900000x30"},
                  5, 11, {"job": "domainwatch", "domain": "a.example.com", "record": "dmarc"})),
        Rule("DomainwatchConfigReloadFailed", "ticket", "domainwatch_config_last_reload_successful == 0", p["ticket_for"],
             "domainwatch could not reload its configuration",
             "The running configuration is the previous one; the daemon logged every error.",
             Case({f'domainwatch_config_last_reload_successful{{{JOB},instance="dw:8427"}}': "0x30"},
                  wait - 1, wait + 1, {"job": "domainwatch", "instance": "dw:8427"})),
    ]  # fmt: skip


def rules_document(p: dict[str, Any]) -> dict[str, Any]:
    def entry(rule: Rule) -> dict[str, Any]:
        return {
            "alert": rule.name,
            "expr": rule.expr,
            "for": rule.wait,
            "labels": {"severity": rule.tier},
            "annotations": {
                "summary": rule.summary,
                "description": rule.description,
                "runbook_url": f"{RUNBOOKS}#{rule.name.lower()}",
            },
        }

    return {
        "groups": [
            {"name": "domainwatch-pages", "rules": [entry(r) for r in pages(p)]},
            {"name": "domainwatch-tickets", "rules": [entry(r) for r in tickets(p)]},
        ]
    }


def tests_document(p: dict[str, Any]) -> dict[str, Any]:
    def test(rule: Rule) -> dict[str, Any]:
        labels = {"severity": rule.tier, **rule.case.labels}
        notes = {
            "summary": render(rule.summary, labels),
            "description": rule.case.description or render(rule.description, labels),
            "runbook_url": f"{RUNBOOKS}#{rule.name.lower()}",
        }
        return {
            "name": f"{rule.name}: quiet before, fires after",
            "interval": "1m",
            "input_series": [{"series": s, "values": v} for s, v in rule.case.series.items()],
            "alert_rule_test": [
                {"eval_time": f"{rule.case.quiet}m", "alertname": rule.name, "exp_alerts": []},
                {
                    "eval_time": f"{rule.case.fires}m",
                    "alertname": rule.name,
                    "exp_alerts": [{"exp_labels": labels, "exp_annotations": notes}],
                },
            ],
        }

    return {
        "rule_files": [RULES.name],
        "evaluation_interval": "1m",
        "tests": [test(rule) for rule in [*pages(p), *tickets(p)]],
    }


def humanized(seconds: int) -> str:
    """Seconds as Prometheus's humanizeDuration writes them (days, hours, minutes, seconds)."""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    mins, secs = divmod(rest, 60)
    return " ".join(f"{n}{u}" for n, u in ((days, "d"), (hours, "h"), (mins, "m")) if n) + f" {secs}s"


def render(template: str, labels: dict[str, str]) -> str:
    """An annotation as Prometheus renders it: only `{{ $labels.x }}` is used here."""
    return re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels.get(m.group(1), ""), template)


def texts() -> dict[Path, str]:
    parameters = yaml.safe_load(PARAMETERS.read_text())
    banner = (
        "# Generated by deploy/prometheus/rules.py from parameters.yaml: edit those, then `make rules`.\n"
    )
    dump = lambda document: banner + yaml.safe_dump(document, sort_keys=False, width=120)  # noqa: E731
    return {RULES: dump(rules_document(parameters)), TESTS: dump(tests_document(parameters))}


def main() -> int:
    check = "--check" in sys.argv[1:]
    stale = [path for path, text in texts().items() if not path.exists() or path.read_text() != text]
    if check:
        for path in stale:
            print(f"{path.relative_to(HERE.parents[1])} is stale: run `make rules`", file=sys.stderr)
        return 1 if stale else 0
    for path, text in texts().items():
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
