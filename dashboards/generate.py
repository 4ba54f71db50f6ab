"""Generate domainwatch's Grafana dashboards as code (Grafana Foundation SDK, 11.x).

    python dashboards/generate.py            # writes dashboards/*.json
    python dashboards/generate.py --check    # exits 1 if the committed JSON is stale

Every query uses the `datasource` and `job` variables; uids and tags are stable.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml
from grafana_foundation_sdk.builders import dashboard, stat, statetimeline, table
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from operator_board import operator_board
from panels import DATASOURCE, JOB, TAGS, at, query, series, variables, with_panels

HERE = Path(__file__).resolve().parent


def overview() -> dashboard.Dashboard:
    board = variables(
        dashboard.Dashboard("domainwatch / Overview")
        .uid("domainwatch-overview")
        .tags(TAGS)
        .refresh("1m")
        .time("now-24h", "now")
    )
    not_verified = (
        table.Panel()
        .title("Domains not verified")
        .datasource(DATASOURCE)
        .grid_pos(at(0, 5, 24, 9))
        .with_target(
            query(
                f'domainwatch_domain_status{{{JOB}, status!~"verified|not_started"}} == 1',
                ref="A",
                instant=True,
            )
        )
        .with_target(
            query(f"domainwatch_domain_status_since_timestamp_seconds{{{JOB}}} * 1000", ref="B", instant=True)
        )
        .with_target(
            query(
                f"domainwatch_domain_window_deadline_timestamp_seconds{{{JOB}}} * 1000", ref="C", instant=True
            )
        )
        .with_target(query(f'domainwatch_domain_findings{{{JOB}, severity="error"}}', ref="D", instant=True))
    )
    panels: list[Any] = [
        stat.Panel()
        .title("Domains by status")
        .datasource(DATASOURCE)
        .grid_pos(at(0, 0, 24, 5))
        .with_target(query(f"sum by (status) (domainwatch_domains{{{JOB}}})", "{{status}}")),
        not_verified,
        series(
            "Status changes",
            at(0, 14, 12, 8),
            query(
                f"sum by (status) (increase(domainwatch_status_changes_total{{{JOB}}}[$__rate_interval]))",
                "{{status}}",
            ),
        ),
        series(
            "Domains going stale",
            at(12, 14, 12, 8),
            query(f"sum(domainwatch_domain_stale{{{JOB}}})", "stale domains"),
        ),
        series(
            "Checks per second",
            at(0, 22, 8, 8),
            query(
                f"sum by (result) (rate(domainwatch_checks_total{{{JOB}}}[$__rate_interval]))", "{{result}}"
            ),
            unit="ops",
        ),
        series(
            "Check duration (p95)",
            at(8, 22, 8, 8),
            query(
                "histogram_quantile(0.95, sum by (le) "
                f"(rate(domainwatch_check_duration_seconds_bucket{{{JOB}}}[$__rate_interval])))",
                "p95",
            ),
            unit="s",
        ),
        series(
            "DNS outcomes by nameserver",
            at(16, 22, 8, 8),
            query(
                "sum by (nameserver, outcome) "
                f"(rate(domainwatch_dns_queries_total{{{JOB}}}[$__rate_interval]))",
                "{{nameserver}} {{outcome}}",
            ),
            unit="ops",
        ),
        series(
            "Webhook backlog",
            at(0, 30, 8, 8),
            query(f"sum by (endpoint) (domainwatch_webhook_outbox_pending{{{JOB}}})", "{{endpoint}}"),
        ),
        series(
            "Oldest undelivered webhook",
            at(8, 30, 8, 8),
            query(
                f"max by (endpoint) (domainwatch_webhook_outbox_oldest_pending_age_seconds{{{JOB}}})",
                "{{endpoint}}",
            ),
            unit="s",
        ),
        series(
            "Webhook dead letters",
            at(16, 30, 8, 8),
            query(f"sum by (endpoint) (domainwatch_webhook_dead_letters{{{JOB}}})", "{{endpoint}}"),
        ),
        series(
            "Record changes by direction (record.changed)",
            at(0, 38, 12, 8),
            query(
                f"sum by (direction) (increase(domainwatch_record_changes_total{{{JOB}}}[$__rate_interval]))",
                "{{direction}}",
            ),
        ),
        series(
            "Records weakened in the last day (DomainwatchRecordWeakened)",
            at(12, 38, 12, 8),
            query(
                f"count(time() - domainwatch_record_weakened_timestamp_seconds{{{JOB}}} < 86400)"
                " or vector(0)",
                "weakened records",
            ),
        ),
    ]
    return with_panels(board, panels)


def domain_board() -> dashboard.Dashboard:
    board = variables(
        dashboard.Dashboard("domainwatch / Domain")
        .uid("domainwatch-domain")
        .tags(TAGS)
        .refresh("1m")
        .time("now-7d", "now"),
        with_domain=True,
    )
    scope = f'{JOB}, domain="$domain"'
    panels: list[Any] = [
        statetimeline.Panel()
        .title("Domain status")
        .datasource(DATASOURCE)
        .grid_pos(at(0, 0, 24, 5))
        .with_target(query(f"domainwatch_domain_status{{{scope}}} == 1", "{{status}}")),
        statetimeline.Panel()
        .title("Capabilities")
        .datasource(DATASOURCE)
        .grid_pos(at(0, 5, 24, 5))
        .with_target(query(f"domainwatch_capability_status{{{scope}}}", "{{capability}}: {{status}}")),
        statetimeline.Panel()
        .title("Records")
        .datasource(DATASOURCE)
        .grid_pos(at(0, 10, 24, 8))
        .with_target(query(f"domainwatch_record_status{{{scope}}}", "{{record}}: {{status}}")),
        series(
            "SPF DNS lookups (limit 10)",
            at(0, 18, 8, 8),
            query(f"domainwatch_spf_dns_lookups{{{scope}}}", "lookups"),
        ),
        series(
            "DKIM key bits", at(8, 18, 8, 8), query(f"domainwatch_dkim_key_bits{{{scope}}}", "{{selector}}")
        ),
        series(
            "DMARC policy", at(16, 18, 8, 8), query(f"domainwatch_dmarc_policy{{{scope}}} == 1", "{{policy}}")
        ),
        series(
            "Time left in the window",
            at(0, 26, 12, 8),
            query(f"domainwatch_domain_window_deadline_timestamp_seconds{{{scope}}} - time()", "left"),
            unit="s",
        ),
        series(
            "Findings", at(12, 26, 12, 8), query(f"domainwatch_domain_findings{{{scope}}}", "{{severity}}")
        ),
        series(
            "TLS certificate expiry (days left, per MX host)",
            at(0, 34, 8, 8),
            query(
                f"(domainwatch_tls_certificate_expiry_timestamp_seconds{{{scope}}} - time()) / 86400",
                "{{mx}}",
            ),
        ),
        series(
            "TLS version (per MX host)",
            at(8, 34, 8, 8),
            query(f"domainwatch_tls_version_info{{{scope}}}", "{{mx}}: TLS {{version}}"),
        ),
        series(
            "MTA-STS mode, and whether the policy can be fetched",
            at(16, 34, 8, 8),
            query(f"domainwatch_mta_sts_mode{{{scope}}} == 1", "mode {{mode}}"),
            query(f"domainwatch_mta_sts_policy_fetch_success{{{scope}}}", "policy fetched", "B"),
        ),
    ]
    return with_panels(board, panels)


BOARDS = {
    "domainwatch-overview.json": overview,
    "domainwatch-domain.json": domain_board,
    "domainwatch-operator.json": operator_board,
}
KUBERNETES = HERE.parent / "deploy" / "kubernetes" / "base"


def render(build: Any) -> str:
    return json.dumps(build().build(), cls=JSONEncoder, indent=2, sort_keys=True) + "\n"


class _BlockDumper(yaml.SafeDumper):
    """Multi-line strings (the dashboards' JSON) as literal blocks: readable, short lines."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_BlockDumper.add_representer(str, _str)


def kubernetes_files() -> dict[Path, str]:
    """The dashboards as a ConfigMap for Grafana's sidecar, and the alerts as a PrometheusRule."""
    boards = {name: render(build) for name, build in BOARDS.items()}
    dashboards = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "domainwatch-dashboards",
            "labels": {"app.kubernetes.io/name": "domainwatch", "grafana_dashboard": "1"},
        },
        "data": boards,
    }
    alerts = yaml.safe_load((HERE.parent / "deploy" / "prometheus" / "domainwatch-alerts.yaml").read_text())
    rule = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "domainwatch", "labels": {"app.kubernetes.io/name": "domainwatch"}},
        "spec": alerts,
    }
    header = "# Generated by dashboards/generate.py; do not edit.\n---\n"
    return {
        KUBERNETES / "dashboards-configmap.yaml": header
        + yaml.dump(dashboards, Dumper=_BlockDumper, sort_keys=True, width=120),
        KUBERNETES / "prometheusrule.yaml": header + yaml.safe_dump(rule, sort_keys=False, width=120),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="fail if the committed JSON is stale")
    args = parser.parse_args()
    stale = []
    outputs = {HERE / filename: render(build) for filename, build in BOARDS.items()} | kubernetes_files()
    for path, text in outputs.items():
        filename = path.name
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(filename)
        else:
            path.write_text(text)
    if stale:
        print(f"stale dashboards: {', '.join(stale)}; run python dashboards/generate.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
