"""Domain documents: one entry of `domains:` as a JSON object, the unit the API creates, patches
and stores. Validated by the config's own models, with the config's own messages, each error
at a path such as `sending.dkim[0].selector` (pure: no I/O).

A config domain's document is made back from its validated form (`document_of`): presets
expanded, durations written as `5m`. An API domain's document is kept as it was written.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass
from datetime import timedelta
from typing import Any

from pydantic import TypeAdapter, ValidationError

from domainwatch.config.domains import DomainConfig
from domainwatch.config.loader import HUGE_NUMBER, describe, format_path
from domainwatch.config.presets import apply_preset
from domainwatch.values import check_domain_name, format_duration

MAX_DOCUMENT_BYTES = 64 * 1024
Document = dict[str, Any]
_ADAPTER: TypeAdapter[DomainConfig] = TypeAdapter(DomainConfig)


@dataclass(frozen=True, slots=True)
class Problem:
    path: str  # "" for the document itself
    message: str


class DocumentError(Exception):
    """A document the models refuse: every problem, each at its path."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.path or 'document'}: {p.message}" for p in problems))
        self.problems = problems


def normal_name(text: object) -> str:
    """A domain name as the API keys it (lower case, no trailing dot, A-labels), or DocumentError."""
    if not isinstance(text, str):
        raise DocumentError([Problem("name", "must be a string")])
    try:
        return check_domain_name(text)
    except ValueError as exc:
        raise DocumentError([Problem("name", str(exc))]) from None


class HugeNumber(str):
    """An integer of more than 4,300 digits in a JSON document, kept as its text: int() refuses
    it, and the document is refused with the path where it stands."""


def read_int(text: str) -> int | HugeNumber:
    """json.loads' parse_int: the integer, or a HugeNumber where int() would raise."""
    return HugeNumber(text) if len(text) > 4300 else int(text)


def huge_numbers(value: object, path: tuple[str | int, ...] = ()) -> list[Problem]:
    """Where a JSON value read with `read_int` holds an integer too long to read."""
    if isinstance(value, HugeNumber):
        return [Problem(format_path(path), HUGE_NUMBER)]
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in huge_numbers(item, (*path, str(key)))]
    if isinstance(value, list):
        return [p for index, item in enumerate(value) for p in huge_numbers(item, (*path, index))]
    return []


def parse_document(
    raw: object, *, creating: bool = False, stored: bool = False
) -> tuple[Document, DomainConfig]:
    """The document with its name normalised, and its validated form.

    `creating`: `verify` defaults to false, as an ESP's create call leaves a domain unverified
    until asked (the stored document then says so). `stored`: a document read back from the
    store, whose name is not held to rules made after it was stored."""
    if not isinstance(raw, dict):
        raise DocumentError([Problem("", "must be a JSON object (one entry of `domains:`)")])
    document = copy.deepcopy(raw)
    if "name" not in document:
        raise DocumentError([Problem("name", "required key is missing")])
    document["name"] = normal_name(document["name"])
    if creating:
        document.setdefault("verify", False)
    expanded, preset_errors = apply_preset(document)
    problems = [Problem(key, message) for key, message in preset_errors]
    if not problems:
        try:
            return document, _ADAPTER.validate_python(expanded, context={"stored": stored})
        except ValidationError as exc:
            problems = _problems(exc)
    raise DocumentError(problems)


def _problems(exc: ValidationError) -> list[Problem]:
    """One problem per path, none on an ancestor of a path that has one (as the loader)."""
    seen: list[tuple[str | int, ...]] = []
    out = []
    for error in exc.errors():
        path = tuple(error["loc"])
        if path in seen or any(other[: len(path)] == path for other in seen):
            continue
        seen.append(path)
        out.append(Problem(format_path(path), describe(error)))
    return out


def merge_patch(target: object, patch: object) -> Any:
    """RFC 7396 JSON Merge Patch: objects merge key by key, null removes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    merged = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def patched(document: Mapping[str, Any], patch: object) -> tuple[Document, DomainConfig]:
    """A stored document with a merge patch applied, validated; the name cannot change."""
    if not isinstance(patch, dict):
        raise DocumentError([Problem("", "a merge patch must be a JSON object")])
    if "name" in patch and (patch["name"] is None or normal_name(patch["name"]) != document["name"]):
        raise DocumentError([Problem("name", "cannot be changed: create the new name, then delete this one")])
    # The name is the stored one: held to the rules it was stored under (an edit never locks
    # a domain out of its own document).
    return parse_document(merge_patch(document, patch), stored=True)


def document_of(domain: DomainConfig) -> Document:
    """A validated domain as a document that validates back to it (keys left unset omitted)."""
    value = _plain(domain)
    assert isinstance(value, dict)
    return value


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        out = {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
        return {k: v for k, v in out.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):  # labels
        return dict(value) or None
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)  # addresses and networks: their text form


def etag_of(document: Mapping[str, Any]) -> str:
    """A strong ETag for a document: its canonical JSON's digest (RFC 9110 §8.8.3)."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return '"' + hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()[:24] + '"'


def matches(if_match: str | None, etag: str) -> bool:
    """Whether an If-Match header allows a write to the resource with this ETag (no header: yes)."""
    if if_match is None:
        return True
    tags = [tag.strip() for tag in if_match.split(",")]
    return "*" in tags or etag in tags
