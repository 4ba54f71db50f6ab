"""A domain's records to publish as one zone-file block, each once (pure): what `GET
/api/v1/domains/{name}/zone` serves and `domainwatch domains get NAME --format zone` prints.

Only records a pasted block may add are lines; everything else is a comment, so pasting the
whole block at a DNS provider never publishes a placeholder or deletes anything by accident: a
value the provider makes (`value_from_provider`), a policy to serve over HTTPS, and the records a
fix deletes (`; remove: ...`, to do by hand before the lines are added).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domainwatch.checks.diagnoses.mistakes import relative


def to_publish(view: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The records still to publish: not checked yet, missing or wrong. One in place is left
    out: pasting it again would add a second record where one must stand alone (DMARC, SPF)."""
    return [r for r in view.get("records") or [] if r.get("state") in (None, "missing", "wrong")]


def zone_block(view: Mapping[str, Any]) -> str:
    """The block for a domain view (present/views.py): a header, removals, then the lines."""
    records = to_publish(view)
    removals = [line for record in records for line in record.get("remove") or []]
    lines = [line for record in records for line in (record.get("zone_line") or "").splitlines()]
    if not records:
        return f"; domainwatch: every record of {view['name']} is in place ({view['status']})\n"
    out = [f"; domainwatch: the records {view['name']} must still publish ({view['status']})"]
    out += [f"; remove: {line}" for line in dict.fromkeys(removals)]
    out += list(dict.fromkeys(lines))
    return "\n".join(out) + "\n"


def publish_rows(view: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The records to publish as a DNS provider's form asks them, each once: the host relative
    to its zone (the closest enclosing zone a check saw: a negative answer's SOA; else the
    domain), type, value (an MX with its priority; TXT unquoted) and TTL."""
    records = to_publish(view)
    zones = {r["zone"] for r in view.get("records") or [] if r.get("zone")}
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    for record in records:
        for fix in record.get("publish") or ():
            if fix["type"] == "HTTPS":
                continue  # a file to serve, not a record
            zone = max(
                (z for z in zones if fix["name"] == z or fix["name"].endswith("." + z)), key=len, default=None
            )
            zone = zone or view["name"]
            for value in fix.get("records") or [_form_value(fix)]:
                key = (fix["name"], fix["type"], value)
                rows.setdefault(
                    key,
                    {
                        "host": relative(fix["name"], zone),
                        "zone": zone,
                        "type": fix["type"],
                        "value": value,
                        "ttl": TTL,
                        "from_provider": bool(fix.get("value_from_provider")),
                    },
                )
    return list(rows.values())


TTL = 3600  # as the zone-file lines say


def _form_value(fix: Mapping[str, Any]) -> str:
    if fix["type"] == "MX":
        return f"{fix.get('priority') or 0} {fix['value']}"
    return str(fix["value"])
