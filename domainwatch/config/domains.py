"""The per-domain part of the config schema, composed from the record kinds.

Each record kind owns its key (checks/*.py: `RecordKind.key`, `.model`, `.default`); this
module lays the keys out in the sections where the kinds say they belong: `sending`,
`receiving`, or the domain itself (`dmarc`, `tracking`). A new kind therefore needs no change
here. The classes are built when this module loads; the type checker sees the Protocol below.

A fleet has one of these per domain (100,000 in a large replica), so they are slotted, frozen
pydantic dataclasses rather than models: a model instance carries a `__dict__` and a set of
the fields it was given, about 4 KB per domain in all, against under 1 KB here. Pydantic
refuses a mapping for a dataclass in strict mode, so strictness is set per field instead
(`Strict()` on every scalar and list) and means the same as the models' `strict=True`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, Field
from pydantic.dataclasses import dataclass as schema

from domainwatch.checks.base import Section
from domainwatch.checks.registry import KINDS
from domainwatch.fields import (
    MODEL_CONFIG,
    SECTION_CONFIG,
    Duration,
    Flag,
    Labels,
    Number,
    Region,
    ReturnPathLabel,
    Text,
    WatchedName,
)

Fields = Iterable[tuple[str, Any, Any]]  # (key, annotation, default)
# Shared by every domain without labels (most of a large fleet): no empty dict each.
NO_LABELS: Mapping[str, str] = MappingProxyType({})


class Defaults(BaseModel):
    model_config = MODEL_CONFIG

    interval: Duration = timedelta(minutes=5)
    window: Duration = timedelta(hours=72)
    confirm_missing: int = Field(2, ge=1, le=100)
    pending_interval: Duration = timedelta(minutes=1)
    recheck_interval: Duration = timedelta(minutes=1)
    failed_interval: Duration = timedelta(hours=1)


def _kind_fields(section: Section) -> list[tuple[str, Any, Any]]:
    return [(k.key, k.model, k.default) for k in KINDS if k.section is section]


def _compose(name: str, fields: Fields, namespace: dict[str, Any] | None = None) -> Any:
    """A slotted, frozen pydantic dataclass with these fields (and methods)."""
    body: dict[str, Any] = {"__module__": __name__, "__qualname__": name, "__annotations__": {}}
    for key, annotation, default in fields:
        body["__annotations__"][key] = annotation
        if default is not _REQUIRED:
            body[key] = default
    body.update(namespace or {})
    return schema(frozen=True, slots=True, config=SECTION_CONFIG)(type(name, (), body))


_REQUIRED = object()


def _section(name: str, section: Section, fixed: Fields = ()) -> Any:
    kinds = [k for k in KINDS if k.section is section]

    def __post_init__(self: Any) -> None:  # noqa: N807 (the dataclass hook)
        if not any(_is_set(getattr(self, k.key)) for k in kinds):
            keys = ", ".join(dict.fromkeys(k.key for k in kinds))
            raise ValueError(f"define at least one of {keys} (or use a preset)")
        for kind in kinds:
            if kind.needs and _is_set(getattr(self, kind.key)) and not _is_set(getattr(self, kind.needs)):
                raise ValueError(f"{kind.key} needs {kind.needs} (the hosts it checks)")

    return _compose(name, [*fixed, *_kind_fields(section)], {"__post_init__": __post_init__})


def _is_set(value: object) -> bool:
    return value is not None and value != []


_DEFAULT_KEYS = tuple(Defaults.model_fields)


def _settings(self: Any, defaults: Defaults) -> Defaults:
    """The domain's scheduling and window settings: its own keys over the defaults."""
    own = {k: getattr(self, k) for k in _DEFAULT_KEYS if getattr(self, k) is not None}
    return defaults.model_copy(update=own) if own else defaults  # most domains: the defaults


def _has_a_capability(self: Any) -> None:
    if self.verify and self.sending is None and self.receiving is None:
        raise ValueError("enable sending or receiving (or set verify: false)")


def _domain_fields() -> list[tuple[str, Any, Any]]:
    return [
        ("name", WatchedName, _REQUIRED),
        ("verify", Flag, True),
        ("preset", Text | None, None),
        ("region", Region | None, None),
        ("sending", _SENDING | None, None),
        ("receiving", _RECEIVING | None, None),
        ("labels", Labels, Field(default_factory=lambda: NO_LABELS)),
        *_kind_fields(Section.DOMAIN),
        ("interval", Duration | None, None),
        ("window", Duration | None, None),
        ("confirm_missing", Number | None, Field(default=None, ge=1, le=100)),
        ("pending_interval", Duration | None, None),
        ("recheck_interval", Duration | None, None),
        ("failed_interval", Duration | None, None),
    ]


_SENDING = _section("SendingConfig", Section.SENDING, [("return_path", ReturnPathLabel, "send")])
_RECEIVING = _section("ReceivingConfig", Section.RECEIVING)
_DOMAIN = _compose(
    "DomainConfig", _domain_fields(), {"__post_init__": _has_a_capability, "settings": _settings}
)

if TYPE_CHECKING:

    class DomainConfig(Protocol):
        """One entry of `domains:` (the record kinds' keys are read with `configured`)."""

        name: str
        verify: bool
        preset: str | None
        region: str | None
        sending: Any
        receiving: Any
        labels: Mapping[str, str]

        def settings(self, defaults: Defaults) -> Defaults: ...

else:
    DomainConfig = _DOMAIN
SendingConfig, ReceivingConfig = _SENDING, _RECEIVING
