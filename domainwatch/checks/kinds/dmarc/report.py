"""DMARC report URIs (RFC 9989 §4.7 rua/ruf) and the consent of outside destinations (RFC 9990).

Reports may go to a mailbox of another organization only if that organization consents: a TXT
record starting with `v=DMARC1` at `<policy domain>._report._dmarc.<destination host>`.
A destination is outside when its host is not within the policy domain's Organizational
Domain (found by the tree walk; no public suffix list): a host outside that subtree cannot
share it. Each consent lookup costs a query to a name the record's author chose, so at most
MAX_EXTERNAL_DESTINATIONS are made.
"""

from __future__ import annotations

from domainwatch.checks.base import Answers
from domainwatch.checks.kinds.dmarc.record import Code, DmarcRecord, is_dmarc
from domainwatch.dns.resolver import Query
from domainwatch.model import Finding, Remediation, Severity

MAX_EXTERNAL_DESTINATIONS = 10


def _outside(host: str, organizational: str) -> bool:
    return host != organizational and not host.endswith("." + organizational)


def external_hosts(record: DmarcRecord, organizational: str) -> list[str]:
    """Destination hosts outside the Organizational Domain, sorted, each once."""
    hosts = {u.host for u in (*record.rua, *record.ruf) if u.usable and u.host is not None}
    return sorted(h for h in hosts if _outside(h, organizational))


def consent_query(policy_domain: str, host: str) -> Query:
    return Query.of(f"{policy_domain}._report._dmarc.{host}", "TXT")


def report_queries(record: DmarcRecord, policy_domain: str, organizational: str) -> set[Query]:
    hosts = external_hosts(record, organizational)[:MAX_EXTERNAL_DESTINATIONS]
    return {consent_query(policy_domain, h) for h in hosts}


def report_findings(
    record: DmarcRecord, policy_domain: str, organizational: str, answers: Answers
) -> list[Finding]:
    out = _uri_findings(record)
    hosts = external_hosts(record, organizational)
    if len(hosts) > MAX_EXTERNAL_DESTINATIONS:
        out.append(
            Finding(
                Code.DMARC_TOO_MANY_REPORT_DESTINATIONS,
                Severity.WARNING,
                f"reports go to {len(hosts)} domains outside this organization; domainwatch checks "
                f"the consent of the first {MAX_EXTERNAL_DESTINATIONS} (by name), and receivers may not "
                "send to many",
            )
        )
    for host in hosts[:MAX_EXTERNAL_DESTINATIONS]:
        query = consent_query(policy_domain, host)
        lookup = answers.get(query)
        if lookup is None or lookup.outcome.is_error:
            continue  # unknown: not a finding either way
        if not any(is_dmarc(r) for r in lookup.records):
            out.append(
                Finding(
                    Code.DMARC_EXTERNAL_UNAUTHORIZED,
                    Severity.WARNING,
                    f"reports to {host} need its consent record at {query.name} (RFC 9990); without it "
                    "receivers drop them",
                    remediation=Remediation(query.name, "TXT", "v=DMARC1"),
                )
            )
    return out


def _uri_findings(record: DmarcRecord) -> list[Finding]:
    out: list[Finding] = []
    uris = (*record.rua, *record.ruf)
    invalid = [u for u in uris if not u.usable]
    for uri in invalid[:5]:
        out.append(
            Finding(Code.DMARC_REPORT_URI_INVALID, Severity.WARNING, f"{uri.text[:80]}: {uri.problem}")
        )
    if len(invalid) > 5:
        out.append(
            Finding(
                Code.DMARC_REPORT_URI_INVALID, Severity.WARNING, f"and {len(invalid) - 5} more unusable URIs"
            )
        )
    if any(u.size_suffix for u in uris):
        out.append(
            Finding(
                Code.DMARC_REPORT_URI_SIZE,
                Severity.WARNING,
                "a !size suffix on a report URI: RFC 9989 removed it (receivers following it ignore the "
                "limit; RFC 7489 receivers may still apply it)",
            )
        )
    if not any(u.usable for u in record.rua):
        out.append(
            Finding(
                Code.DMARC_NO_RUA,
                Severity.WARNING,
                "no usable rua= (a mailto: URI): you receive no aggregate reports to see who sends as you",
            )
        )
    if record.more_uris:
        out.append(
            Finding(Code.DMARC_REPORT_URI_INVALID, Severity.WARNING, "over 100 URIs: the rest are not read")
        )
    return out
