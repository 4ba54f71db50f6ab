"""Shared SPF include trees (domainwatch/spf/subtrees.py): one domain's evaluation, alone and
with the trees other domains recorded, for a provider tree shaped like the large mailbox
providers' (a record that includes three lists of about a dozen networks each: 37 terms).

make bench's fleet includes a five-term provider tree, where sharing is worth about 2% of a
check; this measures what it is worth for the deeper trees real fleets include.

Usage: python bench/spf_trees.py [--domains 2000] [--repeat 5]   (no DNS: answers in memory)
"""

from __future__ import annotations

import argparse
import ipaddress
import statistics
import time

from domainwatch.dns.resolver import Lookup, Outcome, Query
from domainwatch.spf.evaluator import Evaluator, NeedAnswer
from domainwatch.spf.subtrees import SubtreeMemo

CLIENT = ipaddress.ip_address("203.0.113.9")  # matches nothing: every term is evaluated


def answers_for(count: int) -> dict[Query, Lookup]:
    texts = {
        "_spf.prov.test": "v=spf1 include:_n1.prov.test include:_n2.prov.test include:_n3.prov.test ~all"
    }
    for k in range(1, 4):
        ip4 = " ".join(f"ip4:{10 + k}.{j}.0.0/16" for j in range(8))
        ip6 = " ".join(f"ip6:2001:db8:{k}:{j}::/64" for j in range(3))
        texts[f"_n{k}.prov.test"] = f"v=spf1 {ip4} {ip6} ~all"
    texts |= {f"d{n}.test": "v=spf1 include:_spf.prov.test -all" for n in range(count)}
    return {
        Query(name, "TXT"): Lookup(Query(name, "TXT"), Outcome.ANSWER, (text,))
        for name, text in texts.items()
    }


def per_evaluation(answers: dict[Query, Lookup], count: int, memo: SubtreeMemo | None) -> float:
    """Microseconds of CPU per evaluation of `count` domains."""

    def lookup(query: Query) -> Lookup:
        answer = answers.get(query)
        if answer is None:
            raise NeedAnswer(query)
        return answer

    started = time.process_time()
    for n in range(count):
        Evaluator(lookup, CLIENT, f"postmaster@d{n}.test", f"d{n}.test", subtrees=memo).run(f"d{n}.test")
    return (time.process_time() - started) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--domains", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    answers = answers_for(args.domains)
    alone, shared = [], []
    for _ in range(args.repeat):  # alternately, so drift in the machine's speed hits both
        alone.append(per_evaluation(answers, args.domains, None))
        shared.append(per_evaluation(answers, args.domains, SubtreeMemo()))
    a, s = statistics.median(alone), statistics.median(shared)
    print(f"SPF evaluation with a 37-term provider tree: alone {a:.1f} us, shared {s:.1f} us ({a / s:.1f}x)")


if __name__ == "__main__":
    main()
