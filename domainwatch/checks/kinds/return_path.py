"""A return path that is a CNAME (`sending.return_path: {label, cname}`): the return-path name
points to the provider's host, which publishes the SPF and MX the return path needs (Postmark's
pm-bounces, SendGrid's em<id>). It counts toward sending in place of `spf` and
`return_path_mx`, which such a domain does not plan."""

from __future__ import annotations

import enum
from typing import Any

from domainwatch.checks.base import (
    Answers,
    Expectation,
    PlannedDomain,
    RecordKind,
    Section,
    return_path_cname,
    return_path_host,
)
from domainwatch.checks.kinds import cname
from domainwatch.checks.kinds.cname import CnameExpectation
from domainwatch.model import RecordResult


class Code(enum.StrEnum):
    RETURN_PATH_CNAME_MISSING = "return_path_cname_missing"
    RETURN_PATH_CNAME_WRONG = "return_path_cname_wrong"


def evaluate(expect: CnameExpectation, answers: Answers) -> RecordResult:
    return cname.evaluate(expect, answers, Code.RETURN_PATH_CNAME_MISSING, Code.RETURN_PATH_CNAME_WRONG)


def plan(domain: PlannedDomain, own: Any) -> list[Expectation]:
    """Nothing for a return path that is a label (its SPF and MX are the `spf` and `mx` keys')."""
    del own
    target = return_path_cname(domain)
    if target is None:
        return []
    return [CnameExpectation("return_path_cname", return_path_host(domain), True, target)]


KIND = RecordKind(
    name="return_path_cname",
    section=Section.SENDING,
    # The section's own `return_path` key (config/domains.py defines it: a label or a CNAME).
    key="return_path",
    model=None,
    default=None,
    capability="sending",
    rdtype="CNAME",
    plan=plan,
    queries=cname.queries,
    evaluate=evaluate,
    codes=Code,
    diagnose=cname.diagnose,
    publish=cname.publish,
    drift=cname.DRIFT,
)
