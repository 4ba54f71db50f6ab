"""Small frozen value types and closed vocabularies shared by every module.

Everything here is a plain value: enums are safe as metric label values and stable for API users;
free text (record values, messages) lives in fields, never in enum members.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class RecordState(enum.StrEnum):
    """What one check concluded about one record, at one moment."""

    PRESENT = "present"  # published and correct
    MISSING = "missing"  # conclusive: NXDOMAIN, NODATA, or no matching record
    WRONG = "wrong"  # published, but not what is required
    ERROR = "error"  # no conclusive answer: timeout, SERVFAIL, refused, ...


class CommonCode(enum.StrEnum):
    """Finding codes every record kind can give; each kind has its own (checks/*.py: Code).

    Values are a public contract: the JSON output, the API, webhooks and docs/checks.md."""

    LOOKUP_ERROR = "lookup_error"
    NAMESERVERS_DISAGREE = "nameservers_disagree"
    CHECK_FAILED = "check_failed"  # evaluating the record raised: a defect, reported as an error
    RESULT_TRUNCATED = "result_truncated"  # the record's result was cut to a bounded size


@dataclass(frozen=True, slots=True)
class Remediation:
    """The exact record to publish. `records`, when set, is the whole RRset the name must have
    (an MX fix names every host: "10 mx1.example.net", "20 mx2.example.net"); `value` and
    `priority` are then its first record."""

    name: str
    type: str
    value: str
    priority: int | None = None
    records: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "name": self.name,
            "type": self.type,
            "value": self.value,
            "priority": self.priority,
        }
        if self.records:
            out["records"] = list(self.records)
        return out


@dataclass(frozen=True, slots=True)
class Finding:
    code: enum.StrEnum  # CommonCode, or the record kind's own Code
    severity: Severity
    message: str
    expected: str | None = None
    found: str | None = None
    remediation: Remediation | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code.value,
            "severity": self.severity.value,
            "message": self.message,
            "expected": self.expected,
            "found": self.found,
            "remediation": self.remediation.as_dict() if self.remediation else None,
        }


@dataclass(frozen=True, slots=True)
class ServerView:
    """One authoritative nameserver's view of a record (authoritative mode only)."""

    server: str
    state: RecordState
    found: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RecordResult:
    """The outcome of checking one record of one domain.

    `record` is the stable id shared by the CLI, the API and the metrics:
    spf | dkim:<selector> | return_path_mx | receiving_mx | dmarc | tracking.
    """

    record: str
    name: str
    type: str
    state: RecordState
    required: bool
    expected: str | None
    found: tuple[str, ...]
    findings: tuple[Finding, ...]
    # Numbers other modules export (spf_dns_lookups, dkim_key_bits, dmarc_policy, ...).
    facts: dict[str, str | int] = field(default_factory=dict)
    servers: tuple[ServerView, ...] = ()

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "record": self.record,
            "name": self.name,
            "type": self.type,
            "state": self.state.value,
            "required": self.required,
            "expected": self.expected,
            "found": list(self.found),
            "findings": [f.as_dict() for f in self.findings],
            "facts": dict(self.facts),
        }
        if self.servers:
            out["nameservers"] = [
                {"server": s.server, "state": s.state.value, "found": list(s.found)} for s in self.servers
            ]
        return out


@dataclass(frozen=True, slots=True)
class DomainReport:
    name: str
    records: tuple[RecordResult, ...]

    @property
    def ok(self) -> bool:
        """True when every required record is present and correct."""
        return all(r.state is RecordState.PRESENT for r in self.records if r.required)

    @property
    def verdict(self) -> str:
        """The check in one word: present (every required record), error (a required record's
        lookup failed), or missing (some required record absent or wrong)."""
        required = [r.state for r in self.records if r.required]
        if RecordState.ERROR in required:
            return "error"
        return "present" if all(state is RecordState.PRESENT for state in required) else "missing"

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "ok": self.ok, "records": [r.as_dict() for r in self.records]}
