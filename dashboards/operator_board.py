"""The operator's board: domainwatch itself rather than the domains it watches. What a page
(docs/alerting.md) sends the operator to: the fleet's statuses over time, whether checks keep
up, how lookups and probes end, the webhook queue, the store and the process."""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.builders import dashboard
from panels import JOB, TAGS, at, figure, query, series, variables, with_panels


def _rate(metric: str, by: str) -> str:
    return f"sum by ({by}) (rate({metric}{{{JOB}}}[$__rate_interval]))"


def _p95(histogram: str, by: str = "le") -> str:
    return f"histogram_quantile(0.95, sum by ({by}) (rate({histogram}_bucket{{{JOB}}}[$__rate_interval])))"


def _health_row() -> list[Any]:
    return [
        figure("Ready replicas", at(0, 0, 6, 4), query(f"sum(domainwatch_ready{{{JOB}}})", "ready")),
        figure(
            "Checks due, not started", at(6, 0, 6, 4), query(f"sum(domainwatch_checks_due{{{JOB}}})", "due")
        ),
        figure(
            "Scheduler lag",
            at(12, 0, 6, 4),
            query(f"max(domainwatch_scheduler_lag_seconds{{{JOB}}})", "lag"),
            "s",
        ),
        figure(
            "Config reload",
            at(18, 0, 6, 4),
            query(f"min(domainwatch_config_last_reload_successful{{{JOB}}})", "ok"),
        ),
    ]


def _checking_rows() -> list[Any]:
    return [
        series(
            "Fleet status over time",
            at(0, 4, 12, 8),
            query(f"sum by (status) (domainwatch_domains{{{JOB}}})", "{{status}}"),
        ),
        series(
            "Domains leaving verified, by first finding",
            at(12, 4, 12, 8),
            query(
                f"sum by (code) (increase(domainwatch_verified_lost_total{{{JOB}}}[$__rate_interval]))",
                "{{code}}",
            ),
        ),
        series(
            "Check start delay (p95) and round (p95)",
            at(0, 12, 12, 8),
            query(_p95("domainwatch_check_start_delay_seconds"), "start delay p95"),
            query(_p95("domainwatch_round_duration_seconds"), "round p95", "B"),
            unit="s",
        ),
        series(
            "Checks per second, by result",
            at(12, 12, 12, 8),
            query(_rate("domainwatch_checks_total", "result"), "{{result}}"),
            unit="ops",
        ),
        series(
            "Lookup outcomes by nameserver",
            at(0, 20, 12, 8),
            query(
                _rate("domainwatch_dns_queries_total", "nameserver, outcome"), "{{nameserver}} {{outcome}}"
            ),
            unit="ops",
        ),
        series(
            "Probe outcomes",
            at(12, 20, 12, 8),
            query(_rate("domainwatch_probes_total", "probe, outcome"), "{{probe}} {{outcome}}"),
            unit="ops",
        ),
    ]


def _delivery_and_process_rows() -> list[Any]:
    return [
        series(
            "Webhook queue",
            at(0, 28, 8, 8),
            query(f"sum by (endpoint) (domainwatch_webhook_outbox_pending{{{JOB}}})", "{{endpoint}} pending"),
            query(f"sum by (endpoint) (domainwatch_webhook_dead_letters{{{JOB}}})", "{{endpoint}} dead", "B"),
        ),
        series(
            "Store writes (p95) and errors",
            at(8, 28, 8, 8),
            query(_p95("domainwatch_store_write_duration_seconds"), "write p95"),
            query(_rate("domainwatch_store_errors_total", "operation"), "{{operation}} errors", "B"),
        ),
        series(
            "HTTP answers by code",
            at(16, 28, 8, 8),
            query(_rate("domainwatch_http_requests_total", "code"), "{{code}}"),
            unit="reqps",
        ),
        series(
            "Resident memory",
            at(0, 36, 8, 8),
            query(f"process_resident_memory_bytes{{{JOB}}}", "{{instance}}"),
            unit="bytes",
        ),
        series(
            "CPU",
            at(8, 36, 8, 8),
            query(f"rate(process_cpu_seconds_total{{{JOB}}}[$__rate_interval])", "{{instance}}"),
            unit="percentunit",
        ),
        series(
            "Open files",
            at(16, 36, 8, 8),
            query(f"process_open_fds{{{JOB}}}", "{{instance}}"),
        ),
    ]


def operator_board() -> dashboard.Dashboard:
    board = variables(
        dashboard.Dashboard("domainwatch / Operator")
        .uid("domainwatch-operator")
        .tags(TAGS)
        .refresh("30s")
        .time("now-6h", "now")
    )
    return with_panels(board, [*_health_row(), *_checking_rows(), *_delivery_and_process_rows()])
