"""Fingerprints: a short digest of what a record must look like, stored with its state.

A record whose fingerprint changes (its expectation changed in the config) restarts at
pending; one whose fingerprint is the same keeps its state. So the digest must depend on the
expectation's values only, never on how the code spells them: it is made from an explicit
canonical encoding (sorted-key JSON of the kind's name and the expectation's fields).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import operator
from collections.abc import Callable, Iterable
from typing import Any

from domainwatch.checks.base import Expectation

LEGACY = "legacy:"  # prefix of fingerprints stored by versions up to 0.1 (store migration 4)


def fingerprint(kind: str, expect: Expectation) -> str:
    return hashlib.sha256(canonical(kind, expect).encode()).hexdigest()[:16]


def canonical(kind: str, expect: Expectation) -> str:
    """`json.dumps({"kind": kind, "expectation": fields}, sort_keys=True, separators=(",", ":"))`
    with tuples as lists and networks as text, written field by field: the keys' text is made
    once per class, and strings, flags and tuples of them are written directly (planning a
    100,000-domain fleet makes half a million of these at start-up; a third faster than the C
    encoder given the whole mapping; tested against json.dumps itself)."""
    keys, values = _layouts.get(type(expect)) or _layout_of(type(expect))
    body = ",".join([key + _text(value) for key, value in zip(keys, values(expect), strict=True)])
    return f'{{"expectation":{{{body}}},"kind":{_string(kind)}}}'


def _text(value: Any) -> str:
    """One value as json.dumps writes it (`default=str`: networks become their text)."""
    kind = type(value)
    if kind is str:
        return _string(value)
    if kind is bool:
        return "true" if value else "false"
    if value is None:
        return "null"
    if kind is int:
        return repr(value)
    if kind is tuple:
        return "[" + ",".join([_text(item) for item in value]) + "]"
    return "".join(_encode(value, 0))


def _make_encoder() -> Callable[[Any, int], Iterable[str]]:
    """json.dumps(..., separators=(",", ":"), default=str) without its per-call set-up: the C
    encoder, made once (for values other than the common ones above)."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # no C accelerator: the same text, slower
        return json.JSONEncoder(separators=(",", ":"), default=str).iterencode  # type: ignore[return-value]
    encoder: Callable[[Any, int], Iterable[str]] = make(
        None, str, json.encoder.encode_basestring_ascii, None, ":", ",", False, False, True
    )
    return encoder


_encode = _make_encoder()
_string: Callable[[str], str] = json.encoder.encode_basestring_ascii
# Per expectation class: each field's `"name":` in sorted order, and a getter of their values.
_layouts: dict[type, tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]]]] = {}


def _layout_of(cls: type) -> tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]]]:
    # A field marked `metadata={"fingerprint": False}` (a DKIM key's role) is no expectation.
    names = tuple(sorted(f.name for f in dataclasses.fields(cls) if f.metadata.get("fingerprint", True)))
    getter = operator.attrgetter(*names)
    values = getter if len(names) > 1 else lambda item: (getter(item),)
    _layouts[cls] = layout = (tuple(f"{_string(name)}:" for name in names), values)
    return layout


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
