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
from typing import TYPE_CHECKING, Annotated, Any, Protocol

from pydantic import BaseModel, Discriminator, Field, Tag
from pydantic.dataclasses import dataclass as schema

from domainwatch.checks.base import Expectation, Section
from domainwatch.checks.registry import KINDS
from domainwatch.config.compliance import Provider
from domainwatch.fields import (
    MODEL_CONFIG,
    SECTION_CONFIG,
    DomainName,
    Duration,
    Flag,
    Labels,
    Number,
    Pins,
    Region,
    ReturnPathLabel,
    Text,
    WatchedName,
)

Fields = Iterable[tuple[str, Any, Any]]  # (key, annotation, default)
# A preset's account-specific inputs (config/presets.py checks the keys against the preset).
AccountInputs = Annotated[dict[Text, Text | Flag], Field(max_length=16)]
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
    # Bulk-sender rule sets a domain is judged against (config/compliance.yaml): their records
    # become required, and each rule gets a verdict.
    compliance: Annotated[tuple[Provider, ...], Field(strict=False)] = ()
    # DKIM rotation (fleet/drift.py): how long a `retiring` key stays published, and the age
    # from which a key is due for rotation.
    dkim_retire_overlap: Duration = timedelta(days=7)
    dkim_max_key_age: Duration = timedelta(days=365)


def _kind_fields(section: Section) -> list[tuple[str, Any, Any]]:
    """The keys the section's kinds own (a kind with no model reads a key the section fixes)."""
    return [(k.key, k.model, k.default) for k in KINDS if k.section is section and k.model is not None]


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


def _section(name: str, section: Section, fixed: Fields = (), more: Any = None) -> Any:
    kinds = [k for k in KINDS if k.section is section]
    counted = [k for k in kinds if k.model is not None and k.enables]  # keys that make the section

    def __post_init__(self: Any) -> None:  # noqa: N807 (the dataclass hook)
        if more is not None:
            more(self)
        if not any(_is_set(getattr(self, k.key)) for k in counted):
            keys = ", ".join(dict.fromkeys(k.key for k in counted))
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


def _domain_checks(self: Any) -> None:
    if self.verify and self.sending is None and self.receiving is None:
        raise ValueError("enable sending or receiving (or set verify: false)")
    if self.pins:
        planned = {e.record for e in plan(self)}
        unknown = [p for p in self.pins if p not in planned]
        if unknown:
            raise ValueError(f"pins: {', '.join(unknown)} is not a record of this domain")


def plan(domain: Any, implied: frozenset[str] = frozenset()) -> list[Expectation]:
    """The records of one configured domain, in the registry's order (`configured`, inlined:
    start-up plans every domain of the fleet). `implied`: keys `probes.default` turns on for a
    domain whose section does not set them (the kind's `implied` value: advisory)."""
    out: list[Expectation] = []
    holders = {Section.SENDING: domain.sending, Section.RECEIVING: domain.receiving, Section.DOMAIN: domain}
    for kind in KINDS:
        holder = holders[kind.section]
        own = None if holder is None else getattr(holder, kind.key)
        if own is None and implied and holder is not None and kind.key in implied:
            own = kind.implied if kind.needs is None or getattr(holder, kind.needs) else None
        if own is not None:
            out += kind.plan(domain, own)
    return out


def _domain_fields() -> list[tuple[str, Any, Any]]:
    return [
        ("name", WatchedName, _REQUIRED),
        ("verify", Flag, True),
        ("preset", Text | None, None),
        ("region", Region | None, None),
        ("account", AccountInputs | None, None),
        ("sending", _SENDING | None, None),
        ("receiving", _RECEIVING | None, None),
        ("labels", Labels, Field(default_factory=lambda: NO_LABELS)),
        ("pins", Pins, ()),
        *_kind_fields(Section.DOMAIN),
        ("interval", Duration | None, None),
        ("window", Duration | None, None),
        ("confirm_missing", Number | None, Field(default=None, ge=1, le=100)),
        ("pending_interval", Duration | None, None),
        ("recheck_interval", Duration | None, None),
        ("failed_interval", Duration | None, None),
        ("compliance", tuple[Provider, ...] | None, None),
        ("dkim_retire_overlap", Duration | None, None),
        ("dkim_max_key_age", Duration | None, None),
    ]


@schema(frozen=True, slots=True, config=SECTION_CONFIG)
class ReturnPathCname:
    """`return_path: {label, cname}`: the return-path name is a CNAME to the provider's host,
    which publishes its SPF and MX (Postmark's pm-bounces, SendGrid's em<id>)."""

    label: ReturnPathLabel
    cname: DomainName


def _return_path_form(value: Any) -> str:
    return "[mapping]" if isinstance(value, dict | ReturnPathCname) else "[label]"


# A label (`send`, `@` for the domain itself) or a CNAME; errors name the key, not the branch.
ReturnPath = Annotated[
    Annotated[ReturnPathLabel, Tag("[label]")] | Annotated[ReturnPathCname, Tag("[mapping]")],
    Discriminator(_return_path_form),
]


def _sending_checks(self: Any) -> None:
    if isinstance(self.return_path, ReturnPathCname) and (self.spf is not None or self.mx is not None):
        raise ValueError(
            "a return path that is a CNAME takes no spf or mx: the CNAME's target publishes them"
        )


_SENDING = _section("SendingConfig", Section.SENDING, [("return_path", ReturnPath, "send")], _sending_checks)
_RECEIVING = _section("ReceivingConfig", Section.RECEIVING)
_DOMAIN = _compose("DomainConfig", _domain_fields(), {"__post_init__": _domain_checks, "settings": _settings})

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
        pins: tuple[str, ...]

        def settings(self, defaults: Defaults) -> Defaults: ...

else:
    DomainConfig = _DOMAIN
SendingConfig, ReceivingConfig = _SENDING, _RECEIVING
