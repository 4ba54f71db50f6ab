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
    # A probe's host resolves to an address not on the public internet: not connected to.
    PROBE_ADDRESS_NOT_GLOBAL = "probe_address_not_global"
    # A pinned record no longer publishes what it was pinned to (fleet/drift.py).
    RECORD_PINNED_CHANGED = "record_pinned_changed"


@dataclass(frozen=True, slots=True)
class Remediation:
    """The exact record to publish. `records`, when set, lists each record to add, one per line
    (an MX fix names every absent or mis-prioritised host with its priority: "10 mx1.example.net",
    "20 mx2.example.net"); `value` and `priority` are then its first record. `remove` lists the
    record data to delete first ("0 ." for a null MX, which RFC 7505 requires to stand alone;
    "30 mx1.example.net" for a host at the wrong priority): adding `records` and deleting
    `remove`, as given, makes the record pass."""

    name: str
    type: str
    value: str
    priority: int | None = None
    records: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()
    # The value is the provider's to make (a DKIM key generated in its console): `value` is a
    # placeholder, so a zone file shows the record as a comment, never a record to publish.
    from_provider: bool = False

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "name": self.name,
            "type": self.type,
            "value": self.value,
            "priority": self.priority,
        }
        if self.records:
            out["records"] = list(self.records)
        if self.remove:
            out["remove"] = list(self.remove)
        if self.from_provider:
            out["value_from_provider"] = True
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
class AddressView:
    """One address of a probed host: what its probe concluded (the record's state is the worst
    of its addresses'), and the codes of its findings (whose messages name the address)."""

    address: str
    outcome: RecordState
    codes: tuple[str, ...] = ()


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
    addresses: tuple[AddressView, ...] = ()  # a probed record's, one per address tried

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
        if self.addresses:
            out["addresses"] = [
                {"address": a.address, "outcome": a.outcome.value, "findings": list(a.codes)}
                for a in self.addresses
            ]
        return out


@dataclass(frozen=True, slots=True)
class DomainReport:
    name: str
    records: tuple[RecordResult, ...]

    @property
    def counted(self) -> tuple[RecordResult, ...]:
        """The records the verdict is about: the required ones; all of them when none is
        (`inspect`, where every record is advisory and every one is what was asked)."""
        required = tuple(r for r in self.records if r.required)
        return required or self.records

    @property
    def lookup_failed(self) -> bool:
        """Some counted record's lookup did not answer: no verdict on it."""
        return any(r.state is RecordState.ERROR for r in self.counted)

    @property
    def ok(self) -> bool:
        """Every counted record conclusive, present, and without an error finding."""
        return all(
            r.state is RecordState.PRESENT and all(f.severity is not Severity.ERROR for f in r.findings)
            for r in self.counted
        )

    @property
    def header(self) -> str:
        """The report's one-line verdict: OK, NEEDS ATTENTION or LOOKUP FAILED."""
        if self.lookup_failed:
            return "LOOKUP FAILED"
        return "OK" if self.ok else "NEEDS ATTENTION"

    @property
    def verdict(self) -> str:
        """The check in one word: present (every required record), error (a required record's
        lookup failed), or missing (some required record absent or wrong)."""
        required = [r.state for r in self.records if r.required]
        if RecordState.ERROR in required:
            return "error"
        return "present" if all(state is RecordState.PRESENT for state in required) else "missing"

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "ok": self.ok,
            "result": self.header.lower().replace(" ", "_"),
            "records": [r.as_dict() for r in self.records],
        }
