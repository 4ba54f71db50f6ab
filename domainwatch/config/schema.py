"""The configuration schema: typed, frozen, unknown keys rejected, defaults applied here."""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from domainwatch.config.fields import (
    DomainName,
    Duration,
    Listen,
    NameserverField,
    Region,
    RelativeHost,
    ReturnPathLabel,
    Selector,
    WebhookUrl,
    check_webhook_secret,
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, arbitrary_types_allowed=True)


class ResolverConfig(_Model):
    nameservers: list[NameserverField] = []
    timeout: Duration = timedelta(seconds=2)
    attempts: int = Field(2, ge=1, le=10)
    mode: Literal["recursive", "authoritative"] = "recursive"
    # Port to reach authoritative servers on in authoritative mode (53 but in test labs).
    authoritative_port: int = Field(53, ge=1, le=65535)
    # Queries per second to each nameserver, so a large fleet never floods a resolver; 0 = no limit.
    max_qps: float = Field(200, ge=0)
    # fast: domainwatch's own multiplexing UDP transport and codec; dnspython: dnspython's.
    transport: Literal["fast", "dnspython"] = "fast"
    # The daemon shares answers for names outside the checked domain (provider SPF includes, MX
    # hosts) between domains for min(TTL, this), capped at half the shortest interval. 0 = off.
    shared_cache: Duration = timedelta(seconds=25)


class Defaults(_Model):
    interval: Duration = timedelta(minutes=5)
    window: Duration = timedelta(hours=72)
    confirm_missing: int = Field(2, ge=1, le=100)
    pending_interval: Duration = timedelta(minutes=1)
    recheck_interval: Duration = timedelta(minutes=1)
    failed_interval: Duration = timedelta(hours=1)


class TokenConfig(_Model):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    role: Literal["viewer", "admin"]
    token: SecretStr

    @field_validator("token")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters (use a random value)")
        return value


class ServerConfig(_Model):
    listen: Listen = "127.0.0.1:8427"
    tokens: list[TokenConfig] = []

    @field_validator("tokens")
    @classmethod
    def _unique_names(cls, tokens: list[TokenConfig]) -> list[TokenConfig]:
        names = [t.name for t in tokens]
        if len(set(names)) != len(names):
            raise ValueError("token names must be unique")
        return tokens


EventType = Literal["domain.status_changed", "record.status_changed"]
DOMAIN_EVENT: EventType = "domain.status_changed"


class WebhookConfig(_Model):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    url: WebhookUrl
    secret: SecretStr | None = None
    secrets: list[SecretStr] = []  # several for rotation: every one signs
    events: list[EventType] = Field(default_factory=lambda: [DOMAIN_EVENT], min_length=1)
    domains: list[str] = []  # glob patterns; empty = every domain
    format: Literal["standard", "alertmanager"] = "standard"
    timeout: Duration = timedelta(seconds=15)

    @field_validator("secret", "secrets")
    @classmethod
    def _whsec(cls, value: SecretStr | list[SecretStr] | None) -> SecretStr | list[SecretStr] | None:
        for item in value if isinstance(value, list) else [value] if value else []:
            check_webhook_secret(item.get_secret_value())
        return value

    @model_validator(mode="after")
    def _signed(self) -> WebhookConfig:
        if self.format == "standard" and not self.all_secrets():
            raise ValueError("set secret (or secret_file, or secrets): standard webhooks are always signed")
        return self

    def all_secrets(self) -> list[str]:
        own = [self.secret] if self.secret is not None else []
        return [s.get_secret_value() for s in [*own, *self.secrets]]


class ShardingConfig(_Model):
    shard: int = Field(0, ge=0)
    total_shards: int = Field(1, ge=1, le=1024)

    @model_validator(mode="after")
    def _in_range(self) -> ShardingConfig:
        if self.shard >= self.total_shards:
            raise ValueError("shard must be less than total_shards (shards are numbered from 0)")
        return self


class StorageConfig(_Model):
    path: str = "./domainwatch.db"
    retention: Duration = timedelta(days=30)
    # History of status changes older than this is forgotten, so the store does not grow forever.
    history_retention: Duration = timedelta(days=180)


class SpfConfig(_Model):
    include: list[str] = Field(default_factory=list)
    # Addresses (or CIDRs) whose mail must pass check_host(): the SPF record is found only if
    # an RFC 7208 evaluation passes for each (both ends of a CIDR).
    authorize: list[str] = Field(default_factory=list)

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

    def networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        """Addresses to evaluate: `authorize`, and IPs listed under `include` (same meaning)."""
        listed = [v for v in self.include if _is_network(v)] + self.authorize
        return list(dict.fromkeys(ipaddress.ip_network(v, strict=False) for v in listed))

    def domains(self) -> list[str]:
        return [v.rstrip(".").lower() for v in self.include if not _is_network(v)]


def _is_network(value: str) -> bool:
    if ":" not in value and not value.replace(".", "").replace("/", "").isdigit():
        return False  # a domain name (the usual entry): skip the costly parse
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return True


class MxConfig(_Model):
    host: DomainName
    priority: int = Field(10, ge=0, le=65535)


class DkimConfig(_Model):
    selector: Selector
    public_key: str | None = None
    cname: DomainName | None = None

    @model_validator(mode="after")
    def _one_source(self) -> DkimConfig:
        if self.public_key is not None and self.cname is not None:
            raise ValueError("set either public_key or cname, not both")
        return self


class SendingConfig(_Model):
    return_path: ReturnPathLabel = "send"
    spf: SpfConfig | None = None
    mx: MxConfig | None = None
    dkim: list[DkimConfig] = Field(default_factory=list)  # no deep copy per domain

    @model_validator(mode="after")
    def _has_a_record(self) -> SendingConfig:
        if self.spf is None and self.mx is None and not self.dkim:
            raise ValueError("define at least one of spf, mx, dkim (or use a preset)")
        return self


class ReceivingConfig(_Model):
    mx: list[MxConfig] = Field(min_length=1)


class DmarcConfig(_Model):
    required: bool = False
    min_policy: Literal["none", "quarantine", "reject"] = "none"


class TrackingConfig(_Model):
    host: RelativeHost
    cname: DomainName


class DomainConfig(_Model):
    name: DomainName
    verify: bool = True
    preset: str | None = None
    region: Region | None = None
    sending: SendingConfig | None = None
    receiving: ReceivingConfig | None = None
    dmarc: DmarcConfig = DmarcConfig()
    tracking: TrackingConfig | None = None
    interval: Duration | None = None
    window: Duration | None = None
    confirm_missing: int | None = Field(None, ge=1, le=100)
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


class Config(_Model):
    resolver: ResolverConfig = ResolverConfig()
    defaults: Defaults = Defaults()
    storage: StorageConfig = StorageConfig()
    server: ServerConfig = ServerConfig()
    sharding: ShardingConfig = ShardingConfig()
    webhooks: list[WebhookConfig] = []
    # Multiplies every webhook retry delay (tests and the demo shorten the 24-hour schedule).
    webhook_retry_scale: float = Field(1.0, gt=0, le=1000)
    # How many domains are checked at once, across the whole fleet.
    max_concurrent_checks: int = Field(64, ge=1, le=10000)
    domains: list[DomainConfig] = []

    @field_validator("webhooks")
    @classmethod
    def _unique_webhooks(cls, hooks: list[WebhookConfig]) -> list[WebhookConfig]:
        names = [h.name for h in hooks]
        if len(set(names)) != len(names):
            raise ValueError("webhook names must be unique")
        return hooks

    def domain(self, name: str) -> DomainConfig | None:
        wanted = name.rstrip(".").lower()
        return next((d for d in self.domains if d.name == wanted), None)
