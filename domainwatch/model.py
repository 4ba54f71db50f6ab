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


class FindingCode(enum.StrEnum):
    """Every diagnosis domainwatch can make. Values are a public contract."""

    LOOKUP_ERROR = "lookup_error"

    SPF_MISSING = "spf_missing"
    SPF_MULTIPLE = "spf_multiple"
    SPF_SYNTAX = "spf_syntax"
    SPF_NOT_AUTHORIZED = "spf_not_authorized"
    SPF_TOO_MANY_LOOKUPS = "spf_too_many_lookups"
    SPF_TOO_MANY_VOID_LOOKUPS = "spf_too_many_void_lookups"
    SPF_LOOP = "spf_loop"
    SPF_INCLUDE_INVALID = "spf_include_invalid"
    SPF_PASS_ALL = "spf_pass_all"  # noqa: S105 (a finding code, not a password)
    SPF_NEUTRAL_ALL = "spf_neutral_all"
    SPF_PTR = "spf_ptr"
    SPF_STRING_TOO_LONG = "spf_string_too_long"
    SPF_RECORD_TOO_LONG = "spf_record_too_long"
    SPF_MACRO_NOT_FOLLOWED = "spf_macro_not_followed"
    SPF_MX_TOO_MANY_HOSTS = "spf_mx_too_many_hosts"

    DKIM_MISSING = "dkim_missing"
    DKIM_MULTIPLE = "dkim_multiple"
    DKIM_CNAME_MISSING = "dkim_cname_missing"
    DKIM_CNAME_WRONG = "dkim_cname_wrong"
    DKIM_SYNTAX = "dkim_syntax"
    DKIM_VERSION_UNKNOWN = "dkim_version_unknown"
    DKIM_KEY_TYPE_UNKNOWN = "dkim_key_type_unknown"
    DKIM_REVOKED = "dkim_revoked"
    DKIM_TESTING = "dkim_testing"
    DKIM_KEY_UNPARSABLE = "dkim_key_unparsable"
    DKIM_KEY_TOO_WEAK = "dkim_key_too_weak"
    DKIM_KEY_SHORT = "dkim_key_short"
    DKIM_KEY_MISMATCH = "dkim_key_mismatch"

    MX_MISSING = "mx_missing"
    MX_HOST_ABSENT = "mx_host_absent"
    MX_PRIORITY_WRONG = "mx_priority_wrong"
    MX_NULL = "mx_null"
    MX_TARGET_CNAME = "mx_target_cname"
    MX_TARGET_NO_ADDRESS = "mx_target_no_address"
    MX_TARGET_IP_LITERAL = "mx_target_ip_literal"

    DMARC_MISSING = "dmarc_missing"
    DMARC_MULTIPLE = "dmarc_multiple"
    DMARC_SYNTAX = "dmarc_syntax"
    DMARC_POLICY_MISSING = "dmarc_policy_missing"
    DMARC_POLICY_WEAK = "dmarc_policy_weak"
    DMARC_PCT_PARTIAL = "dmarc_pct_partial"
    DMARC_NO_RUA = "dmarc_no_rua"
    DMARC_EXTERNAL_UNAUTHORIZED = "dmarc_external_unauthorized"
    DMARC_ORG_DOMAIN_ONLY = "dmarc_org_domain_only"

    TRACKING_MISSING = "tracking_missing"
    TRACKING_WRONG = "tracking_wrong"

    NAMESERVERS_DISAGREE = "nameservers_disagree"


@dataclass(frozen=True, slots=True)
class Remediation:
    """The exact record to publish."""

    name: str
    type: str
    value: str
    priority: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "type": self.type, "value": self.value, "priority": self.priority}


@dataclass(frozen=True, slots=True)
class Finding:
    code: FindingCode
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

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "ok": self.ok, "records": [r.as_dict() for r in self.records]}
