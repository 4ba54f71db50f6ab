"""Which records a domain must publish: its config -> the kinds' expectations (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from domainwatch.checks.base import Expectation
from domainwatch.checks.fingerprints import LEGACY, fingerprint, legacy_fingerprint
from domainwatch.checks.registry import KINDS, kind_of
from domainwatch.config.domains import Defaults, DomainConfig, plan

__all__ = [
    "COMPLIANCE_RECORDS",
    "DomainPlan",
    "adopt_legacy_fingerprints",
    "inspect_plan",
    "plan",
    "spec_of",
    "specs",
    "tls_inspect_plan",
]
from domainwatch.model import Remediation
from domainwatch.state.domain import DomainTrack, RecordSpec
from domainwatch.state.rules import Rules


def inspect_plan(name: str, selectors: Sequence[str]) -> list[Expectation]:
    """What `domainwatch inspect` looks at when there is no config: whatever is published."""
    return [e for kind in KINDS if kind.inspect is not None for e in kind.inspect(name, selectors)]


def tls_inspect_plan(name: str, mx_hosts: Sequence[str]) -> list[Expectation]:
    """What `domainwatch inspect --tls` adds: STARTTLS on each published MX host, MTA-STS, TLS-RPT."""
    return [e for kind in KINDS if kind.inspect_tls is not None for e in kind.inspect_tls(name, mx_hosts)]


def spec_of(expect: Expectation) -> RecordSpec:
    """What the state rules need of a record: the capability a required record counts toward."""
    kind = kind_of(expect.record)
    capability = kind.capability if expect.counts else None
    return RecordSpec(expect.record, capability, fingerprint(kind.name, expect))


def specs(expectations: Sequence[Expectation]) -> list[RecordSpec]:
    return [spec_of(e) for e in expectations]


# Records a bulk-sender rule set needs (present/compliance.py): required when one applies.
COMPLIANCE_RECORDS = frozenset({"dmarc", "reverse_dns"})
Source = Literal["config", "api"]  # where a domain is managed: the YAML file, or the API


@dataclass(frozen=True, slots=True)
class DomainPlan:
    """Everything fixed by a domain's document (from the config or the API) about it."""

    config: DomainConfig
    expectations: tuple[Expectation, ...]
    specs: tuple[RecordSpec, ...]
    settings: Defaults
    source: Source = "config"
    # The daemon checks a probing domain in two parts, the DNS records first and stored at once,
    # then the probed ones: a probe waiting out its timeout never holds back a DNS verdict.
    dns_part: tuple[Expectation, ...] = ()
    probe_part: tuple[Expectation, ...] = ()

    @classmethod
    def of(
        cls,
        domain: DomainConfig,
        defaults: Defaults,
        source: Source = "config",
        implied: frozenset[str] = frozenset(),
    ) -> DomainPlan:
        settings = domain.settings(defaults)
        expectations = tuple(plan(domain, implied))
        if settings.compliance:  # the rules need these records: they count, as required ones
            expectations = tuple(
                replace(e, required=True) if e.record.partition(":")[0] in COMPLIANCE_RECORDS else e
                for e in expectations
            )
        probed = tuple(e for e in expectations if kind_of(e.record).probes)
        dns_part = tuple(e for e in expectations if e not in probed) if probed else expectations
        return cls(
            domain,
            expectations,
            tuple(specs(expectations)),
            settings,
            source,
            dns_part,
            probed,
        )

    @property
    def probing(self) -> bool:
        """Some record asks probe queries (STARTTLS, MTA-STS)."""
        return bool(self.probe_part)

    @property
    def compliance(self) -> tuple[str, ...]:
        """The bulk-sender rule sets the domain is judged against (config/compliance.yaml)."""
        return self.settings.compliance

    @property
    def labels(self) -> Mapping[str, str]:
        return self.config.labels

    @property
    def rules(self) -> Rules:
        return Rules(self.settings.window, self.settings.confirm_missing)

    def to_publish(self) -> dict[str, tuple[Remediation, ...]]:
        """Each record's records to publish, by record id (what a create answer lists)."""
        return {e.record: kind_of(e.record).publish(e) for e in self.expectations}


def adopt_legacy_fingerprints(track: DomainTrack, domain_plan: DomainPlan) -> DomainTrack:
    """Replace fingerprints stored by version 0.1 with current ones where the expectation is
    the same, so an upgrade restarts no record. A legacy one that differs is left to differ
    (that record's expectation did change: it restarts, as it would have)."""
    stored = track.fingerprints
    if not any(value.startswith(LEGACY) for value in stored.values()):
        return track
    current = dict(stored)
    for expect, spec in zip(domain_plan.expectations, domain_plan.specs, strict=True):
        legacy = legacy_fingerprint(expect)  # None for kinds 0.1 did not have
        if legacy is not None and stored.get(spec.record) == legacy:
            current[spec.record] = spec.fingerprint
    return replace(track, fingerprints=current)
