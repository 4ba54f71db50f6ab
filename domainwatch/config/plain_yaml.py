"""Build a config's YAML into Python values straight from the parser's events, for the common case.

PyYAML composes a whole node tree (a 100,000-domain config has 2.6 million nodes, each with
two position marks) and then constructs values from it with Python code that handles every YAML
feature. That took 5 s, and freeing the tree left about 800 MB of the heap scattered around the
values that survive. A config is mostly plain mappings, sequences and scalars: `plain_document`
builds them from libyaml's event stream as they arrive, so nothing but the values outlives an
event, resolving each scalar's type and constructing it with PyYAML's own resolver and scalar
constructors (every value is what SafeLoader makes of it). Anything else (merge keys, recursive
aliases, unhashable keys, other tags, several documents) raises NotPlain, and the caller
constructs the document the standard way instead, errors and all.

A document written as JSON (YAML's flow style is a superset of it) is read by the json module
instead, about five times faster again (`json_document`), wherever its reading is YAML's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

MAP, SEQ, STR = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:str"
MERGE = "tag:yaml.org,2002:merge"
_COLLECTIONS = frozenset({MAP, SEQ})
# Told of each repeated key: its line (1-based) and its text.
OnDuplicate = Callable[[int, str], None]


class NotPlain(Exception):  # noqa: N818 (a verdict on the document, not an error)
    """The document uses something only the standard constructor handles."""


def plain_document(loader: Any, on_duplicate: OnDuplicate) -> Any:
    """The single document's value as SafeLoader would build it, read from `loader`'s events.

    `loader` is a fresh (C)SafeLoader: the events are consumed, so after NotPlain the caller
    starts again with a new one."""
    builder = _Builder(loader, on_duplicate)
    loader.get_event()  # the stream's start
    if isinstance(loader.peek_event(), StreamEndEvent):
        return None  # an empty stream
    loader.get_event()  # the document's start
    value = builder.value(loader.get_event())
    if not isinstance(loader.get_event(), DocumentEndEvent) or not isinstance(
        loader.get_event(), StreamEndEvent
    ):
        raise NotPlain("more than one document")
    return value


# YAML 1.1 reads these as line breaks even inside a quoted string; JSON keeps them as they are.
_YAML_BREAKS = ("\x85", "\u2028", "\u2029")


def json_document(text: str) -> Any:
    """The value of a config written as one JSON object: what SafeLoader would make of it.

    Raises NotPlain where the readings may differ, and the caller reads it as YAML: exponents
    (`1e3` is a string to YAML 1.1), NaN and Infinity (strings too), the line breaks above, and
    repeated keys (which the YAML reading reports with their lines). A surrogate pair escape
    (`\\ud83d\\ude00`) is the one character JSON says it is; YAML refuses it."""
    if not text.lstrip().startswith("{") or any(mark in text for mark in _YAML_BREAKS):
        raise NotPlain("not a JSON object")
    try:
        return json.loads(
            text, object_pairs_hook=_unique_keys, parse_float=_plain_float, parse_constant=_not_plain
        )
    except (ValueError, RecursionError):  # not JSON after all (a flow mapping, say), or too deep
        raise NotPlain("not JSON") from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    mapping = dict(pairs)
    if len(mapping) != len(pairs):
        raise NotPlain("a repeated key")
    return mapping


def _plain_float(text: str) -> float:
    if "e" in text or "E" in text:
        raise NotPlain("an exponent")
    return float(text)


def _not_plain(text: str) -> Any:
    raise NotPlain(text)


class _Builder:
    def __init__(self, loader: Any, on_duplicate: OnDuplicate) -> None:
        self.loader, self.on_duplicate = loader, on_duplicate
        # Events are typed loosely: the stubs' marks do not cover libyaml's.
        self.next_event: Callable[[], Any] = loader.get_event
        self.resolve = loader.resolve
        self.scalars: dict[str, Any] = {
            tag: constructor
            for tag, constructor in loader.yaml_constructors.items()
            if tag is not None and tag not in _COLLECTIONS and tag != STR
        }
        self.anchors: dict[str, Any] = {}  # an alias is the very same object
        self.building: set[str] = set()  # anchors of collections not yet complete
        # A plain scalar whose first character starts no implicit type (a domain name, a key
        # such as `sending`) is a string: the resolver would try no pattern on it. Known only
        # when no resolver applies to every first character or to a path.
        resolvers = loader.yaml_implicit_resolvers
        self.typed_starts: frozenset[str] | None = (
            None if None in resolvers or loader.yaml_path_resolvers else frozenset(resolvers)
        )

    def value(self, event: Any) -> Any:
        kind = type(event)
        if kind is ScalarEvent:
            if event.tag is None and event.anchor is None and self.plainly_text(event):
                return event.value  # most scalars
            value = self.scalar(event)
        elif kind is MappingStartEvent or kind is SequenceStartEvent:
            value = self.collection(event)
        elif kind is AliasEvent:
            if event.anchor not in self.anchors or event.anchor in self.building:
                raise NotPlain("undefined or recursive alias")
            return self.anchors[event.anchor]
        else:
            raise NotPlain(kind.__name__)
        anchor = event.anchor
        if anchor is not None:
            self.anchors[anchor] = value
        return value

    def plainly_text(self, event: Any) -> bool:
        text, starts = event.value, self.typed_starts
        return starts is not None and (not event.implicit[0] or (text != "" and text[0] not in starts))

    def scalar(self, event: Any) -> Any:
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.resolve(yaml.ScalarNode, event.value, event.implicit)
        if tag == STR:
            return event.value
        constructor = self.scalars.get(tag)
        if constructor is None:
            raise NotPlain(tag)
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        return constructor(self.loader, node)

    def collection(self, event: Any) -> Any:
        mapping = type(event) is MappingStartEvent
        if event.tag not in (None, "!", MAP if mapping else SEQ):
            raise NotPlain(event.tag)
        anchor = event.anchor
        if anchor is not None:
            self.building.add(anchor)
        value = self.mapping() if mapping else self.sequence()
        if anchor is not None:
            self.building.discard(anchor)
        return value

    def sequence(self) -> list[Any]:
        out: list[Any] = []
        while type(event := self.next_event()) is not SequenceEndEvent:
            out.append(self.value(event))
        return out

    def mapping(self) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        seen: set[str] = set()
        while type(event := self.next_event()) is not MappingEndEvent:
            if type(event) is not ScalarEvent:
                if type(event) is AliasEvent:
                    raise NotPlain("alias as a key")  # its duplicates are judged by its text
            else:
                self.note_key(event, seen)
            key = self.value(event)
            try:
                hash(key)
            except TypeError:
                raise NotPlain("unhashable key") from None
            out[key] = self.value(self.next_event())
        return out

    def note_key(self, event: Any, seen: set[str]) -> None:
        text = event.value
        if text in seen:  # as the standard path judges it: by the key's text
            self.on_duplicate(event.start_mark.line + 1, text)
        seen.add(text)
        merge = text == "<<" and event.tag in (None, "!")
        if merge and self.resolve(yaml.ScalarNode, text, event.implicit) == MERGE:
            raise NotPlain("merge key")
