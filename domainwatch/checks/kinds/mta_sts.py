"""MTA-STS (RFC 8461; `receiving.mta_sts`, record id `mta_sts`): the `_mta-sts` TXT record and
the policy it announces, fetched over HTTPS as a sender fetches it (probes/https.py).

The fix for a missing or wrong policy is the policy to serve, made from the domain's MX hosts
(the configured ones, else those published), with an `id` that changes with the policy.
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from pydantic.dataclasses import dataclass as schema

from domainwatch.checks.base import (
    Answers,
    Diagnosis,
    DriftRules,
    Expectation,
    FactMetric,
    PlannedDomain,
    Published,
    Reason,
    RecordKind,
    Section,
    lookup_error,
)
from domainwatch.checks.diagnoses import mistakes
from domainwatch.checks.kinds.mx import parse_mx
from domainwatch.checks.kinds.probed import only_refused, refused_addresses
from domainwatch.dns.resolver import Lookup, Outcome, Query
from domainwatch.fields import SECTION_CONFIG, Flag
from domainwatch.model import Finding, RecordResult, RecordState, Remediation, Severity
from domainwatch.probes.answers import MTA_STS_POLICY, POLICY_PATH, facts_of
from domainwatch.probes.policy import MODES, covers

MAX_AGE = 604_800  # a week: what the suggested policy asks senders to cache it for
_ID = re.compile(r"[A-Za-z0-9]{1,32}")
_HOST = re.compile(r"([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{1,63}")
_RANK = {"none": 0, "testing": 1, "enforce": 2}


class Code(enum.StrEnum):
    MTA_STS_MISSING = "mta_sts_missing"
    MTA_STS_INVALID_RECORD = "mta_sts_invalid_record"
    MTA_STS_POLICY_UNREACHABLE = "mta_sts_policy_unreachable"
    MTA_STS_POLICY_INVALID = "mta_sts_policy_invalid"
    MTA_STS_MX_NOT_COVERED = "mta_sts_mx_not_covered"
    MTA_STS_MODE_TESTING = "mta_sts_mode_testing"
    MTA_STS_MODE_NONE = "mta_sts_mode_none"
    MTA_STS_MODE_BELOW_REQUIRED = "mta_sts_mode_below_required"


@schema(frozen=True, slots=True, config=SECTION_CONFIG)
class MtaStsConfig:
    """`receiving.mta_sts`: `mode` is the least the policy must say."""

    required: Flag = False
    mode: Literal["enforce", "testing", "none"] = "enforce"


@dataclass(frozen=True, slots=True)
class MtaStsExpectation(Expectation):
    domain: str = ""
    mode: str = "enforce"
    hosts: tuple[str, ...] = ()  # the configured MX hosts; () for those published

    @property
    def policy_host(self) -> str:
        return f"mta-sts.{self.domain}"


def policy_text(mode: str, hosts: list[str]) -> str:
    patterns = [f"mx: {host}\n" for host in sorted(set(hosts))]
    return "".join(["version: STSv1\n", f"mode: {mode}\n", *patterns, f"max_age: {MAX_AGE}\n"])


def txt_record(policy: str) -> str:
    """The TXT record announcing a policy: its id a digest of the text, so it changes with it."""
    digest = hashlib.sha256(policy.encode("utf-8", "surrogateescape")).hexdigest()
    return f"v=STSv1; id={digest[:20]}"


def queries(expect: MtaStsExpectation, answers: Answers) -> set[Query]:
    txt = Query.of(expect.name, "TXT")
    wanted = {txt}
    if not expect.hosts:
        wanted.add(Query.of(expect.domain, "MX"))
    lookup = answers.get(txt)
    if lookup is not None and len(_sts_records(lookup)) == 1:
        wanted.add(Query.of(expect.policy_host, MTA_STS_POLICY))
    return {q for q in wanted if q not in answers}


def _sts_records(lookup: Lookup) -> list[str]:
    return [r for r in lookup.records if r.startswith("v=STSv1")]


def _hosts(expect: MtaStsExpectation, answers: Answers) -> list[str] | Lookup:
    if expect.hosts:
        return list(expect.hosts)
    lookup = _answer(answers, Query.of(expect.domain, "MX"))
    if lookup.outcome.is_error:
        return lookup
    # Only host names: anything else published as an MX target (the MX check reports it) could
    # never be in a policy.
    return [host for _, host in (parse_mx(r) for r in lookup.records) if _HOST.fullmatch(host)][:20]


def _answer(answers: Answers, query: Query) -> Lookup:
    return answers.get(query) or Lookup(query, Outcome.NETWORK, detail="not asked")


def evaluate(expect: MtaStsExpectation, answers: Answers) -> RecordResult:
    txt = _answer(answers, Query.of(expect.name, "TXT"))
    if txt.outcome.is_error:
        return _result(expect, RecordState.ERROR, (), [lookup_error(txt)], None)
    hosts = _hosts(expect, answers)
    if isinstance(hosts, Lookup):
        return _result(expect, RecordState.ERROR, (), [lookup_error(hosts)], None)
    wanted = policy_text(expect.mode, hosts)
    records = _sts_records(txt)
    fix = Remediation(expect.name, "TXT", txt_record(wanted))
    if not records:
        shown = wanted.strip().replace("\n", "; ")
        url = f"https://{expect.policy_host}{POLICY_PATH}"
        message = f"no MTA-STS record at {expect.name}: publish it, and serve this policy at {url}: {shown}"
        missing = Finding(Code.MTA_STS_MISSING, Severity.ERROR, message, remediation=fix)
        return _result(expect, RecordState.MISSING, (), [missing], "absent")
    problem = _record_problem(records)
    if problem:
        found = "; ".join(records)[:300]
        finding = Finding(Code.MTA_STS_INVALID_RECORD, Severity.ERROR, problem, found=found, remediation=fix)
        return _result(expect, RecordState.WRONG, tuple(records), [finding], None)
    policy = answers.get(Query.of(expect.policy_host, MTA_STS_POLICY))
    if policy is None or policy.outcome.is_error:
        detail = policy.detail if policy is not None else "not fetched"
        message = f"the policy at https://{expect.policy_host}{POLICY_PATH} could not be fetched: {detail}"
        unreachable = Finding(Code.MTA_STS_POLICY_UNREACHABLE, Severity.ERROR, message)
        return _result(expect, RecordState.ERROR, tuple(records), [unreachable], None, fetched=False)
    facts = facts_of(policy)
    refused = refused_addresses(expect.policy_host, facts)
    if only_refused(facts):
        return _result(expect, RecordState.WRONG, tuple(records), refused, None, fetched=False)
    findings, mode = _policy_findings(expect, facts, hosts, wanted)
    findings = refused + findings
    state = RecordState.WRONG if any(f.severity is Severity.ERROR for f in findings) else RecordState.PRESENT
    result = _result(expect, state, tuple(records), findings, mode, fetched=True)
    return replace(result, facts={**result.facts, **_policy_facts(facts, findings)})


def _policy_facts(facts: dict[str, Any], findings: list[Finding]) -> dict[str, str | int]:
    """What drift compares of a fetched policy: its max_age, its mx patterns, and how many
    MX hosts it leaves uncovered (0 or 1: some or none)."""
    policy = facts.get("policy")
    policy = policy if isinstance(policy, dict) else {}
    out: dict[str, str | int] = {}
    max_age = str(policy.get("max_age", ""))  # as the policy spells it (probes/policy.py)
    if max_age.isascii() and max_age.isdigit() and len(max_age) <= 10:
        out["mta_sts_max_age"] = int(max_age)
    listed = policy.get("mx")
    if isinstance(listed, list):
        out["mta_sts_mx"] = " ".join(sorted(str(p).lower() for p in listed[:100]))
    out["mta_sts_uncovered"] = int(any(f.code is Code.MTA_STS_MX_NOT_COVERED for f in findings))
    return out


def _drift_values(result: RecordResult) -> tuple[str, ...]:
    """The record and, once fetched, its policy's lines: a policy changes without its record."""
    facts = result.facts
    lines = [f"policy mode: {facts['mta_sts_mode']}"] if "mta_sts_mode" in facts else []
    lines += [f"policy max_age: {facts['mta_sts_max_age']}"] if "mta_sts_max_age" in facts else []
    lines += [f"policy mx: {p}" for p in str(facts.get("mta_sts_mx", "")).split()]
    return (*result.found, *lines)


def _mode_rank(snapshot: Published) -> int:
    """No record at all ranks below mode none."""
    return _RANK.get(str(snapshot.facts.get("mta_sts_mode", "none")), 0) if snapshot.values else -1


def _drift_reasons(before: Published, after: Published) -> list[Reason]:
    out: list[Reason] = []
    was, now = (
        _RANK.get(str(s.facts.get("mta_sts_mode", "none")), 0) if s.values else -1 for s in (before, after)
    )
    if now != was:
        out.append(Reason("mta_sts_mode_lowered" if now < was else "mta_sts_mode_raised"))
    ages = before.facts.get("mta_sts_max_age"), after.facts.get("mta_sts_max_age")
    if isinstance(ages[0], int) and isinstance(ages[1], int) and ages[0] != ages[1]:
        out.append(Reason("mta_sts_max_age_lowered" if ages[1] < ages[0] else "mta_sts_max_age_raised"))
    uncovered = before.facts.get("mta_sts_uncovered"), after.facts.get("mta_sts_uncovered")
    if uncovered == (0, 1):
        out.append(Reason("mta_sts_mx_uncovered"))
    elif uncovered == (1, 0):
        out.append(Reason("mta_sts_mx_covered"))
    return out


def _record_problem(records: list[str]) -> str | None:
    if len(records) > 1:
        return f"{len(records)} MTA-STS records: senders ignore them all; publish exactly one"
    fields = dict(_fields(records[0]))
    if fields.get("v") != "STSv1":
        return "the record must begin with v=STSv1"
    if not _ID.fullmatch(fields.get("id", "")):
        return "the record needs an id of 1 to 32 letters and digits (id=...)"
    return None


def _fields(record: str) -> list[tuple[str, str]]:
    pairs = []
    for part in record.split(";"):
        key, _, value = part.strip().partition("=")
        if key:
            pairs.append((key.strip(), value.strip()))
    return pairs


def _policy_findings(
    expect: MtaStsExpectation, facts: dict[str, Any], hosts: list[str], wanted: str
) -> tuple[list[Finding], str | None]:
    url = f"https://{expect.policy_host}{POLICY_PATH}"
    serve = Remediation(f"{expect.policy_host}{POLICY_PATH}", "HTTPS", wanted)
    problem = _fetch_problem(facts, url)
    policy = facts.get("policy")
    policy = policy if isinstance(policy, dict) else {}
    problems = policy.get("problems")
    if problem is None and isinstance(problems, list) and problems:
        problem = f"the policy at {url} is invalid: {'; '.join(str(p) for p in problems[:3])}"
    if problem is not None:
        return [Finding(Code.MTA_STS_POLICY_INVALID, Severity.ERROR, problem, remediation=serve)], None
    mode = str(policy.get("mode"))
    findings = []
    if _RANK.get(mode, 0) < _RANK[expect.mode]:
        message = f"the policy's mode is {mode}; at least {expect.mode} is required"
        findings.append(Finding(Code.MTA_STS_MODE_BELOW_REQUIRED, Severity.ERROR, message, remediation=serve))
    elif mode == "testing":
        message = "the policy is in testing mode: senders report failures but deliver anyway"
        findings.append(Finding(Code.MTA_STS_MODE_TESTING, Severity.INFO, message))
    elif mode == "none":
        message = "the policy's mode is none: senders apply no policy"
        findings.append(Finding(Code.MTA_STS_MODE_NONE, Severity.WARNING, message))
    listed = policy.get("mx")
    patterns = [str(p) for p in listed[:100]] if isinstance(listed, list) else []
    missing = [h for h in hosts if not any(covers(p, h) for p in patterns)]
    if missing and mode != "none":
        shown = ", ".join(missing[:5])
        message = f"no mx pattern of the policy matches {shown}: senders enforcing it refuse that MX"
        findings.append(Finding(Code.MTA_STS_MX_NOT_COVERED, Severity.ERROR, message, remediation=serve))
    return findings, mode if mode in MODES else None


def _fetch_problem(facts: dict[str, Any], url: str) -> str | None:
    if facts.get("certificate_error"):
        return f"the certificate of {url.split('/')[2]} is not valid for it: {facts['certificate_error']}"
    status = facts.get("status")
    if isinstance(status, int) and 300 <= status < 400:
        return (
            f"{url} answers a redirect ({status} to {facts.get('location')}): senders do not follow redirects"
        )
    if status != 200:
        return f"{url} answers HTTP {status}, not 200"
    if facts.get("oversize"):
        return f"the policy at {url} is over 64 KiB"
    if not str(facts.get("content_type", "")).lower().startswith("text/plain"):
        return f"the policy at {url} is served as {facts.get('content_type') or 'no type'}, not text/plain"
    return None


def _result(
    expect: MtaStsExpectation,
    state: RecordState,
    found: tuple[str, ...],
    findings: list[Finding],
    mode: str | None,
    *,
    fetched: bool | None = None,
) -> RecordResult:
    facts: dict[str, str | int] = {"mta_sts_mode": mode} if mode else {}
    if fetched is not None:  # an announced policy: whether senders can fetch it now
        facts["mta_sts_policy_fetched"] = int(fetched)
    expected = f"v=STSv1 and a policy in mode {expect.mode} covering every MX host"
    return RecordResult(
        expect.record, expect.name, "TXT", state, expect.required, expected, found, tuple(findings), facts
    )


def diagnose(expect: MtaStsExpectation, answers: Answers, result: RecordResult) -> Diagnosis:
    """Not verifying? A quoted or padded record, or the record with the zone appended again."""
    return mistakes.txt_record(expect.name, answers, result.state is RecordState.MISSING, _is_sts)


def _is_sts(value: str) -> bool:
    return value.startswith("v=STSv1")


def plan(domain: PlannedDomain, own: MtaStsConfig) -> list[Expectation]:
    hosts = tuple(m.host for m in domain.receiving.mx or [])
    return [
        MtaStsExpectation("mta_sts", f"_mta-sts.{domain.name}", own.required, domain.name, own.mode, hosts)
    ]


def publish(expect: MtaStsExpectation) -> tuple[Remediation, ...]:
    if not expect.hosts:
        return ()  # the policy names the MX hosts: known once they are published
    policy = policy_text(expect.mode, list(expect.hosts))
    return (
        Remediation(expect.name, "TXT", txt_record(policy)),
        Remediation(f"{expect.policy_host}{POLICY_PATH}", "HTTPS", policy),
    )


def inspect_tls(name: str, hosts: Sequence[str]) -> list[Expectation]:
    del hosts  # the policy must cover those published, which the check asks itself
    return [MtaStsExpectation("mta_sts", f"_mta-sts.{name}", False, name, "enforce")]


KIND = RecordKind(
    name="mta_sts",
    section=Section.RECEIVING,
    key="mta_sts",
    model=MtaStsConfig | None,
    default=None,
    capability="receiving",
    rdtype="TXT",
    plan=plan,
    queries=queries,
    evaluate=evaluate,
    codes=Code,
    diagnose=diagnose,
    version_tag=_is_sts,
    metrics=(
        FactMetric(
            "domainwatch_mta_sts_mode",
            "1 for the mode of the domain's MTA-STS policy (absent: no record)",
            "mta_sts_mode",
            one_hot=("mode", ("enforce", "testing", "none", "absent")),
        ),
        FactMetric(
            "domainwatch_mta_sts_policy_fetch_success",
            "1 when the announced MTA-STS policy could be fetched, 0 when not (absent: no record)",
            "mta_sts_policy_fetched",
        ),
    ),
    publish=publish,
    probes=True,
    inspect_tls=inspect_tls,
    implied=MtaStsConfig(),
    drift=DriftRules(
        _drift_reasons, ("mta_sts_mode", "mta_sts_max_age", "mta_sts_mx", "mta_sts_uncovered"), _drift_values
    ),
)
