"""One check's drift (fleet/drift.py), pure: baselines, changes, lookup errors, pins, windows
and the DKIM rotation findings, with the time as a parameter."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from domainwatch.fleet.drift import DriftOutcome, DriftSettings, observe
from domainwatch.model import DomainReport, RecordResult, RecordState
from domainwatch.state.domain import DomainTrack, RecordSpec, reconcile
from domainwatch.state.drift import DriftTable, RecordDrift, packed, remembers_more
from domainwatch.state.windows import MaintenanceWindow
from tests.keys import rsa_key

T0 = datetime(2026, 12, 1, tzinfo=UTC)
SPECS = [RecordSpec("dmarc", "sending", "f1"), RecordSpec("dkim:b", None, "f2")]
KEY = f"v=DKIM1; p={rsa_key(2048)}"


def result(
    record: str, *found: str, state: RecordState = RecordState.PRESENT, ttl: int = 300
) -> RecordResult:
    facts: dict[str, str | int] = {"dkim_ttl": ttl} if record.startswith("dkim") and found else {}
    return RecordResult(record, f"{record}.example.com", "TXT", state, True, None, found, (), facts)


NONE = DriftSettings()


class Checks:
    """A domain checked again and again, each outcome kept as the next check's track."""

    def __init__(self, settings: DriftSettings = NONE) -> None:
        self.track: DomainTrack = reconcile(None, "example.com", True, SPECS, T0)[0]
        self.settings, self.sets, self.now = settings, dict[str, str](), T0

    def check(self, *results: RecordResult, after: timedelta = timedelta(minutes=5)) -> DriftOutcome:
        self.now += after
        seen = observe(
            self.track,
            DomainReport("example.com", results),
            sets=self.sets.get,
            settings=self.settings,
            now=self.now,
        )
        self.sets |= seen.value_sets
        self.track = replace(self.track, drift=seen.drift)
        return seen


def codes(seen: DriftOutcome, record: str) -> list[str]:
    return [f.code.value for r in seen.report.records if r.record == record for f in r.findings]


def test_a_first_observation_is_a_baseline_and_a_lookup_error_no_change() -> None:
    checks = Checks()
    assert checks.check(result("dmarc", "v=DMARC1; p=reject")).changes == []
    assert checks.check(result("dmarc", state=RecordState.ERROR)).changes == []
    assert checks.check(result("dmarc", "v=DMARC1; p=reject")).changes == []
    (change,) = checks.check(result("dmarc", "v=DMARC1; p=none")).changes
    assert (change.kind, change.subject, change.observations["direction"]) == ("change", "dmarc", "weakening")
    assert checks.track.drift["dmarc"].weakened_at == checks.now


def test_a_pin_holds_until_a_window_moves_it() -> None:
    checks = Checks(DriftSettings(pins=frozenset({"dmarc"})))
    checks.check(result("dmarc", "v=DMARC1; p=reject"))
    moved = checks.check(result("dmarc", "v=DMARC1; p=quarantine"))
    assert codes(moved, "dmarc") == ["record_pinned_changed"]
    assert moved.report.records[0].state is RecordState.WRONG
    again = checks.check(moved.report.records[0])  # results kept from before are amended alike
    assert codes(again, "dmarc") == ["record_pinned_changed"]
    window = MaintenanceWindow("w", "example.com", ("dmarc",), checks.now + timedelta(hours=1), "", T0)
    checks.settings = replace(checks.settings, windows=(window,))
    weakened = checks.track.drift["dmarc"].weakened_at  # by reject -> quarantine, outside
    inside = checks.check(result("dmarc", "v=DMARC1; p=none"))
    assert (codes(inside, "dmarc"), inside.changes[0].observations["in_window"]) == ([], True)
    assert checks.track.drift["dmarc"].weakened_at == weakened  # inside a window: no ticket
    checks.settings = replace(checks.settings, windows=())
    assert codes(checks.check(result("dmarc", "v=DMARC1; p=none")), "dmarc") == []  # the pin moved


def test_a_next_key_is_ready_after_its_ttl_and_a_retiring_one_after_the_overlap() -> None:
    checks = Checks(DriftSettings(roles={"dkim:b": "next"}, retire_overlap=timedelta(days=7)))
    assert codes(checks.check(result("dkim:b", state=RecordState.MISSING)), "dkim:b") == [
        "dkim_next_not_ready"
    ]
    assert codes(checks.check(result("dkim:b", KEY)), "dkim:b") == ["dkim_next_not_ready"]
    assert codes(checks.check(result("dkim:b", KEY)), "dkim:b") == ["dkim_next_ready"]  # 5 min > 300 s
    checks.settings = replace(checks.settings, roles={"dkim:b": "retiring"})
    assert codes(checks.check(result("dkim:b", KEY)), "dkim:b") == []
    early = checks.check(result("dkim:b", state=RecordState.MISSING))
    assert codes(early, "dkim:b") == ["dkim_retiring_removed_early"]
    late = checks.check(result("dkim:b", KEY), after=timedelta(days=7))
    assert codes(late, "dkim:b") == ["dkim_retiring_safe_to_remove"]


def test_an_old_key_is_due_for_rotation_and_a_removed_record_is_forgotten() -> None:
    checks = Checks(DriftSettings(max_key_age=timedelta(days=30)))
    checks.check(result("dkim:b", KEY))
    assert codes(checks.check(result("dkim:b", KEY), after=timedelta(days=31)), "dkim:b") == [
        "dkim_key_too_old"
    ]
    checks.track = replace(checks.track, records={"dmarc": checks.track.records["dmarc"]})
    assert "dkim:b" not in checks.check(result("dmarc", "v=DMARC1; p=reject")).drift


def test_a_packed_table_reads_as_the_mapping_it_packs() -> None:
    """DriftTable: digests in one bytes object, the rarer fields kept whole; equal as mappings."""
    plain = {
        "spf": RecordDrift("ab" * 12, T0),
        "dmarc": RecordDrift(None, None),
        "dkim:a": RecordDrift("cd" * 12, T0, pinned="cd" * 12, role="retiring", role_since=T0),
        "odd": RecordDrift("not-a-digest", T0),
    }
    table = packed(plain)
    assert isinstance(table, DriftTable)
    assert dict(table.items()) == plain
    assert table == plain
    assert table == packed(dict(plain))
    assert table == packed(dict(reversed(plain.items())))  # a mapping: the order is no difference
    assert table != packed({**plain, "spf": RecordDrift("ef" * 12, T0)})
    assert table.get("missing") is None
    assert len(table) == 4


def test_a_table_says_when_a_record_remembers_more_than_its_values() -> None:
    """A pin, a role or a weakening: the findings then depend on the config and the time, so
    results kept from the last check are judged again."""
    plain = {"spf": RecordDrift("ab" * 12, T0)}
    assert not remembers_more(packed(plain))
    assert remembers_more(packed({**plain, "dmarc": RecordDrift("cd" * 12, T0, weakened_at=T0)}))
    assert remembers_more({"dkim:a": RecordDrift(None, None, role="next")})
