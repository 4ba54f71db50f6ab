"""Fingerprints: a short digest of what a record must look like, stored with its state.

A record whose fingerprint changes (its expectation changed in the config) restarts at
pending; one whose fingerprint is the same keeps its state. So the digest must depend on the
expectation's values only, never on how the code spells them: it is made from an explicit
canonical encoding (sorted-key JSON of the kind's name and the expectation's fields).
"""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
import json
from typing import Any

from domainwatch.checks.base import Expectation

LEGACY = "legacy:"  # prefix of fingerprints stored by versions up to 0.1 (store migration 4)


def fingerprint(kind: str, expect: Expectation) -> str:
    fields = {f.name: _canonical(getattr(expect, f.name)) for f in dataclasses.fields(expect)}
    text = json.dumps({"kind": kind, "expectation": fields}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _canonical(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_canonical(item) for item in value]
    if isinstance(value, ipaddress.IPv4Network | ipaddress.IPv6Network):
        return str(value)
    return value


# Versions up to 0.1 digested the expectation dataclass's repr. These are the classes and fields
# it had then: the repr is rebuilt from them, so stored fingerprints are recognised after the
# classes change, and are replaced by current ones (never compared again once replaced).
_LEGACY_FIELDS = {
    "SpfExpectation": ("record", "name", "required", "includes", "networks", "all_qualifier"),
    "DkimExpectation": ("record", "name", "required", "selector", "public_key", "cname"),
    "MxExpectation": ("record", "name", "required", "hosts"),
    "DmarcExpectation": ("record", "name", "required", "domain", "min_policy"),
    "TrackingExpectation": ("record", "name", "required", "cname"),
}


def legacy_fingerprint(expect: Expectation) -> str | None:
    """The fingerprint version 0.1 stored for this expectation (None for kinds it did not have)."""
    names = _LEGACY_FIELDS.get(type(expect).__name__)
    if names is None:
        return None
    text = ", ".join(f"{name}={getattr(expect, name)!r}" for name in names)
    digest = hashlib.sha256(f"{type(expect).__qualname__}({text})".encode()).hexdigest()[:16]
    return LEGACY + digest
