"""CSV exports (domains, history): row builders shared by the API and `domainwatch export`.

Rows are produced lazily, so an export of any size streams in constant memory.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from domainwatch.present.views import iso
from domainwatch.state.events import Event

DOMAIN_COLUMNS = (
    "domain",
    "status",
    "status_since",
    "window_deadline",
    "stale",
    "sending",
    "receiving",
    "checked_at",
    "errors",
    "warnings",
    "source",
    "labels",
)
HISTORY_COLUMNS = ("id", "domain", "sequence", "kind", "subject", "previous", "status", "at", "reason")


def domain_row(view: Mapping[str, Any], findings: Mapping[str, int]) -> list[str]:
    capabilities = view.get("capabilities", {})
    return [
        view["name"],
        view["status"],
        view.get("status_since") or "",
        view.get("window_deadline") or "",
        "true" if view.get("stale") else "false",
        capabilities.get("sending", ""),
        capabilities.get("receiving", ""),
        view.get("checked_at") or "",
        str(findings.get("error", 0)),
        str(findings.get("warning", 0)),
        view.get("source") or "config",
        labels_cell(view.get("labels") or {}),
    ]


def labels_cell(labels: Mapping[str, str]) -> str:
    """Owner labels in one cell: `k=v;k=v`, sorted by key."""
    return ";".join(f"{key}={labels[key]}" for key in sorted(labels))


def history_row(event: Event) -> list[str]:
    return [
        event.id,
        event.domain,
        str(event.sequence),
        event.kind,
        event.subject,
        event.previous,
        event.status,
        iso(event.at) or "",
        event.reason,
    ]


def csv_chunks(header: Iterable[str], rows: Iterable[list[str]], batch: int = 500) -> Iterator[str]:
    """CSV text in chunks of `batch` rows; cells that start like a formula are neutralized."""
    chunk: list[list[str]] = []
    head: Iterable[str] | None = header
    for row in rows:
        chunk.append(row)
        if len(chunk) == batch:
            yield csv_block(head, chunk)
            head, chunk = None, []
    yield csv_block(head, chunk)


def csv_block(header: Iterable[str] | None, rows: Iterable[list[str]]) -> str:
    """Rows as CSV text (after the header, when given), formula-like cells neutralized."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header is not None:
        writer.writerow(header)
    writer.writerows([_safe_cell(cell) for cell in row] for row in rows)
    return buffer.getvalue()


def _safe_cell(cell: str) -> str:
    # Spreadsheet formula injection: record values and names are attacker-controlled.
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell
