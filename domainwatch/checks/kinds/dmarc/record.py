"""A DMARC policy record read as RFC 9989 §4.7-§4.8 define it, and the record to publish instead.

Readings of the ABNF (docs/checks.md lists them):
- `v` must be the first tag and its value exactly `DMARC1` (`%s"DMARC1"`, case-sensitive); the tag
  name itself is an ABNF literal, so `V=DMARC1` is a DMARC record.
- Tag names and the keyword values (`none`, `quarantine`, `reject`, `y`, `n`, `u`, `r`, `s`) are
  ABNF literals too: case-insensitive. `p=ReJect` is a reject policy.
- Unknown tags and tokens that are not `tag=value` are ignored (§4.7: "Unknown tags MUST be
  ignored"); domainwatch warns about them. A known tag with an invalid value is ignored in favour
  of its default (for `p`, `sp` and `np` that makes the whole policy `none`, §4.10.1).
- A tag given twice: the first one counts (the order most receivers read in), and it is a finding.
- `pct`, `rf` and `ri` are removed by RFC 9989: reported, never written into a fix.

Pure and total: `read` never raises, and bounds every length it looks at.
"""

from __future__ import annotations

import enum
import functools
import re
from dataclasses import dataclass


class Code(enum.StrEnum):
    DMARC_MISSING = "dmarc_missing"
    DMARC_MULTIPLE = "dmarc_multiple"
    DMARC_SYNTAX = "dmarc_syntax"
    DMARC_POLICY_MISSING = "dmarc_policy_missing"
    DMARC_POLICY_WEAK = "dmarc_policy_weak"
    DMARC_TEST_MODE = "dmarc_test_mode"
    DMARC_TAG_REMOVED = "dmarc_tag_removed"
    DMARC_UNKNOWN_TAG = "dmarc_unknown_tag"
    DMARC_PCT_PARTIAL = "dmarc_pct_partial"  # retired: RFC 9989 removed pct (dmarc_tag_removed)
    DMARC_NO_RUA = "dmarc_no_rua"
    DMARC_REPORT_URI_INVALID = "dmarc_report_uri_invalid"
    DMARC_REPORT_URI_SIZE = "dmarc_report_uri_size"
    DMARC_EXTERNAL_UNAUTHORIZED = "dmarc_external_unauthorized"
    DMARC_TOO_MANY_REPORT_DESTINATIONS = "dmarc_too_many_report_destinations"
    DMARC_ORG_DOMAIN_ONLY = "dmarc_org_domain_only"


POLICIES = ("none", "quarantine", "reject")  # weakest first
KNOWN = ("v", "p", "sp", "np", "psd", "t", "adkim", "aspf", "rua", "ruf", "fo")
REMOVED = ("pct", "rf", "ri")  # RFC 7489 tags that RFC 9989 removed
_VALUES = {
    "p": POLICIES,
    "sp": POLICIES,
    "np": POLICIES,
    "psd": ("y", "n", "u"),
    "t": ("y", "n"),
    "adkim": ("r", "s"),
    "aspf": ("r", "s"),
}
_FO = re.compile(r"[01ds](:[01ds])*")
_TAG = re.compile(r"[A-Za-z]+")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s,;!]+")
_VERSION = re.compile(r"[vV]\s*=\s*DMARC1\s*(;|$)")  # first, no whitespace before
MAX_URIS = 100  # of rua and ruf each: more cannot all be meant, and each is a string to keep


def is_dmarc(text: str) -> bool:
    """Record selection: the first tag is `v=DMARC1` (§4.7)."""
    return _VERSION.match(text) is not None


@dataclass(frozen=True, slots=True)
class Uri:
    text: str
    usable: bool  # a valid URI with the mailto scheme (the one every receiver must support)
    problem: str | None  # why it is invalid or may be ignored
    size_suffix: bool  # an RFC 7489 "!size" suffix: RFC 9989 receivers ignore it
    host: str | None  # a mailto: URI's domain


@dataclass(frozen=True, slots=True)
class DmarcRecord:
    text: str
    tags: dict[str, str]  # known tags with valid values (lower-case names and keywords)
    order: tuple[str, ...]  # the known tags as published, valid or not, first occurrences
    invalid: dict[str, str]  # known tag -> its invalid value
    duplicates: tuple[str, ...]
    unknown: tuple[str, ...]  # unknown tags and stray tokens, as written (shortened)
    removed: dict[str, str]  # pct / rf / ri -> value
    rua: tuple[Uri, ...]
    ruf: tuple[Uri, ...]
    more_uris: bool  # over MAX_URIS in rua or ruf: only the first are read

    def policy(self, tag: str = "p") -> str | None:
        return self.tags.get(tag)

    @property
    def test_mode(self) -> bool:
        return self.tags.get("t") == "y"

    @property
    def policy_valid(self) -> bool:
        """§4.10.1: an invalid p, sp or np tag voids the policy (p=none if rua has a URI)."""
        return "p" not in self.invalid and "sp" not in self.invalid and "np" not in self.invalid


def _uri(text: str) -> Uri:
    base, bang, _ = text.partition("!")
    if not _URI.fullmatch(base):
        return Uri(text, False, "not a URI (a URI starts with a scheme such as mailto:)", False, None)
    scheme, _, rest = base.partition(":")
    if scheme.lower() != "mailto":
        return Uri(text, False, f"receivers need only support mailto:, and may ignore {scheme}:", False, None)
    local, at, host = rest.rpartition("@")
    if not at or not local or not host or "." not in host:
        return Uri(
            text, False, "a mailto: URI needs an address such as mailto:reports@example.com", False, None
        )
    return Uri(text, True, None, bool(bang), host.rstrip(".").lower())


def _uris(value: str) -> tuple[tuple[Uri, ...], bool]:
    parts = [p.strip() for p in value.split(",")]
    return tuple(_uri(p) for p in parts[:MAX_URIS] if p), len(parts) > MAX_URIS


def _known_value(name: str, value: str) -> str | None:
    """The value in canonical form, or None when it is invalid for the tag."""
    lowered = value.lower()
    if name in _VALUES:
        return lowered if lowered in _VALUES[name] else None
    if name == "fo":
        return lowered if _FO.fullmatch(lowered) else None
    if name == "v":
        return value if value == "DMARC1" else None
    return value if value else None  # rua, ruf: checked URI by URI


# Cached: a check reads its record in every round and again to evaluate it, and a fleet's
# domains often publish the same text. Bounded (a record is at most a DNS message, 64 KB).
@functools.lru_cache(maxsize=256)
def read(text: str) -> DmarcRecord:
    """Parse a record that is_dmarc() selected (never raises). The record may be shared with
    other callers: read it, never change it."""
    tags: dict[str, str] = {}
    order: list[str] = []
    invalid: dict[str, str] = {}
    duplicates: list[str] = []
    unknown: list[str] = []
    removed: dict[str, str] = {}
    for part in text.split(";"):
        name, equals, value = (piece.strip(" \t\r\n") for piece in part.partition("="))
        if not equals or not _TAG.fullmatch(name):
            if part.strip(" \t\r\n"):
                unknown.append(part.strip()[:40])
            continue
        key = name.lower()
        if key in REMOVED:
            removed.setdefault(key, value[:40])
        elif key not in KNOWN:
            unknown.append(f"{name[:20]}={value[:20]}")
        elif key in order:
            duplicates.append(key)
        else:
            order.append(key)
            canonical = _known_value(key, value)
            if canonical is None:
                invalid[key] = value[:60]
            else:
                tags[key] = canonical
    rua, more_rua = _uris(tags.get("rua", ""))
    ruf, more_ruf = _uris(tags.get("ruf", ""))
    return DmarcRecord(
        text,
        tags,
        tuple(order),
        invalid,
        tuple(dict.fromkeys(duplicates)),
        tuple(unknown),
        removed,
        rua,
        ruf,
        more_rua or more_ruf,
    )


def fixed(record: DmarcRecord | None, min_policy: str) -> str:
    """One record that resolves every problem at once, valid under RFC 9989 and read the same by
    RFC 7489 receivers: `v` first and `p` right after it (7489 required that order), the policy
    at least `min_policy`, invalid values and removed or unknown tags dropped, each tag once,
    report URIs kept where usable (without `!size`). Test mode stays unless it is what keeps the
    policy under `min_policy`."""
    if record is None:
        return f"v=DMARC1; p={min_policy}"
    tags = dict(record.tags)
    named = tags.get("p", "none")
    policy = named if POLICIES.index(named) >= POLICIES.index(min_policy) else min_policy
    keep_test = record.test_mode and POLICIES.index(applied(policy, test_mode=True)) >= POLICIES.index(
        min_policy
    )
    parts = ["v=DMARC1", f"p={policy}"]
    for name in record.order:
        if name in ("v", "p") or name not in tags or (name == "t" and not keep_test):
            continue
        if name in ("rua", "ruf"):
            usable = [
                u.text.partition("!")[0] for u in (record.rua if name == "rua" else record.ruf) if u.usable
            ]
            if usable:
                parts.append(f"{name}={','.join(usable)}")
        else:
            parts.append(f"{name}={tags[name]}")
    return "; ".join(parts)


def applied(policy: str, *, test_mode: bool) -> str:
    """The policy a receiver applies to failing mail: in test mode (t=y), one level below the
    one named (§4.7: quarantine is applied as none, reject as quarantine)."""
    if not test_mode or policy == "none":
        return policy
    return POLICIES[POLICIES.index(policy) - 1]
