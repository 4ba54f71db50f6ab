"""Domain documents (config/document.py): validation with paths, merge patches, round trips."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from domainwatch.config.document import (
    DocumentError,
    document_of,
    etag_of,
    matches,
    merge_patch,
    parse_document,
    patched,
)
from domainwatch.config.loader import load

# RFC 7396, Appendix A: (original, patch, result).
RFC_7396_EXAMPLES: list[tuple[Any, Any, Any]] = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("original", "patch", "result"), RFC_7396_EXAMPLES)
def test_merge_patch_follows_rfc_7396(original: Any, patch: Any, result: Any) -> None:
    assert result == merge_patch(original, patch)


def test_merge_patch_leaves_its_inputs_alone() -> None:
    original, patch = {"a": {"b": [1]}}, {"a": {"c": 2}}
    merge_patch(original, patch)
    assert ({"a": {"b": [1]}}, {"a": {"c": 2}}) == (original, patch)


def problems(raw: object, **options: bool) -> list[tuple[str, str]]:
    with pytest.raises(DocumentError) as caught:
        parse_document(raw, **options)
    return [(p.path, p.message) for p in caught.value.problems]


def test_every_problem_is_reported_at_its_path_with_the_configs_message() -> None:
    raw = {
        "name": "x.example.org",
        "sending": {"dkim": [{"selector": "ok"}, {"selector": "not ok"}], "spf": {"include": "one"}},
        "interval": 300,
        "colour": "blue",
    }
    assert {
        ("sending.dkim[1].selector", "must be a DNS label"),
        ("sending.spf.include", "must be a list"),
        ("interval", "must be a duration such as 500ms, 2s, 5m, 72h or 30d"),
        ("colour", "unknown key"),
    } == set(problems(raw))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ([], [("", "must be a JSON object (one entry of `domains:`)")]),
        ({"verify": False}, [("name", "required key is missing")]),
        ({"name": 7}, [("name", "must be a string")]),
        ({"name": "*.example.org"}, [("name", "must name one domain (no wildcards)")]),
        ({"name": "example"}, [("name", "must have at least two labels (example.com)")]),
        (
            {"name": "a.example.org", "preset": "nope"},
            [
                (
                    "preset",
                    "unknown preset; known: brevo, google_workspace, mailgun, microsoft_365, postmark, "
                    "resend, sendgrid, ses",
                )
            ],
        ),
        ({"name": "a.example.org", "preset": "resend"}, [("region", "required by preset resend")]),
        ({"name": "a.example.org"}, [("", "enable sending or receiving (or set verify: false)")]),
    ],
)
def test_refusals(raw: object, expected: list[tuple[str, str]]) -> None:
    assert expected == problems(raw)


def test_names_are_normalised_and_verify_defaults_to_false_on_create() -> None:
    document, domain = parse_document(
        {"name": " Bücher.Example.ORG. ", "preset": "resend", "region": "eu-west-1"}, creating=True
    )
    assert ("xn--bcher-kva.example.org", False) == (document["name"], document["verify"])
    assert (domain.name, domain.verify) == ("xn--bcher-kva.example.org", False)
    assert "preset" in document
    assert "sending" not in document
    assert parse_document({"name": "a.example.org", "preset": "resend", "region": "eu-west-1"})[1].verify


def test_a_patch_cannot_rename() -> None:
    stored = {"name": "a.example.org", "verify": False}
    with pytest.raises(DocumentError) as caught:
        patched(stored, {"name": "b.example.org"})
    assert "name" == caught.value.problems[0].path
    assert "a.example.org" == patched(stored, {"name": "A.example.org."})[0]["name"]  # the same name
    with pytest.raises(DocumentError) as caught:
        patched(stored, [1])
    assert [("", "a merge patch must be a JSON object")] == [
        (p.path, p.message) for p in caught.value.problems
    ]


def test_config_domains_round_trip_through_their_documents() -> None:
    """Every domain of the example config, made back into a document, validates to itself."""
    config = load(
        Path(__file__).resolve().parents[2] / "config.example.yaml",
        env={"WEBHOOK_SECRET": "whsec_" + "A" * 44},
    )
    assert config.domains
    for domain in config.domains:
        document = document_of(domain)
        assert domain == parse_document(document)[1], domain.name


def test_etags_follow_the_content_and_if_match_reads_lists_and_stars() -> None:
    a, b = {"name": "a.example.org", "verify": False}, {"verify": False, "name": "a.example.org"}
    assert etag_of(a) == etag_of(b)  # key order does not matter
    assert etag_of(a) != etag_of({**a, "interval": "5m"})
    tag = etag_of(a)
    assert matches(None, tag)
    assert matches("*", tag)
    assert matches(f'"other", {tag}', tag)
    assert not matches('"other"', tag)


def test_more_than_16_receiving_mx_hosts_are_refused_at_their_path() -> None:
    """Each host is a STARTTLS probe every round: an API document may name at most 16 (422)."""
    hosts = [{"host": f"mx{n}.example.net"} for n in range(17)]
    (problem,) = problems({"name": "x.example.org", "receiving": {"mx": hosts}})
    assert ("receiving.mx", "must have at most 16 item(s)") == problem
