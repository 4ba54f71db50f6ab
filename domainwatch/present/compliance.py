"""Bulk-sender readiness (pure): each rule of the rule sets a domain is judged against
(config/compliance.yaml), from what its checks found: the records' statuses and the facts kept
of them. A rule passes when the records it needs are verified; those DNS cannot show are listed
`not_checkable`, with where to check them, and are absent from the metrics."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from domainwatch.config.compliance import rule_sets
from domainwatch.state.facts import DomainFacts
from domainwatch.state.rules import Status

PASS, FAIL, NOT_CHECKABLE = "pass", "fail", "not_checkable"


@dataclass(frozen=True, slots=True)
class Verdict:
    provider: str
    rule: str
    result: str  # pass | fail | not_checkable
    detail: str


Judged = tuple[bool | None, str]  # passed (None: not checkable from DNS), and why


def verdicts(
    compliance: Iterable[str], statuses: Mapping[str, Status], facts: DomainFacts | None
) -> list[Verdict]:
    """Each rule of each rule set: `statuses` are the planned records' (record id -> status)."""
    judged = _Judge(statuses, facts or DomainFacts())
    out = []
    for provider in compliance:
        rules = rule_sets()[provider]
        for rule in rules.rules:
            if rule in rules.elsewhere:
                out.append(
                    Verdict(provider, rule, NOT_CHECKABLE, f"not in DNS: check {rules.elsewhere[rule]}")
                )
                continue
            passed, why = judged.rule(rule)
            result = NOT_CHECKABLE if passed is None else PASS if passed else FAIL
            out.append(Verdict(provider, rule, result, why))
    return out


def views(found: Sequence[Verdict]) -> dict[str, dict[str, object]]:
    """The verdicts as the API and the page show them: by provider, with its rules' version."""
    rules: dict[str, list[dict[str, str]]] = {}
    for verdict in found:
        rules.setdefault(verdict.provider, []).append(
            {"rule": verdict.rule, "result": verdict.result, "detail": verdict.detail}
        )
    return {provider: {"version": rule_sets()[provider].version, "rules": r} for provider, r in rules.items()}


class _Judge:
    def __init__(self, statuses: Mapping[str, Status], facts: DomainFacts) -> None:
        self.statuses, self.facts = statuses, facts

    def _of(self, kind: str) -> list[str]:
        return [r for r in self.statuses if r == kind or r.startswith(f"{kind}:")]

    def _verified(self, records: Iterable[str]) -> list[str]:
        return [r for r in records if self.statuses[r] is Status.VERIFIED]

    def rule(self, rule: str) -> Judged:
        return getattr(self, f"_{rule}")()  # type: ignore[no-any-return]

    def _spf(self) -> Judged:
        own = self._of("spf") + self._of("return_path_cname")
        if not own:
            return False, "the return path is the provider's own domain: SPF passes for it, not for yours"
        return bool(self._verified(own)), f"{own[0]} {self.statuses[own[0]].value}"

    def _dkim(self) -> Judged:
        keys = self._of("dkim")
        if not keys:
            return False, "no DKIM selector is configured"
        verified = self._verified(keys)
        return bool(verified), f"verified: {', '.join(verified)}" if verified else "no DKIM key is verified"

    def _dkim_key_1024(self) -> Judged:
        bits = {r: self.facts.fact(r, "dkim_key_bits") for r in self._verified(self._of("dkim"))}
        known = {r: b for r, b in bits.items() if isinstance(b, int)}
        if not known:
            return False, "no verified DKIM key to measure"
        short = [f"{r} ({b} bits)" for r, b in known.items() if b < 1024]
        return not short, f"under 1024 bits: {', '.join(short)}" if short else "every key 1024 bits or more"

    def _dmarc(self) -> Judged:
        if not self._of("dmarc"):
            return False, "DMARC is not checked (a sending domain's record)"
        status = self.statuses["dmarc"]
        return (
            status is Status.VERIFIED,
            f"dmarc {status.value} (p=none at least, here or at the organisational domain)",
        )

    def _alignment(self) -> Judged:
        spf = self._verified(self._of("spf") + self._of("return_path_cname"))
        dkim = self._verified(self._of("dkim"))
        if not spf and not dkim:
            return False, "neither a return path nor a DKIM key under the domain is verified"
        return True, "under the domain: " + ", ".join([*spf, *dkim])

    def _reverse(self, fact: str, what: str) -> Judged:
        ips = self._of("reverse_dns")
        if not ips:
            return None, "list the sending IPs in sending.ips to check it"
        bad = [r.partition(":")[2] for r in ips if self.facts.fact(r, fact) != 1]
        return not bad, f"{what} missing for {', '.join(bad)}" if bad else f"{what} for every sending IP"

    def _ptr(self) -> Judged:
        return self._reverse("ptr_found", "a PTR record")

    def _fcrdns(self) -> Judged:
        return self._reverse("fcrdns", "a PTR name resolving back")

    def _inbound_tls(self) -> Judged:
        hosts = self._of("starttls")
        if not hosts:
            return None, "turn on receiving.tls to probe the MX hosts"
        bad = [r for r in hosts if self.statuses[r] is not Status.VERIFIED]
        return not bad, f"not verified: {', '.join(bad)}" if bad else "STARTTLS on every MX host"
