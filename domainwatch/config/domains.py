"""The per-domain part of the config schema: the records a domain must publish, and its timings.

A fleet has one of these per domain (100,000 in a large replica), so they are slotted, frozen
pydantic dataclasses rather than models: a model instance carries a `__dict__` and a set of
the fields it was given, about 4 KB per domain in all, against under 1 KB here. Pydantic
refuses a mapping for a dataclass in strict mode, so strictness is set per field instead
(`Strict()` on every scalar and list) and means the same as the models' `strict=True`.
"""

from __future__ import annotations

import functools
import ipaddress
from datetime import timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, field_validator, model_validator
from pydantic.dataclasses import dataclass

from domainwatch.config.fields import DomainName, Duration, Region, RelativeHost, ReturnPathLabel, Selector

_FIELDS = ConfigDict(extra="forbid")
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Text = Annotated[str, Strict()]
Number = Annotated[int, Strict()]
Flag = Annotated[bool, Strict()]


# The config of every pydantic model in the schema (the few, fleet-wide sections).
MODEL_CONFIG = ConfigDict(extra="forbid", strict=True, frozen=True, arbitrary_types_allowed=True)


class Defaults(BaseModel):
    model_config = MODEL_CONFIG

    interval: Duration = timedelta(minutes=5)
    window: Duration = timedelta(hours=72)
    confirm_missing: int = Field(2, ge=1, le=100)
    pending_interval: Duration = timedelta(minutes=1)
    recheck_interval: Duration = timedelta(minutes=1)
    failed_interval: Duration = timedelta(hours=1)


@dataclass(frozen=True, slots=True, config=_FIELDS)
class SpfConfig:
    include: Annotated[list[Text], Strict()] = Field(default_factory=list)
    # Addresses (or CIDRs) whose mail must pass check_host(): the SPF record is found only if
    # an RFC 7208 evaluation passes for each (both ends of a CIDR).
    authorize: Annotated[list[Text], Strict()] = Field(default_factory=list)

    @field_validator("authorize")
    @classmethod
    def _networks_only(cls, values: list[str]) -> list[str]:
        for value in values:
            if not _is_network(value):
                raise ValueError(f"{value!r} is not an IP address or CIDR")
        return values

    @field_validator("include")
    @classmethod
    def _domains_or_networks(cls, values: list[str]) -> list[str]:
        for value in values:
            if not value or " " in value:
                raise ValueError("entries must be domains or IP networks, without spaces")
        return values

    def targets(self) -> tuple[tuple[str, ...], tuple[IPNetwork, ...]]:
        """The domains to include, and the addresses to evaluate: `authorize`, and IPs listed
        under `include` (same meaning)."""
        return _targets(tuple(self.include), tuple(self.authorize))


@functools.lru_cache(maxsize=1024)
def _targets(
    include: tuple[str, ...], authorize: tuple[str, ...]
) -> tuple[tuple[str, ...], tuple[IPNetwork, ...]]:
    """Cached: most domains of a fleet include the same few providers, and share the tuples."""
    domains = tuple(v.rstrip(".").lower() for v in include if not _is_network(v))
    listed = [v for v in include if _is_network(v)] + list(authorize)
    return domains, tuple(dict.fromkeys(ipaddress.ip_network(v, strict=False) for v in listed))


def _is_network(value: str) -> bool:
    if ":" not in value and not value.replace(".", "").replace("/", "").isdigit():
        return False  # a domain name (the usual entry): skip the costly parse
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return True


@dataclass(frozen=True, slots=True, config=_FIELDS)
class MxConfig:
    host: DomainName
    priority: Number = Field(default=10, ge=0, le=65535)


@dataclass(frozen=True, slots=True, config=_FIELDS)
class DkimConfig:
    selector: Selector
    public_key: Text | None = None
    cname: DomainName | None = None

    @model_validator(mode="after")
    def _one_source(self) -> DkimConfig:
        if self.public_key is not None and self.cname is not None:
            raise ValueError("set either public_key or cname, not both")
        return self


@dataclass(frozen=True, slots=True, config=_FIELDS)
class SendingConfig:
    return_path: ReturnPathLabel = "send"
    spf: SpfConfig | None = None
    mx: MxConfig | None = None
    dkim: Annotated[list[DkimConfig], Strict()] = Field(default_factory=list)

    @model_validator(mode="after")
    def _has_a_record(self) -> SendingConfig:
        if self.spf is None and self.mx is None and not self.dkim:
            raise ValueError("define at least one of spf, mx, dkim (or use a preset)")
        return self


@dataclass(frozen=True, slots=True, config=_FIELDS)
class ReceivingConfig:
    mx: Annotated[list[MxConfig], Strict()] = Field(min_length=1)


@dataclass(frozen=True, slots=True, config=_FIELDS)
class DmarcConfig:
    required: Flag = False
    min_policy: Literal["none", "quarantine", "reject"] = "none"


@dataclass(frozen=True, slots=True, config=_FIELDS)
class TrackingConfig:
    host: RelativeHost
    cname: DomainName


@dataclass(frozen=True, slots=True, config=_FIELDS)
class DomainConfig:
    name: DomainName
    verify: Flag = True
    preset: Text | None = None
    region: Region | None = None
    sending: SendingConfig | None = None
    receiving: ReceivingConfig | None = None
    dmarc: DmarcConfig = DmarcConfig()
    tracking: TrackingConfig | None = None
    interval: Duration | None = None
    window: Duration | None = None
    confirm_missing: Number | None = Field(default=None, ge=1, le=100)
    pending_interval: Duration | None = None
    recheck_interval: Duration | None = None
    failed_interval: Duration | None = None

    @model_validator(mode="after")
    def _has_a_capability(self) -> DomainConfig:
        if self.verify and self.sending is None and self.receiving is None:
            raise ValueError("enable sending or receiving (or set verify: false)")
        return self

    def settings(self, defaults: Defaults) -> Defaults:
        """The domain's scheduling and window settings: its own keys over the defaults."""
        own = {k: getattr(self, k) for k in _DEFAULT_KEYS if getattr(self, k) is not None}
        return defaults.model_copy(update=own) if own else defaults  # most domains: the defaults


_DEFAULT_KEYS = tuple(Defaults.model_fields)
