"""`domainwatch spf-eval`: evaluate SPF exactly as a receiving mail server does (a contract:
scripts call it). Exit 0 whatever the SPF result; 2 for a usage error."""

from __future__ import annotations

import argparse
import json
import sys

from domainwatch.cli.common import resolver_settings
from domainwatch.config.schema import ResolverConfig
from domainwatch.dns.factory import close, resolver_from
from domainwatch.present.report import safe_text
from domainwatch.runtime import aio
from domainwatch.spf.shell import check_host
from domainwatch.spf.types import Evaluation


def run(args: argparse.Namespace) -> int:
    settings = resolver_settings(ResolverConfig(), args)
    if not args.mail_from.strip() and not args.helo.strip():
        print(
            "domainwatch spf-eval: an empty --mail-from checks the HELO identity: give --helo",
            file=sys.stderr,
        )
        return 2
    evaluation = aio.run(_evaluate(settings, args))
    sys.stdout.write(json.dumps(as_json(evaluation)) + "\n" if args.json else readable(evaluation))
    return 0


async def _evaluate(settings: ResolverConfig, args: argparse.Namespace) -> Evaluation:
    resolver = resolver_from(settings)
    try:
        return await check_host(resolver, args.ip, args.mail_from, args.helo)
    finally:
        await close(resolver)


def as_json(evaluation: Evaluation) -> dict[str, object]:
    return {
        "result": evaluation.result.value,
        "explanation": evaluation.explanation,
        "dns_lookups": evaluation.dns_lookups,
        "void_lookups": evaluation.void_lookups,
        "problem": evaluation.problem.value if evaluation.problem else None,
        "message": evaluation.message or None,
        "trace": [step.as_dict() for step in evaluation.trace],
    }


def readable(evaluation: Evaluation) -> str:
    lines = [f"result: {evaluation.result.value}"]
    if evaluation.message:
        lines.append(f"because: {safe_text(evaluation.message)}")
    if evaluation.explanation is not None:
        lines.append(f"explanation: {safe_text(evaluation.explanation)}")
    lines.append(f"dns lookups: {evaluation.dns_lookups} of 10, void lookups: {evaluation.void_lookups} of 2")
    for step in evaluation.trace:
        indent = "  " * (step.depth + 1)
        lines.append(f"{indent}{safe_text(step.domain)}: {safe_text(step.term)} -> {safe_text(step.outcome)}")
        lines.extend(f"{indent}    {safe_text(lookup)}" for lookup in step.lookups)
    return "\n".join(lines) + "\n"
