"""check_host() of RFC 7208 as a pure, synchronous core over a lookup function.

The lookup function answers from what has been resolved so far and raises NeedAnswer for
anything else; the async shell (engine.py) resolves that query and runs the evaluation again.
Re-running from the start is cheap (the limits bound an evaluation to a few dozen lookups) and
keeps this core free of I/O, so the static SPF check and `spf-eval` share one engine.
"""

from __future__ import annotations

import ipaddress
import weakref
from collections.abc import Callable

from domainwatch.dns.resolver import Outcome, Query
from domainwatch.spf.lookups import MAX_NAMES, Abort, LookupFn, Lookups
from domainwatch.spf.macros import IPAddress, MacroContext, MacroError, as_domain, expand, is_valid_name
from domainwatch.spf.subtrees import Read, Subtree, SubtreeMemo
from domainwatch.spf.syntax import Mechanism, Qualifier, SpfRecord, is_spf, parse
from domainwatch.spf.types import Evaluation, Problem, Reached, Result, Step

_QUALIFIED = {
    Qualifier.PASS: Result.PASS,
    Qualifier.FAIL: Result.FAIL,
    Qualifier.SOFTFAIL: Result.SOFTFAIL,
    Qualifier.NEUTRAL: Result.NEUTRAL,
}


class NeedAnswer(Exception):  # noqa: N818 (a signal to the shell, not an error)
    def __init__(self, query: Query) -> None:
        super().__init__(query)
        self.query = query


class Evaluator(Lookups):
    """One check_host() run. `ip=None` is the probe mode of the static check: nothing matches but
    "all", every term is counted, and terms with macros are not followed."""

    def __init__(
        self,
        lookup: LookupFn,
        ip: IPAddress | None,
        sender: str,
        helo: str,
        *,
        receiver: str = "unknown",
        timestamp: int = 0,
        subtrees: SubtreeMemo | None = None,
    ) -> None:
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # §5: IPv4-mapped addresses are IPv4
        self.lookup, self.ip = lookup, ip
        local, _, domain = sender.rpartition("@")
        self.ctx = MacroContext(
            f"{local or 'postmaster'}@{domain}", ip, helo, receiver, timestamp, _weak_method(self)
        )
        self.out = Evaluation()
        self._stack: list[str] = []
        # Included trees shared between evaluations (subtrees.py): what the trees being recorded
        # read, and how many macro specs this evaluation has met (a tree that meets one is not kept).
        self._subtrees = subtrees
        self._reads: list[list[Read]] = []
        self._macros = 0

    # -- entry ----------------------------------------------------------------------------------
    def run(self, domain: str) -> Evaluation:
        try:
            result, exp = self._check_host(domain.rstrip(".").lower(), depth=0, passing=True)
            self.out.result = result
            if result is Result.FAIL and exp is not None:
                self.out.explanation = self._explain(*exp)
        except Abort as abort:
            self.out.result, self.out.problem, self.out.message = abort.result, abort.problem, abort.message
        return self.out

    # -- §4: check_host -------------------------------------------------------------------------
    def _check_host(self, domain: str, depth: int, passing: bool) -> tuple[Result, tuple[str, str] | None]:
        if not is_valid_name(domain) or domain.startswith("["):
            return Result.NONE, None  # §4.3: malformed or not multi-label
        txt = self._ask(Query(domain, "TXT"), self.out.trace[-1] if depth and self.out.trace else None)
        if txt.outcome.is_error:
            raise Abort(Result.TEMPERROR, Problem.DNS_ERROR, f"TXT lookup of {domain}: {txt.outcome.value}")
        records = [r for r in txt.records if is_spf(r)]
        if not records:
            return Result.NONE, None
        if len(records) > 1:
            raise Abort(Result.PERMERROR, Problem.MULTIPLE_RECORDS, f"{len(records)} SPF records at {domain}")
        record = parse(records[0])
        if record.errors:
            raise Abort(Result.PERMERROR, Problem.SYNTAX, f"{domain}: {record.errors[0]}")
        self._stack.append(domain)
        try:
            return self._evaluate(record, domain, depth, passing)
        finally:
            self._stack.pop()

    def _evaluate(
        self, record: SpfRecord, domain: str, depth: int, passing: bool
    ) -> tuple[Result, tuple[str, str] | None]:
        exp = record.modifier("exp")
        for mech in record.mechanisms:
            if self._matches(mech, domain, depth, passing and mech.qualifier is Qualifier.PASS):
                if depth == 0 or self.out.matched is None:
                    self.out.matched = mech.text
                return _QUALIFIED[mech.qualifier], (exp.value, domain) if exp else None
        redirect = record.modifier("redirect")
        if redirect is not None and not any(m.kind == "all" for m in record.mechanisms):
            return self._redirect(redirect.value, domain, depth, passing)
        return Result.NEUTRAL, (exp.value, domain) if exp else None

    # -- §5: mechanisms -------------------------------------------------------------------------
    def _matches(self, mech: Mechanism, domain: str, depth: int, passing: bool) -> bool:
        step = Step(domain, depth, mech.text, "no match")
        self.out.trace.append(step)
        if mech.kind == "all":
            step.outcome = "match"
            return True
        if mech.kind in ("ip4", "ip6"):
            assert mech.network is not None
            self.out.reached.append(Reached(mech.kind, str(mech.network), passing))
            hit = self.ip is not None and self.ip.version == mech.network.version and self.ip in mech.network
            step.outcome = "match" if hit else "no match"
            return hit
        self._count_term(step)
        target = self._target(mech, domain, step)
        if target is None:
            return False
        handlers = {
            "include": self._include,
            "a": self._a,
            "mx": self._mx,
            "ptr": self._ptr,
            "exists": self._exists,
        }
        hit = handlers[mech.kind](mech, target, step, depth, passing)
        step.outcome = "match" if hit else step.outcome
        return hit

    def _target(self, mech: Mechanism, domain: str, step: Step) -> str | None:
        spec = mech.domain_spec
        if spec is None:
            return domain
        self._macros += "%" in spec
        if self.ip is None and "%" in spec:
            self.out.reached.append(Reached("macro", spec, False))
            step.outcome = "not followed: depends on the sender"
            return None
        try:
            target = as_domain(expand(spec, self.ctx, domain))
        except MacroError as exc:
            raise Abort(Result.PERMERROR, Problem.SYNTAX, str(exc)) from None
        if not is_valid_name(target):
            step.outcome = f"no match: {target!r} is not a valid domain name"
            return None
        return target.lower()

    def _include(self, mech: Mechanism, target: str, step: Step, depth: int, passing: bool) -> bool:
        self.out.reached.append(Reached("include", target, passing))
        self._note_loop(target)
        result, _ = self._included(target, depth + 1, passing)  # an included exp= is never used
        step.outcome = f"include result {result.value}"
        if result is Result.NONE:
            raise Abort(Result.PERMERROR, Problem.INCLUDE_NONE, f"include:{target} has no SPF record")
        return result is Result.PASS

    def _redirect(
        self, spec: str, domain: str, depth: int, passing: bool
    ) -> tuple[Result, tuple[str, str] | None]:
        step = Step(domain, depth, f"redirect={spec}", "followed")
        self.out.trace.append(step)
        self._count_term(step)
        self._macros += "%" in spec
        if self.ip is None and "%" in spec:
            step.outcome = "not followed: depends on the sender"
            return Result.NEUTRAL, None
        try:
            target = as_domain(expand(spec, self.ctx, domain)).lower()
        except MacroError as exc:
            raise Abort(Result.PERMERROR, Problem.SYNTAX, str(exc)) from None
        self.out.reached.append(Reached("include", target, passing))
        self._note_loop(target)
        result, exp = self._included(target, depth + 1, passing)  # the target's exp= applies
        if result is Result.NONE:
            raise Abort(Result.PERMERROR, Problem.REDIRECT_NONE, f"redirect={target} has no SPF record")
        return result, exp

    def _a(self, mech: Mechanism, target: str, step: Step, depth: int, passing: bool) -> bool:
        del depth, passing
        addresses = self._addresses(target, step, count_void=True)
        return any(self._in(mech, address) for address in addresses)

    def _mx(self, mech: Mechanism, target: str, step: Step, depth: int, passing: bool) -> bool:
        del depth, passing
        answer = self._ask(Query(target, "MX"), step)
        if answer.outcome.is_error:
            raise Abort(Result.TEMPERROR, Problem.DNS_ERROR, f"MX lookup of {target}: {answer.outcome.value}")
        if answer.outcome.is_void:
            self._void(step)
            return False
        hosts = [r.partition(" ")[2] for r in answer.records]
        hosts = [h for h in hosts if h and h != "."]  # a null MX names no host
        if len(hosts) > MAX_NAMES:
            raise Abort(
                Result.PERMERROR, Problem.TOO_MANY_MX, f"{target} has {len(hosts)} MX hosts (limit 10)"
            )
        if self.ip is None:
            return False
        return any(self._in(mech, a) for host in hosts for a in self._addresses(host, step, count_void=False))

    def _ptr(self, mech: Mechanism, target: str, step: Step, depth: int, passing: bool) -> bool:
        del mech, depth, passing
        self.out.uses_ptr = True
        names = self._validated_names(step)
        return any(n == target or n.endswith("." + target) for n in names)

    def _exists(self, mech: Mechanism, target: str, step: Step, depth: int, passing: bool) -> bool:
        del mech, depth, passing
        answer = self._ask(Query(target, "A"), step)  # always A, even for an IPv6 client (§5.7)
        if answer.outcome.is_error:
            raise Abort(Result.TEMPERROR, Problem.DNS_ERROR, f"A lookup of {target}: {answer.outcome.value}")
        if answer.outcome.is_void:
            self._void(step)
            return False
        return self.ip is not None

    # -- shared included trees (subtrees.py) ---------------------------------------------------
    def _included(self, target: str, depth: int, passing: bool) -> tuple[Result, tuple[str, str] | None]:
        """_check_host of an include or redirect target, replayed from an equal start if one
        was recorded, and recorded otherwise."""
        if self._subtrees is None:
            return self._check_host(target, depth, passing)
        out = self.out
        start = (
            target,
            depth,
            passing,
            self.ip,
            out.dns_lookups,
            out.void_lookups,
            out.matched is None,
            out.uses_ptr,
        )
        tree = self._subtrees.get(start)
        if tree is not None and self._replay(tree):
            return tree.result, tree.exp
        parent, macros = out.trace[-1], self._macros
        marks = (len(out.trace), len(out.reached), len(parent.lookups))
        reads: list[Read] = []
        self._reads.append(reads)
        try:
            result, exp = self._check_host(target, depth, passing)
        finally:
            self._reads.pop()
        if self._macros == macros:  # no macro met: the sender's would be this domain's own
            tree = Subtree(
                tuple(reads),
                tuple(out.trace[marks[0] :]),
                tuple(out.reached[marks[1] :]),
                tuple(parent.lookups[marks[2] :]),
                out.dns_lookups,
                out.void_lookups,
                out.matched,
                out.uses_ptr,
                result,
                exp,
            )
            self._subtrees.put(start, tree)
        return result, exp

    def _replay(self, tree: Subtree) -> bool:
        """Take a recorded tree if it reads the same answers here (else False: evaluate it)."""
        for query, outcome, records in tree.reads:
            try:
                answer = self.lookup(query)
            except NeedAnswer:
                return False  # evaluated instead, it asks for the missing answer itself
            if answer.outcome is not outcome or answer.records != records:
                return False
        out = self.out
        for reads in self._reads:
            reads.extend(tree.reads)
        out.trace[-1].lookups.extend(tree.parent_lookups)
        out.trace.extend(tree.steps)
        out.reached.extend(tree.reached)
        out.dns_lookups, out.void_lookups, out.uses_ptr = tree.dns_lookups, tree.void_lookups, tree.uses_ptr
        if out.matched is None:
            out.matched = tree.matched
        return True

    # -- helpers --------------------------------------------------------------------------------
    def _note_loop(self, target: str) -> None:
        """A loop is reported once, at its first turn: evaluation goes round it until the lookup
        limit ends it, which would otherwise report it again at every turn."""
        if target in self._stack and not any(target in loop.split(" -> ") for loop in self.out.loops):
            start = self._stack.index(target)
            self.out.loops.append(" -> ".join([*self._stack[start:], target]))

    def _explain(self, spec: str, domain: str) -> str | None:
        """§6.2: any problem (macros, DNS, not exactly one record, bad text) means no explanation."""
        try:
            target = as_domain(expand(spec, self.ctx, domain))
            if not is_valid_name(target):
                return None
            answer = self.lookup(Query(target.lower(), "TXT"))
            if answer.outcome is not Outcome.ANSWER or len(answer.records) != 1:
                return None
            text = answer.records[0]
            if not text.isascii():
                return None
            return expand(text, self.ctx, domain, explanation=True)
        except MacroError:
            return None


def _weak_method(evaluator: Evaluator) -> Callable[[str], str]:
    """%{p} for the context without a reference cycle (evaluator -> context -> bound method ->
    evaluator): a cycle made every evaluation garbage only the collector could free, a third of
    what it scanned in a daemon round."""
    ref = weakref.ref(evaluator)

    def validated_name(domain: str) -> str:
        alive = ref()
        return alive._validated_name(domain) if alive is not None else "unknown"

    return validated_name
