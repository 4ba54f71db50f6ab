"""How a DMARC record's change is judged: its policies, test mode and aggregate reports."""

from __future__ import annotations

from domainwatch.checks.base import Published, Reason
from domainwatch.checks.kinds.dmarc.record import POLICIES, DmarcRecord, is_dmarc, read

_RANK = {policy: rank for rank, policy in enumerate(POLICIES)}


def reasons(before: Published, after: Published) -> list[Reason]:
    old, new = _record(before), _record(after)
    out: list[Reason] = []
    for tag in ("p", "sp", "np"):
        if tag != "p" and not _names(old, tag) and not _names(new, tag):
            continue  # follows p (or sp): the p reason says it
        was, now = _policy(old, tag), _policy(new, tag)
        if now < was:
            out.append(Reason("dmarc_policy_lowered", tag))
        elif now > was:
            out.append(Reason("dmarc_policy_raised", tag))
    if _testing(new) and not _testing(old):
        out.append(Reason("dmarc_testing_added"))
    elif _testing(old) and not _testing(new):
        out.append(Reason("dmarc_testing_removed"))
    if _reports(old) and not _reports(new):
        out.append(Reason("dmarc_reporting_removed"))
    elif _reports(new) and not _reports(old):
        out.append(Reason("dmarc_reporting_added"))
    return out


def _record(snapshot: Published) -> DmarcRecord | None:
    """The one DMARC record receivers read (none, or several: no policy)."""
    records = [v for v in snapshot.values if is_dmarc(v)]
    return read(records[0]) if len(records) == 1 else None


def _policy(record: DmarcRecord | None, tag: str) -> int:
    """The policy a tag applies, as a rank: sp and np fall back to p (RFC 9989 §4.7); no
    usable record applies none."""
    if record is None or not record.policy_valid:
        return 0
    policy = record.tags.get(tag) or (record.tags.get("sp") if tag == "np" else None) or record.tags.get("p")
    return _RANK.get(policy or "none", 0)


def _names(record: DmarcRecord | None, tag: str) -> bool:
    return record is not None and tag in record.tags


def _testing(record: DmarcRecord | None) -> bool:
    return record is not None and record.test_mode


def _reports(record: DmarcRecord | None) -> bool:
    return record is not None and any(uri.usable for uri in record.rua)
