"""Which records a domain must publish: config (or a bare domain) -> Expectations (pure)."""

from __future__ import annotations

import dataclasses
import hashlib
import operator
from collections.abc import Callable
from typing import Any

from domainwatch.checks.base import Expectation
from domainwatch.checks.dkim import DkimExpectation
from domainwatch.checks.dmarc import DmarcExpectation
from domainwatch.checks.mx import MxExpectation
from domainwatch.checks.spf import SpfExpectation
from domainwatch.checks.tracking import TrackingExpectation
from domainwatch.config.domains import DomainConfig
from domainwatch.state.domain import RecordSpec


def plan(domain: DomainConfig) -> list[Expectation]:
    """The records of one configured domain, in a stable order."""
    out: list[Expectation] = []
    sending, name = domain.sending, domain.name
    if sending is not None:
        rp = f"{sending.return_path}.{name}"
        if sending.spf is not None:
            out.append(SpfExpectation("spf", rp, True, *sending.spf.targets()))
        for key in sending.dkim:
            out.append(
                DkimExpectation(
                    f"dkim:{key.selector}",
                    f"{key.selector}._domainkey.{name}",
                    True,
                    key.selector,
                    key.public_key,
                    key.cname,
                )
            )
        if sending.mx is not None:
            out.append(MxExpectation("return_path_mx", rp, True, ((sending.mx.host, sending.mx.priority),)))
    if domain.receiving is not None:
        hosts = tuple((m.host, m.priority) for m in domain.receiving.mx)
        out.append(MxExpectation("receiving_mx", name, True, hosts))
    if sending is not None or domain.dmarc.required:
        out.append(
            DmarcExpectation("dmarc", f"_dmarc.{name}", domain.dmarc.required, name, domain.dmarc.min_policy)
        )
    if domain.tracking is not None:
        out.append(
            TrackingExpectation("tracking", f"{domain.tracking.host}.{name}", False, domain.tracking.cname)
        )
    return out


def inspect_plan(name: str, selectors: list[str]) -> list[Expectation]:
    """What `domainwatch inspect` looks at when there is no config: whatever is published."""
    out: list[Expectation] = [SpfExpectation("spf", name, False)]
    out += [DkimExpectation(f"dkim:{s}", f"{s}._domainkey.{name}", False, s) for s in selectors]
    out.append(MxExpectation("receiving_mx", name, False))
    out.append(DmarcExpectation("dmarc", f"_dmarc.{name}", False, name))
    return out


def capability_of(expect: Expectation) -> str | None:
    """Which capability a required record counts toward; None for advisory records."""
    if not expect.required:
        return None
    return "receiving" if expect.record == "receiving_mx" else "sending"


def fingerprint(expect: Expectation) -> str:
    """A stable digest of what the record must look like; it changes when the config does.

    Stored fingerprints were made from the dataclass repr: this must keep producing it exactly,
    or an upgrade would restart every record's verification.
    """
    return hashlib.sha256(dataclass_repr(expect).encode()).hexdigest()[:16]


_REPR_FORMATS: dict[type, tuple[str, Callable[[Any], tuple[Any, ...]]]] = {}


def dataclass_repr(expect: Expectation) -> str:
    """repr(expect) as the dataclass writes it, without its per-call recursion guard, from a
    format string and a field getter made once per class (planning a 100,000-domain fleet at
    start-up made half a million of these)."""
    kind = type(expect)
    known = _REPR_FORMATS.get(kind)
    if known is None:
        names = [f.name for f in dataclasses.fields(expect) if f.repr]
        text = ", ".join(f"{name}=%r" for name in names)
        getter = operator.attrgetter(*names)
        fields = getter if len(names) > 1 else lambda item: (getter(item),)
        known = _REPR_FORMATS[kind] = (f"{kind.__qualname__}({text})", fields)
    template, fields = known
    return template % fields(expect)


def specs(expectations: list[Expectation]) -> list[RecordSpec]:
    return [RecordSpec(e.record, capability_of(e), fingerprint(e)) for e in expectations]
