"""The fast construction of a config's YAML (and of one written as JSON) agrees with PyYAML's
SafeLoader on every document."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from domainwatch.config.loader import ConfigError, _construct, parse, read_mapping
from domainwatch.config.plain_yaml import NotPlain, json_document, plain_document
from tests.examples import examples

SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def standard(text: str) -> Any:
    return yaml.load(text, Loader=SafeLoader)


def fast(text: str) -> Any:
    value, _ = _construct(text, "t.yaml")
    return value


def from_events(text: str) -> tuple[Any, list[tuple[int, str]]]:
    """The event path alone (no fallback): the value, and the duplicate keys it noted."""
    duplicates: list[tuple[int, str]] = []
    loader = SafeLoader(text)
    try:
        return plain_document(loader, lambda line, key: duplicates.append((line, key))), duplicates
    finally:
        loader.dispose()


CASES = [
    "a: 1\nb: [1, 2.5, .inf, -0x1F, 0o17, 1_000]\nc: {d: null, e: ~, f: yes, g: Off, h: ''}\n",
    "when: 2026-11-29\nat: 2026-11-29 10:00:00+01:00\nbin: !!binary aGVsbG8=\n",
    "base: &base {interval: 5m, window: 72h}\none: *base\ntwo: *base\n",
    "base: &base {interval: 5m}\nmerged: {<<: *base, window: 1h}\n",  # merge key: the fallback
    "s: !!set {a, b}\no: !!omap [{a: 1}, {b: 2}]\np: !!pairs [{a: 1}]\n",
    "'quoted': \"x\\ty\"\n? [complex, key]\n: value\n",  # unhashable key: the standard error
    "tagged: !custom value\n",  # unknown tag: the standard error
    "n: !!str 12\ni: !!int '12'\nf: !!float '1'\n",
    "list:\n- &x [1, 2]\n- *x\n",
    "",
]


@pytest.mark.parametrize("text", CASES)
def test_same_value_or_same_error_as_safe_loader(text: str) -> None:
    try:
        expected: Any = standard(text)
    except yaml.YAMLError as exc:
        with pytest.raises(type(exc)):
            fast(text)
        return
    value = fast(text)
    assert value == expected
    assert repr(value) == repr(expected)  # same types too (1 == 1.0 == True)


PLAIN = [CASES[0], CASES[1], CASES[2], CASES[7], CASES[8], CASES[9], "---\n", "- a\n- {b: [c, 'd']}\n"]


@pytest.mark.parametrize("text", PLAIN)
def test_plain_documents_are_built_from_the_events(text: str) -> None:
    value, duplicates = from_events(text)
    assert repr(value) == repr(standard(text))
    assert duplicates == []


@pytest.mark.parametrize(
    "text",
    [
        CASES[3],  # merge key
        CASES[4],  # !!set, !!omap, !!pairs
        CASES[5],  # a sequence as a key
        CASES[6],  # an unknown tag
        "a: &a [1, *a]\n",  # recursive alias
        "a: *nowhere\n",  # undefined alias
        "k: &k x\n*k : 1\n",  # an alias as a key
        "a: 1\n---\nb: 2\n",  # two documents
    ],
)
def test_what_the_events_do_not_cover_is_not_plain(text: str) -> None:
    with pytest.raises(NotPlain):
        from_events(text)


def test_duplicate_keys_are_noted_from_the_events_with_their_lines() -> None:
    _, duplicates = from_events("a: 1\nb:\n  c: 1\n  c: 2\na: 3\n")
    assert duplicates == [(4, "c"), (5, "a")]


def test_an_alias_is_the_same_object() -> None:
    value = fast("base: &base {interval: 5m}\none: *base\ntwo: *base\n")
    assert value["one"] is value["two"] is value["base"]


def test_a_recursive_alias_is_built_by_the_standard_constructor() -> None:
    value = fast("a: &a [1, *a]\n")
    assert value["a"][1] is value["a"]


def test_nesting_deeper_than_the_walk_recurses_is_built_by_the_standard_constructor() -> None:
    text = "x: " + "[" * 900 + "]" * 900 + "\n"
    assert fast(text) == standard(text)


def test_duplicate_keys_are_still_found_both_ways() -> None:
    for text in ("a: 1\na: 2\n", "base: &b {x: 1}\nm: {<<: *b, y: 1, y: 2}\n"):
        with pytest.raises(ConfigError, match="duplicate key"):
            read_mapping(text, "t.yaml")


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.sampled_from(["yes", "no", "on", "0x1f", "1e3", "~", "null", "2026-01-01", "12:30", "<<", "="]),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=examples(200), deadline=None)
@given(_VALUES, st.sampled_from([None, True, False]))
def test_any_dumped_document_reads_back_the_same(value: Any, flow: bool | None) -> None:
    """Random nested values, dumped in block and flow styles (and strings that look like other
    types, which the dumper quotes): the fast path reads what SafeLoader reads."""
    text = yaml.safe_dump(value, default_flow_style=flow)
    assert repr(from_events(text)[0]) == repr(fast(text)) == repr(standard(text))


# What JSON and YAML 1.1 may read apart: exponents (a float to YAML only with a dot and a
# signed exponent) and YAML's extra line breaks, as well as the values above.
_JSON_VALUES = st.recursive(
    st.one_of(_SCALARS, st.sampled_from([1e16, 1.5e16, 1e-7, 2.5e-07, -0.0, "x\x85y", "a\u2028b"])),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
_JSON_OBJECTS = st.dictionaries(st.text(max_size=8), _JSON_VALUES, max_size=4)


@settings(max_examples=examples(300), deadline=None)
@given(_JSON_OBJECTS, st.booleans(), st.sampled_from([None, 2]))
def test_a_json_document_reads_as_safe_loader_reads_it(
    value: dict[str, Any], ascii_only: bool, indent: int | None
) -> None:
    """Random objects written as JSON: wherever SafeLoader reads the text, the JSON reading is
    the same value of the same types (or declines, and the YAML reading is used)."""
    text = json.dumps(value, ensure_ascii=ascii_only, indent=indent)
    try:
        expected = standard(text)
    except yaml.YAMLError:
        return  # YAML refuses it (a surrogate pair, a raw control character): JSON may read it
    try:
        read = json_document(text)
    except NotPlain:
        read = expected
    assert repr(read) == repr(expected) == repr(fast(text))


def test_a_config_written_as_json_is_read_by_the_json_module() -> None:
    text = json.dumps({"domains": [{"name": "example.com", "sending": {"spf": {"include": ["a.test"]}}}]})
    assert json_document(text) == standard(text)
    assert parse(text).domains[0].name == "example.com"


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1e3}',  # YAML 1.1 reads an exponent as a string
        '{"a": 1.5E-3}',
        '{"a": NaN}',  # and these too
        '{"a": -Infinity}',
        '{"a": 1, "a": 2}',  # a repeated key: YAML's reading reports it with its line
        '{"a": "x\u0085y"}',
        '{"a": "line\u2028break"}',  # escaped: no raw break in the text, so JSON reads it
        "{a: 1}",  # a flow mapping, not JSON
        '["a"]',  # not an object: the YAML reading says what is wrong
        "[" * 5000 + "]" * 5000,
    ],
)
def test_json_readings_that_may_differ_are_left_to_yaml(text: str) -> None:
    raw_break = any(mark in text for mark in ("\x85", "\u2028"))
    if "line" in text and not raw_break:
        assert json_document(text) == {"a": "line\u2028break"}
        return
    with pytest.raises(NotPlain):
        json_document(text)


def test_raw_yaml_line_breaks_are_left_to_yaml() -> None:
    for mark in ("\x85", "\u2028", "\u2029"):
        text = '{"a": "x' + mark + 'y"}'
        with pytest.raises(NotPlain):
            json_document(text)
        assert fast(text) == standard(text)


def test_an_exponent_reads_as_yaml_reads_it() -> None:
    assert fast('{"a": 1e3}') == {"a": "1e3"}


def test_a_repeated_key_in_json_is_reported_with_its_line() -> None:
    with pytest.raises(ConfigError, match=r"t.yaml:3: a: duplicate key"):
        read_mapping('{\n  "a": 1,\n  "a": 2\n}', "t.yaml")


def test_a_surrogate_pair_is_one_character_and_problems_still_have_a_line() -> None:
    text = '{\n"domains": [\n{"name": "\\ud83d\\ude00.example"}]}'
    assert json_document(text) == {"domains": [{"name": "\U0001f600.example"}]}
    with pytest.raises(ConfigError, match=r"config.yaml:1: domains\[0\]: enable sending"):
        parse(text)  # YAML cannot read the text to find the line (3): line 1, and no traceback
