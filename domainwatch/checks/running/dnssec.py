"""DNSSEC as the records' checks see it: what the AD bit and the RRSIGs of the answers say
(facts), and `dnssec_bogus`, when validation is what makes a record's lookup fail.

A validating resolver answers SERVFAIL when a zone's signatures do not validate: expired or
not yet valid RRSIGs, a signature by a key the zone does not publish, or a DS at the parent
matching none of the zone's keys. The same question with checking disabled (CD) then gets the
record. That is conclusive about the zone, and loud (every validating receiver fails the same
way), but the record's state stays `error`: the status rules never fail a domain on it alone.
Extra queries, only for a record whose own lookup was SERVFAIL, in recursive mode: the question
again with CD, and the signer zone's DNSKEY and DS, once per zone per check (3 at most per
record, to the configured resolver).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Sequence
from datetime import UTC, datetime

from domainwatch.checks.base import Answers, Expectation
from domainwatch.checks.diagnoses.mistakes import Code
from domainwatch.checks.registry import kind_of
from domainwatch.checks.running.guard import bounded
from domainwatch.dns.dnssec import Unchecked, ZoneKeys, ask_unchecked, zone_keys
from domainwatch.dns.resolver import Lookup, Nameserver, Outcome
from domainwatch.model import Finding, RecordResult, RecordState, Remediation, Severity


def own_lookups(expect: Expectation, answers: Answers) -> list[Lookup]:
    """The answers to the record's own first questions (its name, not provider includes)."""
    return [answers[q] for q in sorted(kind_of(expect.record).queries(expect, {})) if q in answers]


def signature_facts(lookups: Sequence[Lookup]) -> dict[str, str | int]:
    """`dnssec_validated` (1 when the resolver set AD on every conclusive answer of the record,
    else 0) and `signatures_expire` (the earliest RRSIG expiry among them, when any came)."""
    conclusive = [lookup for lookup in lookups if not lookup.outcome.is_error]
    if not conclusive:
        return {}
    facts: dict[str, str | int] = {
        "dnssec_validated": int(all(lookup.authenticated for lookup in conclusive))
    }
    expiries = [lookup.signatures_expire for lookup in conclusive if lookup.signatures_expire]
    if expiries:
        facts["signatures_expire"] = min(expiries)
    return facts


def with_signature_facts(result: RecordResult, lookups: Sequence[Lookup]) -> RecordResult:
    facts = signature_facts(lookups)
    return dataclasses.replace(result, facts={**result.facts, **facts}) if facts else result


async def bogus_look(
    expectations: Sequence[Expectation],
    results: list[RecordResult],
    answers: Answers,
    *,
    nameservers: Sequence[Nameserver],
    query_timeout: float,
    now: float,
) -> None:
    """Give each record whose own lookup was SERVFAIL a `dnssec_bogus` finding, when the same
    question with checking disabled is answered."""
    keys_of: dict[str, ZoneKeys | None] = {}  # a domain's records mostly share their signer
    for index, expect in enumerate(expectations):
        if results[index].state is not RecordState.ERROR:
            continue  # (before looking at its answers: most records are not errors)
        failed = [lookup for lookup in own_lookups(expect, answers) if lookup.outcome is Outcome.SERVFAIL]
        if not failed:
            continue
        unchecked = await ask_unchecked(failed[0].query, nameservers, query_timeout)
        if unchecked is None or unchecked.lookup.outcome.is_error:
            continue  # SERVFAIL with checking disabled too: not (only) DNSSEC
        zone = _signer(unchecked)
        if zone and zone not in keys_of:
            keys_of[zone] = await zone_keys(zone, nameservers, query_timeout)
        keys = keys_of.get(zone) if zone else None
        finding = bogus_finding(unchecked, keys, now, kind_of(expect.record).bogus_code or Code.DNSSEC_BOGUS)
        result = results[index]
        results[index] = bounded(dataclasses.replace(result, findings=(finding, *result.findings)))


def _signer(unchecked: Unchecked) -> str:
    signers = sorted({s.signer for s in unchecked.signatures})
    return signers[0] if signers else unchecked.lookup.zone


def bogus_finding(
    unchecked: Unchecked, keys: ZoneKeys | None, now: float, code: enum.StrEnum = Code.DNSSEC_BOGUS
) -> Finding:
    """Why validation fails, as well as the answers tell (pure: `now` is given)."""
    query = unchecked.lookup.query
    reasons = _reasons(unchecked, keys, now)
    fix = None
    if keys is not None and keys.parent_ds and not keys.matching and keys.ds_of_keys:
        fix = Remediation(keys.zone, "DS", keys.ds_of_keys[0], records=keys.ds_of_keys)
    message = (
        f"DNSSEC validation fails for {query.name} {query.rdtype}: the resolver answers SERVFAIL, "
        "and with checking disabled it answers the record, so every receiver that validates "
        f"(most large mailbox providers do) fails to see it. {' '.join(reasons)}"
    )
    return Finding(code, Severity.ERROR, message, remediation=fix)


def _reasons(unchecked: Unchecked, keys: ZoneKeys | None, now: float) -> list[str]:
    out = []
    for sig in sorted(unchecked.signatures, key=lambda s: (s.expiration, s.covers)):
        if sig.expiration < now:
            out.append(
                f"The signature over its {sig.covers} by {sig.signer} expired at {_when(sig.expiration)}: "
                "the zone is no longer being re-signed; re-sign it (or turn DNSSEC off at the parent first)."
            )
        elif sig.inception > now:
            out.append(
                f"The signature over its {sig.covers} is not valid until {_when(sig.inception)}: "
                "the signer's clock is ahead; correct it and re-sign."
            )
        elif keys is not None and sig.key_tag not in keys.key_tags:
            out.append(
                f"It is signed with key {sig.key_tag}, which {keys.zone} does not publish "
                f"(its keys: {_tags(keys.key_tags)}): publish that key again, or re-sign with the "
                "current ones."
            )
    if keys is not None and keys.parent_ds and not keys.matching:
        out.append(
            f"The DS records for {keys.zone} at its parent ({'; '.join(keys.parent_ds)}) match none of its "
            f"keys ({_tags(keys.key_tags)}): replace them at your registrar with the DS of the current "
            "key-signing key (the fix below), or remove them to turn DNSSEC off."
        )
    if not unchecked.signatures and keys is not None and keys.parent_ds:
        out.append(f"The answer is unsigned, though the parent of {keys.zone} publishes a DS for it.")
    return out or [
        "Check the chain from the parent's DS to the zone's keys and signatures "
        "(a DNSSEC debugger such as DNSViz draws it)."
    ]


def _when(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _tags(tags: frozenset[int]) -> str:
    return ", ".join(str(t) for t in sorted(tags)) or "none"
