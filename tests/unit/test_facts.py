"""The facts metrics export: distilled from results by the kinds, and stored in a form that
older and newer versions read."""

from __future__ import annotations

import json
from typing import Any

from domainwatch.checks.registry import facts_of
from domainwatch.state.facts import DomainFacts, facts_from_json, facts_json


def test_each_kind_keeps_only_the_facts_it_exports() -> None:
    results: dict[str, dict[str, Any]] = {
        "spf": {"findings": [{"severity": "error"}], "facts": {"spf_dns_lookups": 4, "spf_void_lookups": 0}},
        "dkim:s1": {"findings": [], "facts": {"dkim_key_bits": 2048}},
        "dmarc": {"findings": [{"severity": "warning"}], "facts": {"dmarc_policy": "reject"}},
        "receiving_mx": {"findings": [], "facts": {}},
    }
    expected = DomainFacts(
        {"error": 1, "warning": 1, "info": 0},
        {
            "spf": {"spf_dns_lookups": 4},
            "dkim:s1": {"dkim_key_bits": 2048},
            "dmarc": {"dmarc_policy": "reject"},
        },
    )
    assert expected == facts_of(results)


def test_facts_round_trip_through_their_stored_form() -> None:
    facts = DomainFacts({"error": 0, "warning": 2, "info": 1}, {"dkim:s1": {"dkim_key_bits": 1024}})
    assert facts == facts_from_json(facts_json(facts))


def test_facts_stored_by_version_0_1_are_read() -> None:
    """0.1 stored one field per fact; unknown keys (from any version) are ignored."""
    old = {
        "findings": {"error": 1, "warning": 0, "info": 0},
        "spf_dns_lookups": 3,
        "dkim_key_bits": {"s1": 2048, "s2": 1024},
        "dmarc_policy": "none",
        "from_the_future": [1, 2],
    }
    expected = DomainFacts(
        {"error": 1, "warning": 0, "info": 0},
        {
            "spf": {"spf_dns_lookups": 3},
            "dkim:s1": {"dkim_key_bits": 2048},
            "dkim:s2": {"dkim_key_bits": 1024},
            "dmarc": {"dmarc_policy": "none"},
        },
    )
    assert expected == facts_from_json(json.dumps(old))


def test_missing_keys_in_stored_facts_are_tolerated() -> None:
    assert DomainFacts({}, {}) == facts_from_json(json.dumps({"spf_dns_lookups": None}))
    assert DomainFacts({"error": 2}, {}) == facts_from_json(
        json.dumps({"findings": {"error": 2}, "records": {}})
    )
