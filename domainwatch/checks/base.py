"""What every record kind shares: the answers it reads, expectations, and the kind's entry.

A record kind is one module: its config model (the key it owns in a domain's document), how a
configured domain plans its records, the queries and the evaluation (pure functions over the
answers gathered so far), its finding codes, and the facts its results carry for metrics. The
module ends with one `KIND = RecordKind(...)`, and registry.py lists the kinds.

`queries(expect, answers)` names what a check still needs resolved (it may depend on earlier
answers, as when SPF follows includes), and `evaluate(expect, answers)` turns the answers into
a RecordResult. The runner resolves until `queries` asks for nothing new, then evaluates.
`queries` reads only the answers to what it asks: once everything it asks is answered, the
record is settled, and the runner does not ask it again while other records' answers come in.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, Protocol, TypeVar, cast

from domainwatch.dns.resolver import Lookup, Query
from domainwatch.model import CommonCode, Finding, RecordResult, Remediation, Severity

Answers = Mapping[Query, Lookup]


@dataclass(frozen=True, slots=True)
class Expectation:
    """One record a domain must (or, when not required, should) publish."""

    record: str  # the record id: spf, dkim:<selector>, return_path_mx, ...
    name: str  # the owner name to query
    required: bool

    @property
    def counts(self) -> bool:
        """Whether the record counts toward its capability's status (a DKIM `next` or
        `retiring` key is required to be published, yet advisory)."""
        return self.required


class Section(enum.StrEnum):
    """Where a kind's key sits in a domain's document."""

    SENDING = "sending"
    RECEIVING = "receiving"
    DOMAIN = "domain"  # at the domain's top level, beside `sending` and `receiving`


class PlannedDomain(Protocol):
    """What planning reads of a configured domain besides the kind's own key."""

    @property
    def name(self) -> str: ...

    @property
    def sending(self) -> Any: ...  # the sending section (with return_path), or None

    @property
    def receiving(self) -> Any: ...


@dataclass(frozen=True, slots=True)
class FactMetric:
    """A per-domain gauge family made from one fact of a kind's results (docs/metrics.md)."""

    name: str
    help: str
    fact: str  # the key in RecordResult.facts
    label: str | None = None  # a label holding the record id's suffix (`selector` for dkim:<selector>)
    # A text fact, as a label of that name with a sample for each value: 1 for the fact's value,
    # 0 for the others.
    one_hot: tuple[str, tuple[str, ...]] | None = None
    # A text fact as an info series: one sample, value 1, with the fact as a label of this name.
    info: str | None = None


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """What a kind's diagnosis of a missing or wrong record still needs asked, and what it
    found with the answers it has (checks/diagnoses/mistakes.py)."""

    queries: frozenset[Query] = frozenset()
    findings: tuple[Finding, ...] = ()

    def __add__(self, other: Diagnosis) -> Diagnosis:
        return Diagnosis(self.queries | other.queries, self.findings + other.findings)


class Reason(NamedTuple):
    """Why a published record changed (checks/drift.py lists the codes); `tag` names the DMARC
    tag a policy reason is about (p, sp or np)."""

    code: str
    tag: str | None = None

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "tag": self.tag} if self.tag else {"code": self.code}


@dataclass(frozen=True, slots=True)
class Published:
    """What a record publishes, as drift compares it: its values as a sorted set, the facts its
    kind says measure its strength, and per authoritative nameserver what each serves."""

    type: str
    values: tuple[str, ...]
    facts: Mapping[str, str | int]
    servers: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True, slots=True)
class DriftRules:
    """How a kind judges a change of what its records publish (checks/drift.py)."""

    reasons: Callable[[Published, Published], Sequence[Reason]]
    facts: tuple[str, ...] = ()  # result facts a change of which is a change of the record
    # The values compared, when not the result's `found` (MTA-STS adds its policy's lines).
    values: Callable[[RecordResult], tuple[str, ...]] | None = None


E = TypeVar("E", bound=Expectation)  # a kind's expectation
C = TypeVar("C")  # the value of a kind's key in a domain's document (its config model)


@dataclass(frozen=True, slots=True)
class RecordKind(Generic[E, C]):
    """One record kind, as the registry lists it: `E` its expectation, `C` its config value."""

    name: str  # record ids are `name` or `name:<suffix>`
    section: Section
    key: str  # its key in that section
    model: Any  # the type of that key's value, as pydantic reads it (a type expression)
    default: Any  # the key's default (a C, a pydantic Field, or None: no record unless the key is set)
    capability: str  # what a required record of this kind counts toward: sending | receiving
    rdtype: str  # the DNS type a result of this kind shows (TXT, MX, CNAME, ...)
    plan: Callable[[PlannedDomain, C], list[Expectation]]
    queries: Callable[[E, Answers], set[Query]]
    evaluate: Callable[[E, Answers], RecordResult]
    codes: type[enum.StrEnum]
    metrics: tuple[FactMetric, ...] = ()
    # What `domainwatch inspect NAME --dkim-selector S...` looks at, with no config.
    inspect: Callable[[str, Sequence[str]], list[Expectation]] | None = None
    # The records a user publishes to satisfy an expectation (what a create answer lists);
    # a value only the provider makes is marked so (Remediation.from_provider).
    publish: Callable[[E], tuple[Remediation, ...]] = lambda _: ()
    # The key's value when `probes.default` turns the kind on for a domain that does not set it.
    implied: C | None = None
    # Another key of the same section this one needs (STARTTLS probes the configured MX hosts).
    needs: str | None = None
    # Asks probe queries (probes/): the daemon answers them with its Prober.
    probes: bool = False
    # What `domainwatch inspect NAME --tls` adds, given the MX hosts the domain publishes.
    inspect_tls: Callable[[str, Sequence[str]], list[Expectation]] | None = None
    # Where a missing or wrong record was probably put by mistake (checks/diagnoses/); run by
    # the runner only for such records, with one more round of (a few) queries.
    diagnose: Callable[[E, Answers, RecordResult], Diagnosis] | None = None
    # A TXT kind whose receivers select its record by its first characters: whether a value is
    # its record. A value that would be but for leading whitespace is then `wrong` (padded.py).
    version_tag: Callable[[str], bool] | None = None
    # What applies when receivers discard the record at the name, told from the result without
    # it ("p=quarantine, from _dmarc.example.com"); "nothing" when not given.
    applies_instead: Callable[[RecordResult], str] | None = None
    # The code a record gets when DNSSEC validation is what fails its own lookup (the runner's
    # bogus look, checks/running/dnssec.py); `dnssec_bogus` when not given.
    bogus_code: enum.StrEnum | None = None
    # How a change of what its records publish is judged (None: every change is value_changed).
    drift: DriftRules | None = None
    # Whether its key alone makes a section (`sending` needs spf, dkim or mx; listing the
    # sending IPs does not make one).
    enables: bool = True


AnyKind = RecordKind[Any, Any]  # what the registry holds: every kind, whatever its types


_Value = TypeVar("_Value", bound=Hashable)
_SHARED: dict[Hashable, Any] = {}
_SHARED_MAX = 4096  # distinct values; a fleet's plans hold a few (its providers' hosts)


def shared(value: _Value) -> _Value:
    """One object for equal values that many domains' plans hold (a provider's MX hosts, a
    record id such as `dkim:s1`): planning 100,000 domains would otherwise keep 100,000 copies."""
    if len(_SHARED) >= _SHARED_MAX:
        _SHARED.clear()  # values are immutable: an equal copy made after this is as good
    return cast(_Value, _SHARED.setdefault(value, value))


def lookup_error(lookup: Lookup) -> Finding:
    detail = f" ({lookup.detail})" if lookup.detail else ""
    server = f" from {lookup.server}" if lookup.server else ""
    return Finding(
        CommonCode.LOOKUP_ERROR,
        Severity.ERROR,
        f"{lookup.query.rdtype} lookup of {lookup.query.name} failed: "
        f"{lookup.outcome.value}{server}{detail}; the record's presence is unknown",
    )


def return_path_host(domain: PlannedDomain) -> str:
    """The return-path (MAIL FROM) name: `<label>.<domain>`, or the domain itself for `@`."""
    value = domain.sending.return_path
    label = value if isinstance(value, str) else value.label
    return domain.name if label == "@" else f"{label}.{domain.name}"


def return_path_cname(domain: PlannedDomain) -> str | None:
    """The target of a return path that is a CNAME (`return_path: {label, cname}`), else None."""
    cname: str | None = getattr(domain.sending.return_path, "cname", None)
    return cname


def same_host(a: str, b: str) -> bool:
    return a.rstrip(".").lower() == b.rstrip(".").lower()


@dataclass(frozen=True, slots=True)
class Observed:
    """One check of a domain's records: what it asked, what it saw and what it concluded."""

    expectations: Sequence[Expectation]
    queries: tuple[Query, ...]
    seen: bytes  # digest() of the answers, in the order of `queries`
    results: tuple[RecordResult, ...]
