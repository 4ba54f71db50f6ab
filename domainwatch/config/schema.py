"""The configuration schema: typed, frozen, unknown keys rejected, defaults applied here."""

from __future__ import annotations

import os
import socket
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, SecretStr, field_validator, model_validator

from domainwatch.checks.registry import KINDS
from domainwatch.config.domains import Defaults, DomainConfig
from domainwatch.fields import MODEL_CONFIG, Duration, LabelKey, Listen, NameserverField, WebhookUrl
from domainwatch.store.urls import DEFAULT_PATH, POSTGRESQL, StoreLocation, parse_store_url, sqlite_at
from domainwatch.values import check_webhook_secret


class _Model(BaseModel):
    model_config = MODEL_CONFIG


class ResolverConfig(_Model):
    nameservers: list[NameserverField] = []
    timeout: Duration = timedelta(seconds=2)
    attempts: int = Field(2, ge=1, le=10)
    mode: Literal["recursive", "authoritative"] = "recursive"
    # Port to reach authoritative servers on in authoritative mode (53 but in test labs).
    authoritative_port: int = Field(53, ge=1, le=65535)
    # Authoritative mode queries the addresses a domain's own NS records give; loopback, private
    # and link-local ones only when this is set (labs and tests: a domain must not be able to
    # point the daemon at internal servers).
    allow_private_nameservers: bool = False
    # Queries per second to each nameserver, so a large fleet never floods a resolver; 0 = no limit.
    max_qps: float = Field(200, ge=0)
    # fast: domainwatch's own multiplexing UDP transport and codec; dnspython: dnspython's.
    transport: Literal["fast", "dnspython"] = "fast"
    # The daemon shares answers for names outside the checked domain (provider SPF includes, MX
    # hosts) between domains for min(TTL, this), capped at half the shortest interval. 0 = off.
    shared_cache: Duration = timedelta(seconds=25)
    # Ask with the DO bit, so a validating resolver returns each answer's RRSIGs and their
    # expiry is exposed (docs/checks.md, DNSSEC); off saves their bytes on signed zones.
    dnssec_signatures: bool = True


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
    # Host names the server answers to besides the listen address, localhost and IP literals
    # (421 otherwise: DNS rebinding); "*" for any.
    allowed_hosts: list[Annotated[str, Field(min_length=1, max_length=253)]] = []
    # A connection with no complete request this long after it opened or after its last
    # response is closed (slowloris, idle keep-alive).
    idle_timeout: Duration = timedelta(seconds=15)
    max_connections: int = Field(256, ge=1, le=65535)
    max_connections_per_client: int = Field(64, ge=1, le=65535)

    @field_validator("tokens")
    @classmethod
    def _unique_names(cls, tokens: list[TokenConfig]) -> list[TokenConfig]:
        names = [t.name for t in tokens]
        if len(set(names)) != len(names):
            raise ValueError("token names must be unique")
        return tokens


EventType = Literal["domain.status_changed", "record.status_changed", "domain.deleted", "record.changed"]
# An endpoint that names no events gets a domain's status changes and its deletion.
DEFAULT_EVENTS: tuple[EventType, ...] = ("domain.status_changed", "domain.deleted")


class WebhookConfig(_Model):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    url: WebhookUrl
    secret: SecretStr | None = None
    secrets: list[SecretStr] = []  # several for rotation: every one signs
    events: list[EventType] = Field(default_factory=lambda: list(DEFAULT_EVENTS), min_length=1)
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


class ClusterConfig(_Model):
    """Replicas sharing one PostgreSQL store (docs/ha.md): the fleet's 1,024 slots are held under
    leases of `lease_ttl`, renewed every `renew_interval`; `replica_id` names this replica in the
    leases (default: host name and pid, unique per process)."""

    lease_ttl: Duration = timedelta(seconds=15)
    renew_interval: Duration = timedelta(seconds=5)
    replica_id: str | None = Field(None, min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$")

    @model_validator(mode="after")
    def _renewed_in_time(self) -> ClusterConfig:
        if self.lease_ttl < timedelta(seconds=3):
            raise ValueError("lease_ttl must be at least 3s")
        if not timedelta(0) < self.renew_interval * 2 < self.lease_ttl:
            raise ValueError("renew_interval must be more than 0s and less than half of lease_ttl")
        return self

    @property
    def replica(self) -> str:
        return self.replica_id or f"{socket.gethostname()}-{os.getpid()}"


if TYPE_CHECKING:
    ProbeName = str
else:  # the keys `probes.default` may turn on: every kind with an implied value (the registry's)
    ProbeName = Literal[tuple(kind.key for kind in KINDS if kind.implied is not None)]


class ProbesConfig(_Model):
    """STARTTLS and MTA-STS probes (docs/configuration.md). The ports and the CA file exist so
    tests and labs can run on loopback; production leaves them alone."""

    smtp_port: int = Field(25, ge=1, le=65535)
    https_port: int = Field(443, ge=1, le=65535)
    ca_file: str | None = None  # the system's store when unset
    timeout: Duration = timedelta(seconds=10)
    # Turned on (advisory) for every domain with `receiving:` that does not set them.
    default: list[ProbeName] = []
    # Certificates and TLS support change slowly; a changed answer is probed again sooner.
    interval: Duration = timedelta(hours=6)
    max_concurrent: int = Field(16, ge=1, le=1024)
    helo_name: str = Field(default_factory=socket.gethostname, min_length=1, max_length=253)
    # The probes connect only to addresses on the public internet (dns/addresses.py): an MX host
    # or mta-sts name that resolves to loopback, a private network or cloud metadata is reported,
    # never connected to. Labs and tests on loopback set this.
    allow_private_addresses: bool = False
    # Addresses a domain's probes try in one round, over all its MX hosts and its policy host.
    max_addresses_per_domain: int = Field(32, ge=1, le=1024)

    @property
    def implied(self) -> frozenset[str]:
        return frozenset(self.default)


MetricGlob = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[a-zA-Z0-9_:*?\[\]!-]+$")]


class MetricsConfig(_Model):
    """Which families /metrics exports (docs/metrics.md: series per domain, and the set
    recommended for fleets over 10,000 domains)."""

    allow: list[MetricGlob] = []  # family name globs; none: every family
    deny: list[MetricGlob] = []  # applied after `allow`
    # Owner label keys exported on domainwatch_domain_labels (none: the family is not written).
    labels_allow: list[LabelKey] = Field(default=[], max_length=64)


class StorageConfig(_Model):
    """Where the store lives: `path` (a SQLite file) or `url` (store/urls.py; `url_file` reads it
    from a file, `${ENV}` works as anywhere). A URL is a secret: never shown whole."""

    path: str | None = None
    url: SecretStr | None = None
    retention: Duration = timedelta(days=30)
    # History of status changes older than this is forgotten, so the store does not grow forever.
    history_retention: Duration = timedelta(days=180)

    @field_validator("url")
    @classmethod
    def _known_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_store_url(value.get_secret_value())
        return value

    @model_validator(mode="after")
    def _one_location(self) -> StorageConfig:
        if self.path is not None and self.url is not None:
            raise ValueError("set either path or url (or url_file), not both")
        return self

    @property
    def location(self) -> StoreLocation:
        if self.url is not None:
            return parse_store_url(self.url.get_secret_value())
        return sqlite_at(self.path or DEFAULT_PATH)


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("must be more than 0s")
    return value


PositiveDuration = Annotated[Duration, AfterValidator(_positive)]


class LimitsConfig(_Model):
    """The floors under a domain's schedule (config/floors.py): config-only, so tests, labs and
    the demo can lower them; an API document is always held to them."""

    min_interval: PositiveDuration = timedelta(seconds=30)  # interval, pending_ and failed_interval
    min_recheck_interval: PositiveDuration = timedelta(seconds=10)
    min_window: PositiveDuration = timedelta(minutes=10)
    min_probe_interval: PositiveDuration = timedelta(minutes=5)


class ReloadConfig(_Model):
    """The daemon reloads when its config file's content changes (daemon/watch.py), looking this
    often; 0 turns it off (SIGHUP and POST /-/reload still reload)."""

    watch_interval: Duration = timedelta(seconds=30)


class Config(_Model):
    resolver: ResolverConfig = ResolverConfig()
    defaults: Defaults = Defaults()
    storage: StorageConfig = StorageConfig()
    server: ServerConfig = ServerConfig()
    sharding: ShardingConfig = ShardingConfig()
    cluster: ClusterConfig = ClusterConfig()
    probes: ProbesConfig = ProbesConfig()
    metrics: MetricsConfig = MetricsConfig()
    limits: LimitsConfig = LimitsConfig()
    reload: ReloadConfig = ReloadConfig()
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

    @model_validator(mode="after")
    def _one_way_to_split(self) -> Config:
        if self.clustered and self.sharding.total_shards > 1:
            raise ValueError(
                "sharding: a PostgreSQL store is shared by every replica, which split the fleet"
                " between them (cluster:); set total_shards only with SQLite"
            )
        return self

    @property
    def clustered(self) -> bool:
        """Replicas on one shared store (PostgreSQL) that split the fleet by leases."""
        return self.storage.location.kind == POSTGRESQL

    def domain(self, name: str) -> DomainConfig | None:
        wanted = name.rstrip(".").lower()
        return next((d for d in self.domains if d.name == wanted), None)
