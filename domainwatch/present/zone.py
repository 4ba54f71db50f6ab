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


def zone_block(view: Mapping[str, Any]) -> str:
    """The block for a domain view (present/views.py): a header, removals, then the lines."""
    records = view.get("records") or []
    removals = [line for record in records for line in record.get("remove") or []]
    lines = [line for record in records for line in (record.get("zone_line") or "").splitlines()]
    out = [f"; domainwatch: the records {view['name']} publishes ({view['status']})"]
    out += [f"; remove: {line}" for line in dict.fromkeys(removals)]
    out += list(dict.fromkeys(lines))
    return "\n".join(out) + "\n"
