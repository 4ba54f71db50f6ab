"""What a probe's address policy refused, as findings (pure): the host resolves to an address
not on the public internet (dns/addresses.py), which domainwatch never connects to. The DNS
answer was conclusive, so the record is `wrong`, and no port or connection outcome is named."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domainwatch.model import CommonCode, Finding, Severity

MAX_SHOWN = 8
MAX_PROBED = 16  # addresses of one host's answer read (the prober sends at most 8)


def refused_addresses(host: str, facts: Mapping[str, Any]) -> list[Finding]:
    """One finding per refused address: an error when no address of `host` could be probed
    (nothing was: the facts name no probed `address`), a warning when another one was."""
    refused = facts.get("refused")
    if not isinstance(refused, list):
        return []
    severity = Severity.WARNING if facts.get("address") or probed_addresses(facts) else Severity.ERROR
    out = []
    for item in refused[:MAX_SHOWN]:
        if not isinstance(item, dict):
            continue
        address, kind = str(item.get("address", "?"))[:64], str(item.get("class", "special"))[:20]
        message = (
            f"{host} resolves to {address}, a {kind} address, which is not on the public internet: "
            "not probed" + ("" if severity is Severity.WARNING else "; publish the server's public address")
        )
        out.append(Finding(CommonCode.PROBE_ADDRESS_NOT_GLOBAL, severity, message, found=address))
    return out


def only_refused(facts: Mapping[str, Any]) -> bool:
    """The probe found only addresses it may not connect to: nothing else is known."""
    return bool(facts.get("refused")) and not facts.get("address") and not probed_addresses(facts)


def probed_addresses(facts: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The addresses a STARTTLS answer lists, each what its probe found (at most 8 a family)."""
    entries = facts.get("addresses")
    if not isinstance(entries, list):
        return []
    return [entry for entry in entries[:MAX_PROBED] if isinstance(entry, dict)]
