"""The SPF check: presence, uniqueness, limits, loops, authorization, and lookup errors."""

from __future__ import annotations

import ipaddress
from enum import StrEnum

import pytest

from domainwatch.checks.kinds.spf.kind import Code as SpfCode
from domainwatch.checks.kinds.spf.kind import SpfExpectation
from domainwatch.dns.resolver import Lookup, Outcome, Query
from domainwatch.model import CommonCode, RecordState
from domainwatch.spf.offline import evaluate_offline
from domainwatch.spf.types import Evaluation, Result
from tests.helpers import Zone, codes, run_check

RP = "send.example.com"
SES = SpfExpectation("spf", RP, True, ("amazonses.com",))
PROVIDER: Zone = {("amazonses.com", "TXT"): ["v=spf1 ip4:199.255.192.0/22 -all"]}


def zone(record: str | None, **extra: list[str]) -> Zone:
    data: dict[tuple[str, str], list[str] | Outcome] = dict(PROVIDER)  # type: ignore[arg-type]
    if record is not None:
        data[(RP, "TXT")] = [record]
    for name, values in extra.items():
        data[(name.replace("_", "."), "TXT")] = values
    return data


async def test_expected_include_present_is_present() -> None:
    """The provider's include in a valid record verifies the record."""
    result = await run_check(SES, zone("v=spf1 include:amazonses.com ~all"))
    assert RecordState.PRESENT == result.state
    assert ("v=spf1 include:amazonses.com ~all",) == result.found
    assert 1 == result.facts["spf_dns_lookups"]


async def test_nested_include_authorizes() -> None:
    """An include reached through another include still authorizes the provider."""
    data = dict(zone("v=spf1 include:_spf.example.com -all"))
    data[("_spf.example.com", "TXT")] = ["v=spf1 include:amazonses.com -all"]
    result = await run_check(SES, data)
    assert RecordState.PRESENT == result.state
    assert 2 == result.facts["spf_dns_lookups"]


async def test_redirect_authorizes() -> None:
    """redirect= hands the whole policy to another record, which may hold the include."""
    data = dict(zone("v=spf1 redirect=_spf.example.com"))
    data[("_spf.example.com", "TXT")] = ["v=spf1 include:amazonses.com -all"]
    assert RecordState.PRESENT == (await run_check(SES, data)).state


async def test_no_record_is_missing_with_the_record_to_publish() -> None:
    """NXDOMAIN means missing, and the remediation is the exact record."""
    result = await run_check(SES, zone(None))
    assert RecordState.MISSING == result.state
    finding = result.findings[0]
    assert SpfCode.SPF_MISSING == finding.code
    assert finding.remediation is not None
    assert "v=spf1 include:amazonses.com ~all" == finding.remediation.value
    assert (RP, "TXT") == (finding.remediation.name, finding.remediation.type)


async def test_other_txt_records_only_is_missing() -> None:
    """TXT records that are not SPF do not count as an SPF record."""
    data = {(RP, "TXT"): ["google-site-verification=abc"]}
    assert RecordState.MISSING == (await run_check(SES, data)).state


@pytest.mark.parametrize("outcome", [Outcome.TIMEOUT, Outcome.SERVFAIL, Outcome.REFUSED, Outcome.MALFORMED])
async def test_lookup_errors_are_errors_never_missing(outcome: Outcome) -> None:
    """A timeout or SERVFAIL says nothing about the record: state error."""
    result = await run_check(SES, {(RP, "TXT"): outcome})
    assert RecordState.ERROR == result.state
    assert {CommonCode.LOOKUP_ERROR} == codes(result)


async def test_error_inside_include_tree_is_error_when_it_decides() -> None:
    """If the include that might authorize cannot be fetched, the verdict is error, not wrong."""
    data = dict(zone("v=spf1 include:_spf.example.com -all"))
    data[("_spf.example.com", "TXT")] = Outcome.SERVFAIL
    assert RecordState.ERROR == (await run_check(SES, data)).state


async def test_missing_include_is_wrong_with_minimal_fix() -> None:
    """A record without the provider is wrong; the fix puts the include first (where no other
    term can match the provider's mail before it) and keeps the rest, and the user's -all."""
    google = {("_spf.google.com", "TXT"): ["v=spf1 ip4:192.0.2.0/24 -all"]}
    result = await run_check(SES, {**zone("v=spf1 include:_spf.google.com -all"), **google})
    assert RecordState.WRONG == result.state
    finding = next(f for f in result.findings if f.code is SpfCode.SPF_NOT_AUTHORIZED)
    assert finding.remediation is not None
    assert "v=spf1 include:amazonses.com include:_spf.google.com -all" == finding.remediation.value


async def test_negated_include_does_not_authorize() -> None:
    """-include: matches mean fail; it does not authorize the provider."""
    result = await run_check(SES, zone("v=spf1 -include:amazonses.com ~all"))
    assert SpfCode.SPF_NOT_AUTHORIZED in codes(result)


async def test_several_records_is_wrong() -> None:
    """Two v=spf1 records are a permerror for receivers."""
    data = {(RP, "TXT"): ["v=spf1 include:amazonses.com ~all", "v=spf1 -all"]}
    result = await run_check(SES, data)
    assert (RecordState.WRONG, {SpfCode.SPF_MULTIPLE}) == (result.state, codes(result))


async def test_syntax_error_is_wrong_with_position() -> None:
    """A syntax error makes the record wrong and names the column."""
    result = await run_check(SES, zone("v=spf1 include:amazonses.com ip4:1.2.3 ~all"))
    assert RecordState.WRONG == result.state
    assert "column 34" in result.findings[0].message


async def test_more_than_ten_lookups_is_wrong() -> None:
    """Eleven DNS-querying terms exceed the limit of RFC 7208 §4.6.4."""
    includes = " ".join(f"include:i{n}.example.net" for n in range(10))
    data = dict(zone(f"v=spf1 include:amazonses.com {includes} -all"))
    for n in range(10):
        data[(f"i{n}.example.net", "TXT")] = ["v=spf1 -all"]
    result = await run_check(SES, data)
    assert SpfCode.SPF_TOO_MANY_LOOKUPS in codes(result)
    assert 11 == result.facts["spf_dns_lookups"]
    assert RecordState.WRONG == result.state


async def test_exactly_ten_lookups_is_fine() -> None:
    """Ten is the limit, not over it."""
    includes = " ".join(f"include:i{n}.example.net" for n in range(9))
    data = dict(zone(f"v=spf1 include:amazonses.com {includes} -all"))
    for n in range(9):
        data[(f"i{n}.example.net", "TXT")] = ["v=spf1 -all"]
    result = await run_check(SES, data)
    assert (RecordState.PRESENT, 10) == (result.state, result.facts["spf_dns_lookups"])


async def test_more_than_two_void_lookups_is_wrong() -> None:
    """a/mx/exists terms that find nothing count as void lookups; three exceed the limit."""
    result = await run_check(
        SES,
        zone("v=spf1 include:amazonses.com a:v1.example.org mx:v2.example.org exists:v3.example.org -all"),
    )
    assert SpfCode.SPF_TOO_MANY_VOID_LOOKUPS in codes(result)
    assert 3 == result.facts["spf_void_lookups"]


async def test_include_loop_is_reported() -> None:
    """An include that leads back to the record is a loop."""
    data = dict(zone("v=spf1 include:amazonses.com include:_a.example.com -all"))
    data[("_a.example.com", "TXT")] = ["v=spf1 include:send.example.com -all"]
    result = await run_check(SES, data)
    loop = next(f for f in result.findings if f.code is SpfCode.SPF_LOOP)
    assert "send.example.com -> _a.example.com -> send.example.com" in loop.message


async def test_a_record_including_itself_is_one_loop() -> None:
    """`include:` of the record's own name: one spf_loop finding, not one per turn (#20)."""
    inspect = SpfExpectation("spf", "example.com", False)
    result = await run_check(inspect, {("example.com", "TXT"): ["v=spf1 include:example.com"]})
    loops = [f for f in result.findings if f.code is SpfCode.SPF_LOOP]
    assert ["include loop: example.com -> example.com"] == [f.message for f in loops]


async def test_ptr_is_discouraged_whatever_its_domain_spec() -> None:
    """`ptr:%{d}` is not followed (it depends on the sender) and is still a ptr (#20)."""
    result = await run_check(SES, zone("v=spf1 include:amazonses.com ptr:%{d} -all"))
    assert {SpfCode.SPF_PTR, SpfCode.SPF_MACRO_NOT_FOLLOWED} <= codes(result)


async def test_include_without_spf_record_is_reported() -> None:
    """Including a name with no SPF record is a permerror at evaluation."""
    result = await run_check(SES, zone("v=spf1 include:amazonses.com include:nothing.example.org -all"))
    assert SpfCode.SPF_INCLUDE_INVALID in codes(result)


@pytest.mark.parametrize(
    ("all_term", "code", "state"),
    [
        ("+all", SpfCode.SPF_PASS_ALL, RecordState.WRONG),
        ("all", SpfCode.SPF_PASS_ALL, RecordState.WRONG),
        ("?all", SpfCode.SPF_NEUTRAL_ALL, RecordState.PRESENT),
    ],
)
async def test_permissive_all(all_term: str, code: StrEnum, state: RecordState) -> None:
    """+all authorizes the internet (error); ?all asserts nothing (warning)."""
    result = await run_check(SES, zone(f"v=spf1 include:amazonses.com {all_term}"))
    assert code in codes(result)
    assert state == result.state


async def test_pass_all_fix_replaces_it() -> None:
    """The fix for +all is the same record with ~all."""
    result = await run_check(SES, zone("v=spf1 include:amazonses.com +all"))
    finding = next(f for f in result.findings if f.code is SpfCode.SPF_PASS_ALL)
    assert finding.remediation is not None
    assert "v=spf1 include:amazonses.com ~all" == finding.remediation.value


async def test_ptr_is_a_warning() -> None:
    """ptr SHOULD NOT be used (§5.5)."""
    result = await run_check(SES, zone("v=spf1 include:amazonses.com ptr -all"))
    assert (RecordState.PRESENT, True) == (result.state, SpfCode.SPF_PTR in codes(result))


async def test_record_over_512_octets_is_a_warning() -> None:
    """A record too long for a classic UDP answer is flagged."""
    padding = " ".join(f"ip4:192.0.2.{n}" for n in range(40))
    result = await run_check(SES, zone(f"v=spf1 include:amazonses.com {padding} -all"))
    assert SpfCode.SPF_RECORD_TOO_LONG in codes(result)


async def test_long_remediation_says_to_split_strings() -> None:
    """A record to publish over 255 octets must be published as several strings."""
    many = tuple(ipaddress.ip_network(f"192.0.2.{n}/32") for n in range(1, 25))
    result = await run_check(SpfExpectation("spf", RP, True, (), many), {})
    assert SpfCode.SPF_STRING_TOO_LONG in codes(result)


async def test_expected_network_covered_by_published_range() -> None:
    """An expected address inside a published ip4 range is authorized."""
    expect = SpfExpectation("spf", RP, True, (), (ipaddress.ip_network("192.0.2.7/32"),))
    result = await run_check(expect, {(RP, "TXT"): ["v=spf1 ip4:192.0.2.0/24 -all"]})
    assert RecordState.PRESENT == result.state


async def test_expected_network_not_covered_is_wrong() -> None:
    """An expected range wider than what is published is not authorized."""
    expect = SpfExpectation("spf", RP, True, (), (ipaddress.ip_network("192.0.2.0/23"),))
    result = await run_check(expect, {(RP, "TXT"): ["v=spf1 ip4:192.0.2.0/24 -all"]})
    finding = next(f for f in result.findings if f.code is SpfCode.SPF_NOT_AUTHORIZED)
    assert finding.remediation is not None
    assert "v=spf1 ip4:192.0.2.0/23 ip4:192.0.2.0/24 -all" == finding.remediation.value


async def test_macro_include_is_not_followed() -> None:
    """Macros depend on the sender; the check says so instead of guessing."""
    result = await run_check(SES, zone("v=spf1 include:amazonses.com exists:%{i}.bl.example.com -all"))
    assert SpfCode.SPF_MACRO_NOT_FOLLOWED in codes(result)


async def test_hostile_include_tree_is_bounded() -> None:
    """A chain of 100 includes is cut off, not fetched to the end."""
    data: dict[tuple[str, str], list[str]] = {(RP, "TXT"): ["v=spf1 include:n0.example.org -all"]}
    for n in range(100):
        data[(f"n{n}.example.org", "TXT")] = [f"v=spf1 include:n{n + 1}.example.org -all"]
    result = await run_check(SES, data)
    assert SpfCode.SPF_TOO_MANY_LOOKUPS in codes(result)


AUTHORIZE = SpfExpectation("spf", RP, True, (), (ipaddress.ip_network("199.255.192.7/32"),))


async def test_flattened_record_that_passes_is_present() -> None:
    """authorize: a record without the provider's include still verifies if the address passes."""
    result = await run_check(AUTHORIZE, {(RP, "TXT"): ["v=spf1 ip4:199.255.192.0/22 -all"]})
    assert (RecordState.PRESENT, set()) == (result.state, codes(result))


async def test_include_over_the_limit_does_not_authorize() -> None:
    """A record that names the provider but evaluates to permerror is wrong for authorize:."""
    includes = " ".join(f"include:i{n}.example.net" for n in range(10))
    data: dict[tuple[str, str], list[str]] = {
        (RP, "TXT"): [f"v=spf1 {includes} include:amazonses.com -all"],
        ("amazonses.com", "TXT"): ["v=spf1 ip4:199.255.192.0/22 -all"],
    }
    for n in range(10):
        data[(f"i{n}.example.net", "TXT")] = ["v=spf1 -all"]
    result = await run_check(AUTHORIZE, data)
    assert RecordState.WRONG == result.state
    not_authorized = next(f for f in result.findings if f.code is SpfCode.SPF_NOT_AUTHORIZED)
    assert "check_host(199.255.192.7) = permerror" in not_authorized.message


async def test_authorize_checks_both_ends_of_a_cidr() -> None:
    """A /23 is authorized only if its first and last addresses pass."""
    expect = SpfExpectation("spf", RP, True, (), (ipaddress.ip_network("192.0.2.0/23"),))
    result = await run_check(expect, {(RP, "TXT"): ["v=spf1 ip4:192.0.2.0/24 -all"]})
    finding = next(f for f in result.findings if f.code is SpfCode.SPF_NOT_AUTHORIZED)
    assert "check_host(192.0.3.255) = fail" in finding.message


async def test_authorize_temperror_is_error_not_wrong() -> None:
    """If the evaluation cannot finish (SERVFAIL in an include), the state is error."""
    data = {
        (RP, "TXT"): ["v=spf1 include:slow.example.net -all"],
        ("slow.example.net", "TXT"): Outcome.SERVFAIL,
    }
    assert RecordState.ERROR == (await run_check(AUTHORIZE, data)).state


def test_an_offline_run_is_reused_only_while_every_answer_it_read_is_unchanged() -> None:
    root = Query("a.example", "TXT")
    include = Query("p.example", "TXT")
    answers = {
        root: Lookup(root, Outcome.ANSWER, ("v=spf1 include:p.example -all",), 300),
        include: Lookup(include, Outcome.ANSWER, ("v=spf1 ip4:192.0.2.1 -all",), 300),
    }
    assert evaluate_offline({root: answers[root]}, "192.0.2.1", "a.example") == include
    first = evaluate_offline(answers, "192.0.2.1", "a.example")
    assert isinstance(first, Evaluation)
    assert first.result is Result.PASS
    assert evaluate_offline(dict(answers), "192.0.2.1", "a.example") is first
    changed = {**answers, include: Lookup(include, Outcome.ANSWER, ("v=spf1 -all",), 300)}
    again = evaluate_offline(changed, "192.0.2.1", "a.example")
    assert isinstance(again, Evaluation)
    assert again.result is Result.FAIL
