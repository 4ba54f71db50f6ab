"""Domain-level engine: config reconciliation, reports, aggregates, and the changes it records."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from domainwatch.model import DomainReport, RecordResult, RecordState
from domainwatch.state.domain import (
    DomainTrack,
    RecordSpec,
    apply_report,
    reconcile,
    reconcile_anew,
    request_verification,
    window_deadline,
)
from domainwatch.state.rules import RecordTrack, Rules, Status
from tests.examples import examples

T0 = datetime(2026, 1, 1, tzinfo=UTC)
RULES = Rules(timedelta(hours=72), 2)
SPECS = (
    RecordSpec("spf", "sending", "f1"),
    RecordSpec("dkim:s1", "sending", "f2"),
    RecordSpec("receiving_mx", "receiving", "f3"),
    RecordSpec("dmarc", None, "f4"),
)


def report(**states: RecordState) -> DomainReport:
    records = tuple(
        RecordResult(
            spec.record,
            f"{spec.record}.example.com",
            "TXT",
            states.get(_key(spec.record), RecordState.PRESENT),
            spec.capability is not None,
            None,
            ("v",),
            (),
        )
        for spec in SPECS
    )
    return DomainReport("example.com", records)


def _key(record: str) -> str:
    return record.replace(":", "_")


def fresh() -> DomainTrack:
    track, _ = reconcile(None, "example.com", True, SPECS, T0)
    return track


def test_new_domain_starts_pending_with_one_change_per_record_and_aggregate() -> None:
    """verify: true at load: every record not_started -> pending, and the aggregates follow."""
    track, changes = reconcile(None, "example.com", True, SPECS, T0)
    assert Status.PENDING == track.status
    kinds = [(c.kind, c.subject, c.previous, c.status) for c in changes]
    assert ("record", "spf", Status.NOT_STARTED, Status.PENDING) in kinds
    assert ("capability", "receiving", Status.NOT_STARTED, Status.PENDING) in kinds
    assert ("domain", "example.com", Status.NOT_STARTED, Status.PENDING) == kinds[-1]
    assert 4 + 2 + 1 == len(changes)


def test_reconcile_without_change_records_nothing() -> None:
    """Reloading the same config changes nothing and records no event."""
    track, changes = reconcile(fresh(), "example.com", True, SPECS, T0 + timedelta(hours=1))
    assert ([], fresh()) == (changes, track)


def test_a_stored_state_in_line_takes_the_plans_order_and_strings() -> None:
    """A restart: the stored records come back in another order, their fingerprints equal but
    other strings. The state stands (no change), in the plan's order, holding the plan's own
    fingerprint strings (kept once); the same specs again return the very same state."""
    stored = fresh()
    loaded = replace(
        stored,
        records={r: stored.records[r] for r in reversed(list(stored.records))},
        fingerprints={r: f[:1] + f[1:] for r, f in reversed(list(stored.fingerprints.items()))},
    )
    assert loaded.fingerprints["spf"] is not SPECS[0].fingerprint
    track, changes = reconcile(loaded, "example.com", True, SPECS, T0 + timedelta(hours=1))
    assert ([], loaded) == (changes, track)
    assert [s.record for s in SPECS] == list(track.records)
    assert all(track.fingerprints[s.record] is s.fingerprint for s in SPECS)
    assert reconcile(track, "example.com", True, SPECS, T0 + timedelta(hours=2))[0] is track


def test_changed_expectation_restarts_that_record_at_pending() -> None:
    """A new DKIM key on reload restarts that record (fresh window), and only that one."""
    verified, _ = apply_report(fresh(), SPECS, report(), RULES, T0 + timedelta(minutes=1))
    assert Status.VERIFIED == verified.status
    new_specs = (SPECS[0], RecordSpec("dkim:s1", "sending", "CHANGED"), *SPECS[2:])
    now = T0 + timedelta(hours=5)
    track, changes = reconcile(verified, "example.com", True, new_specs, now)
    assert (Status.PENDING, now) == (track.records["dkim:s1"].status, track.records["dkim:s1"].started_at)
    assert Status.VERIFIED == track.records["spf"].status
    assert "expectation changed" == changes[0].reason
    assert Status.PARTIALLY_VERIFIED == track.status  # sending pending, receiving verified


def test_verify_false_stops_everything() -> None:
    """verify: false on reload: records, capabilities and domain go to not_started."""
    track, changes = reconcile(fresh(), "example.com", False, SPECS, T0 + timedelta(hours=1))
    assert {Status.NOT_STARTED} == {r.status for r in track.records.values()} | {track.status}
    assert {Status.NOT_STARTED} == set(track.capabilities.values())
    assert "verification disabled" == changes[0].reason


def test_report_changes_carry_the_observations_that_caused_them() -> None:
    """A status change stores the observation: explainable from stored data."""
    _, changes = apply_report(fresh(), SPECS, report(receiving_mx=RecordState.MISSING), RULES, T0)
    spf = next(c for c in changes if c.subject == "spf")
    assert {
        "spf": {"observation": "found", "state": "present", "found": ["v"], "findings": []}
    } == spf.observations
    domain = next(c for c in changes if c.kind == "domain")
    assert "missing" == domain.observations["receiving_mx"]["observation"]
    assert Status.PARTIALLY_VERIFIED == domain.status
    assert {"spf", "dkim:s1", "receiving_mx", "dmarc"} == set(domain.observations)
    # A capability's event keeps its own records' observations (what its status follows from).
    capabilities = {c.subject: set(c.observations) for c in changes if c.kind == "capability"}
    assert {"sending": {"spf", "dkim:s1"}} == capabilities  # receiving stays pending: no event
    _, later = apply_report(fresh(), SPECS, report(), RULES, T0)
    assert {"receiving_mx"} == next(set(c.observations) for c in later if c.subject == "receiving")


def test_advisory_records_do_not_count() -> None:
    """dmarc (advisory) missing does not keep sending from verifying."""
    track, _ = apply_report(fresh(), SPECS, report(dmarc=RecordState.MISSING), RULES, T0)
    assert (Status.VERIFIED, Status.PENDING) == (track.status, track.records["dmarc"].status)


def test_errors_change_nothing_but_staleness() -> None:
    """A SERVFAIL storm: no change at all, the domain is marked stale."""
    storm = report(
        spf=RecordState.ERROR,
        dkim_s1=RecordState.ERROR,
        receiving_mx=RecordState.ERROR,
        dmarc=RecordState.ERROR,
    )
    track, changes = apply_report(fresh(), SPECS, storm, RULES, T0 + timedelta(hours=100))
    assert ([], Status.PENDING) == (changes, track.status)
    assert track.records["spf"].stale


def test_verify_action_restarts_failed_records_with_a_fresh_window() -> None:
    """The API's verify: failed -> pending, window from now."""
    late = T0 + timedelta(hours=73)
    failed, _ = apply_report(fresh(), SPECS, report(spf=RecordState.MISSING), RULES, late)
    assert Status.FAILED == failed.records["spf"].status
    track, changes = request_verification(failed, SPECS, late)
    assert (Status.PENDING, late) == (track.records["spf"].status, track.records["spf"].started_at)
    assert ["spf"] == [c.subject for c in changes if c.kind == "record"]


def test_window_deadline_is_the_earliest_required_record() -> None:
    """The domain's deadline is the earliest pending/temporary_failure deadline of required records."""
    track = fresh()
    records = dict(track.records)
    records["spf"] = RecordTrack(Status.PENDING, T0, started_at=T0 - timedelta(hours=10))
    track = DomainTrack("example.com", True, track.status, track.since, records, track.fingerprints)
    assert T0 + timedelta(hours=62) == window_deadline(track, SPECS, RULES)


# A domain's history: reports (one state per record), config reloads (a spec set), verify flips.
_STATES = st.sampled_from(list(RecordState))
_STEPS = st.one_of(
    st.tuples(st.just("report"), st.lists(_STATES, min_size=len(SPECS), max_size=len(SPECS))),
    st.tuples(
        st.just("reload"),
        st.lists(st.sampled_from(SPECS), min_size=1, max_size=len(SPECS), unique=True),
        st.sampled_from(["f1", "f9"]),  # f9: the first spec's expectation changed
        st.booleans(),
    ),
)


@settings(max_examples=examples(200), deadline=None)
@given(st.lists(_STEPS, max_size=12))
def test_reconciling_takes_its_shortcut_only_where_it_changes_nothing(steps: list[tuple]) -> None:  # type: ignore[type-arg]
    """After any history, reconciling with any config agrees with working it all out again."""
    specs, verify = list(SPECS), True
    track, _ = reconcile(None, "example.com", verify, specs, T0)
    for number, step in enumerate(steps, start=1):
        now = T0 + timedelta(hours=number * 7)
        if step[0] == "report":
            states = dict(zip((_key(s.record) for s in SPECS), step[1], strict=True))
            track, _ = apply_report(track, specs, report(**states), RULES, now)
        else:
            _, chosen, first, verify = step
            specs = [
                RecordSpec(s.record, s.capability, first if s.record == "spf" else s.fingerprint)
                for s in chosen
            ]
        assert reconcile(track, "example.com", verify, specs, now) == reconcile_anew(
            track, "example.com", verify, specs, now
        )
        track, _ = reconcile(track, "example.com", verify, specs, now)


def test_the_last_moment_a_domain_was_verified_is_kept_after_it_leaves() -> None:
    """domainwatch_domain_last_verified_timestamp_seconds: absent until verified, the last
    check while verified, and kept when the domain leaves verified."""
    track, _ = reconcile(None, "example.com", True, SPECS, T0)
    assert track.verified_at is None
    track, _ = apply_report(track, SPECS, report(), RULES, T0 + timedelta(minutes=1))
    assert (Status.VERIFIED, T0 + timedelta(minutes=1)) == (track.status, track.verified_at)
    track, _ = apply_report(track, SPECS, report(), RULES, T0 + timedelta(minutes=6))
    assert T0 + timedelta(minutes=6) == track.verified_at
    missing = report(spf=RecordState.MISSING)
    track, _ = apply_report(track, SPECS, missing, RULES, T0 + timedelta(minutes=11))
    assert (Status.VERIFIED, T0 + timedelta(minutes=11)) == (track.status, track.verified_at)  # one miss
    track, _ = apply_report(track, SPECS, missing, RULES, T0 + timedelta(minutes=16))
    assert (Status.TEMPORARY_FAILURE, T0 + timedelta(minutes=11)) == (track.status, track.verified_at)
    again, _ = reconcile(track, "example.com", True, SPECS, T0 + timedelta(hours=1))
    assert T0 + timedelta(minutes=11) == again.verified_at  # a reload observes nothing
