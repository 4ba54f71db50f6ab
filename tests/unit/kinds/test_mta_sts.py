"""MTA-STS records and policies (checks/kinds/mta_sts.py), evaluated directly over a fetched
policy's facts."""

from __future__ import annotations

import pytest

from domainwatch.checks.kinds.mta_sts import MtaStsExpectation, evaluate, policy_text, txt_record
from domainwatch.dns.resolver import Query
from domainwatch.model import RecordState
from domainwatch.probes.answers import MTA_STS_POLICY
from domainwatch.probes.policy import read_policy
from tests.unit.kinds.answers import answers

DOMAIN = "example.com"
MX = ("mx1.example.com", "mx2.example.com")
EXPECT = MtaStsExpectation("mta_sts", f"_mta-sts.{DOMAIN}", True, DOMAIN, "enforce", MX)
POLICY = Query.of(f"mta-sts.{DOMAIN}", MTA_STS_POLICY)


def served(text: str, **extra: object) -> dict[str, object]:
    return {
        "status": 200,
        "content_type": "text/plain",
        "oversize": False,
        "policy": read_policy(text),
        **extra,
    }


def check(record: list[str], facts: dict[str, object] | None) -> tuple[RecordState, list[str]]:
    result = evaluate(EXPECT, answers({(EXPECT.name, "TXT"): record}, {POLICY: facts} if facts else None))
    return result.state, [f.code.value for f in result.findings]


def test_a_valid_record_and_policy_are_present() -> None:
    text = policy_text("enforce", list(MX))
    assert (RecordState.PRESENT, []) == check([txt_record(text)], served(text))


@pytest.mark.parametrize(
    ("facts", "code"),
    [
        (served(policy_text("testing", list(MX))), "mta_sts_mode_below_required"),
        (served(policy_text("enforce", ["mx9.example.com"])), "mta_sts_mx_not_covered"),
        (served("version: STSv1\nmode: sometimes\n"), "mta_sts_policy_invalid"),
        (
            {"status": 301, "location": "https://x/p.txt", "content_type": "", "oversize": False},
            "mta_sts_policy_invalid",
        ),
        ({"certificate_error": "hostname mismatch"}, "mta_sts_policy_invalid"),
        ({"refused": [{"address": "169.254.169.254", "class": "link-local"}]}, "probe_address_not_global"),
    ],
)
def test_each_policy_problem_is_wrong_with_its_code(facts: dict[str, object], code: str) -> None:
    state, codes = check(["v=STSv1; id=abc"], facts)
    assert (RecordState.WRONG, code) == (state, codes[0])


def test_no_record_is_missing_with_the_record_and_policy_to_publish() -> None:
    state, codes = check([], None)
    assert (RecordState.MISSING, ["mta_sts_missing"]) == (state, codes)


def test_an_unfetched_policy_is_an_error_never_a_failure() -> None:
    state, codes = check(["v=STSv1; id=abc"], None)
    assert (RecordState.ERROR, ["mta_sts_policy_unreachable"]) == (state, codes)
