""" "Not verifying? Try this": the mistakes people make at DNS providers, found (pure).

A record that is missing or wrong is looked for where it was probably put by mistake, and its
value for what a provider's form does to pasted text. Each diagnosis is a finding saying what
happened and exactly what to change. They run only for a record that is `missing` or `wrong`
(the runner asks their few extra queries in one more round: none for a healthy record), and each
kind says which of them apply (`RecordKind.diagnose`).

Extra queries, at most: the name with the zone appended again (1), the near misses of the kind
(the domain itself instead of the return-path name, the parent domain, the name without its
underscore: 1 or 2), and for a tracking host its addresses (1).
"""

from __future__ import annotations

import base64
import binascii
import enum
from collections.abc import Callable, Iterable

from domainwatch.checks.base import Answers, Diagnosis
from domainwatch.dns.resolver import Lookup, Query
from domainwatch.model import Finding, Severity


class Code(enum.StrEnum):
    PUBLISHED_AT_DOUBLED_NAME = "published_at_doubled_name"
    PUBLISHED_AT_WRONG_NAME = "published_at_wrong_name"
    TXT_VALUE_QUOTED = "txt_value_quoted"
    TXT_VALUE_WHITESPACE = "txt_value_whitespace"
    DKIM_KEY_TRUNCATED = "dkim_key_truncated"
    CNAME_CONFLICT = "cname_conflict"
    CNAME_FLATTENED_OR_PROXIED = "cname_flattened_or_proxied"
    NOT_YET_VISIBLE = "not_yet_visible"  # checks/running/visibility.py
    DELEGATION_MISMATCH = "delegation_mismatch"  # checks/running/delegation.py
    DNSSEC_BOGUS = "dnssec_bogus"  # checks/running/dnssec.py


MISTAKES = frozenset(Code)  # the diagnoses: what the status page lists under "Not verifying?"
Looks = Callable[[Lookup], bool]  # whether an answer holds what the record should be


NOTHING = Diagnosis()


def _ask_or(answers: Answers, query: Query, found: Callable[[Lookup], Diagnosis]) -> Diagnosis:
    lookup = answers.get(query)
    if lookup is None:
        return Diagnosis(frozenset({query}))
    return found(lookup) if not lookup.outcome.is_error else NOTHING


def relative(name: str, zone: str) -> str:
    """A name as a provider's form wants it: without the zone (`@` for the zone itself)."""
    if name == zone:
        return "@"
    return name[: -len(zone) - 1] if name.endswith("." + zone) else name


def doubled_name(name: str, rdtype: str, answers: Answers, looks: Looks) -> Diagnosis:
    """Published at `<name>.<zone>`: the form appended the zone to a full name. The zone comes
    from the SOA of the negative answer (no public-suffix guess)."""
    lookup = answers.get(Query.of(name, rdtype))
    if lookup is None or not lookup.outcome.is_void or not lookup.zone or not name.endswith(lookup.zone):
        return NOTHING
    zone, doubled = lookup.zone, f"{name}.{lookup.zone}"

    def found(answer: Lookup) -> Diagnosis:
        if not looks(answer):
            return NOTHING
        message = (
            f"found at {doubled} instead of {name}: your DNS provider adds {zone} to the name you "
            f"enter; enter `{relative(name, zone)}` as the name, not the full name"
        )
        return Diagnosis(
            findings=(Finding(Code.PUBLISHED_AT_DOUBLED_NAME, Severity.ERROR, message, found=doubled),)
        )

    return _ask_or(answers, Query.of(doubled, rdtype), found)


def wrong_name(
    name: str, elsewhere: str, rdtype: str, answers: Answers, *, looks: Looks, why: str
) -> Diagnosis:
    """Published at a near miss (`elsewhere`) of the name it belongs at."""

    def found(answer: Lookup) -> Diagnosis:
        if not looks(answer):
            return NOTHING
        message = f"found at {elsewhere} ({why}); it must be at {name}"
        return Diagnosis(
            findings=(Finding(Code.PUBLISHED_AT_WRONG_NAME, Severity.ERROR, message, found=elsewhere),)
        )

    return _ask_or(answers, Query.of(elsewhere, rdtype), found)


def quoted(values: Iterable[str], looks_like: Callable[[str], bool]) -> Diagnosis:
    """A TXT value with literal quote characters: pasted with quotes into a form adding its own."""

    def is_quoted(value: str) -> bool:
        inner = value.strip()
        return (
            len(inner) >= 2
            and inner[0] in "\"'"
            and inner[-1] == inner[0]
            and looks_like(inner[1:-1].strip())
        )

    message = (
        "the published value starts and ends with a quote character: the quotes were typed "
        "into a form that adds its own; enter the value without them"
    )
    return _first_value(values, is_quoted, Code.TXT_VALUE_QUOTED, message)


def whitespace(values: Iterable[str], looks_like: Callable[[str], bool]) -> Diagnosis:
    """Leading or trailing spaces, or line breaks inside the value (pasted over several lines)."""

    def is_padded(value: str) -> bool:
        return looks_like(value.strip()) and (value != value.strip() or any(c in value for c in "\r\n\t"))

    message = (
        "the published value has spaces at its ends or line breaks inside: paste it as one "
        "line, without leading or trailing spaces"
    )
    return _first_value(values, is_padded, Code.TXT_VALUE_WHITESPACE, message)


def _first_value(values: Iterable[str], wrong: Callable[[str], bool], code: Code, message: str) -> Diagnosis:
    """One error finding for the first value that is `wrong`, showing it."""
    for value in values:
        if wrong(value):
            return Diagnosis(findings=(Finding(code, Severity.ERROR, message, found=value[:200]),))
    return NOTHING


def pasted(name: str, answers: Answers, looks_like: Callable[[str], bool]) -> Diagnosis:
    """quoted and whitespace over the TXT values published at `name` (those that look like the
    record): no query of its own."""
    lookup = answers.get(Query.of(name, "TXT"))
    values = lookup.records if lookup is not None else ()
    return quoted(values, looks_like) + whitespace(values, looks_like)


def txt_record(name: str, answers: Answers, missing: bool, looks_like: Callable[[str], bool]) -> Diagnosis:
    """The mistakes of a TXT record found only by its first words (MTA-STS, TLS-RPT): pasted
    wrong, or, when `missing`, published with the zone appended again."""
    found = pasted(name, answers, looks_like)
    if not missing:
        return found
    return found + doubled_name(name, "TXT", answers, lambda a: any(looks_like(r) for r in a.records))


def cname_conflict(name: str, rdtype: str, answers: Answers) -> Diagnosis:
    """A CNAME where a TXT or MX record is required: the record can never be seen there."""
    lookup = answers.get(Query.of(name, rdtype))
    if lookup is None or not lookup.aliases or lookup.records:
        return NOTHING
    message = (
        f"{name} is a CNAME (to {lookup.aliases[0]}): a name with a CNAME can have no other record, "
        f"so its {rdtype} is never seen; delete the CNAME, then publish the {rdtype} record"
    )
    return Diagnosis(
        findings=(Finding(Code.CNAME_CONFLICT, Severity.ERROR, message, found=lookup.aliases[0]),)
    )


def flattened(name: str, answers: Answers) -> Diagnosis:
    """A host that must be a CNAME answers with addresses: a proxying or flattening provider."""
    cname = answers.get(Query.of(name, "CNAME"))
    if cname is None or not cname.outcome.is_void:
        return NOTHING

    def found(answer: Lookup) -> Diagnosis:
        if not answer.records:
            return NOTHING
        message = (
            f"{name} answers with addresses ({', '.join(answer.records[:3])}) instead of the CNAME: "
            "your DNS provider proxies or flattens it; turn proxying off for that name"
        )
        finding = Finding(Code.CNAME_FLATTENED_OR_PROXIED, Severity.ERROR, message, found=answer.records[0])
        return Diagnosis(findings=(finding,))

    return _ask_or(answers, Query.of(name, "A"), found)


def truncated_key(p: str) -> Diagnosis:
    """A DKIM key whose DER says it is longer than it is: cut, usually where a TXT string ends
    (255 characters) because the provider did not split the value into strings."""
    text = "".join(p.split())
    # A cut can leave any number of characters of the last 4-character group: one alone encodes
    # no whole octet (and fails to decode), two or three encode one or two. Decode what is whole.
    whole = text[: len(text) - len(text) % 4] if len(text) % 4 == 1 else text
    try:
        der = base64.b64decode(whole + "=" * (-len(whole) % 4), validate=False)
    except (binascii.Error, ValueError):
        return NOTHING
    if len(der) < 4 or der[0] != 0x30 or der[1] & 0x80 == 0:
        return NOTHING
    size = der[1] & 0x7F
    if not 1 <= size <= 2 or len(der) < 2 + size:
        return NOTHING
    declared = 2 + size + int.from_bytes(der[2 : 2 + size], "big")
    if len(der) >= declared:
        return NOTHING
    message = (
        f"the key is cut short: {len(text)} base64 characters where its encoding says about "
        f"{(declared + 2) // 3 * 4}; publish the whole value (split into strings of at most 255 "
        "characters if your DNS provider asks for that)"
    )
    return Diagnosis(
        findings=(Finding(Code.DKIM_KEY_TRUNCATED, Severity.ERROR, message, found=f"{len(text)} characters"),)
    )
