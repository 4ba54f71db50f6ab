"""Turn a composed YAML node tree into Python values, fast, for the common case.

PyYAML's constructor is Python code that handles every YAML feature with generators and
bookkeeping per node; a 100,000-domain config has about 2.6 million nodes and spent 8 s there.
A config is mostly plain mappings, sequences and scalars, which `plain` converts directly with
PyYAML's own scalar constructors (so every value is what SafeLoader makes of it). Anything else
(merge keys, recursive aliases, unhashable keys, other tags) raises NotPlain, and the caller
constructs the document the standard way instead, errors and all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

MAP, SEQ, STR = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:str"
_COLLECTIONS = frozenset({MAP, SEQ})


class NotPlain(Exception):  # noqa: N818 (a verdict on the document, not an error)
    """The document uses something only the standard constructor handles."""


def plain(
    loader: yaml.constructor.SafeConstructor,
    root: yaml.Node,
    on_mapping: Callable[[yaml.MappingNode], None],
) -> Any:
    """The document's value as SafeLoader would build it; `on_mapping` sees each mapping node
    (the caller checks for duplicate keys there)."""
    scalars: dict[str, Any] = {
        tag: constructor
        for tag, constructor in loader.yaml_constructors.items()
        if tag is not None and tag not in _COLLECTIONS and tag != STR
    }
    built: dict[int, Any] = {}  # id(node) -> value: an alias is the very same object
    building: set[int] = set()

    def convert(node: yaml.Node) -> Any:
        tag = node.tag
        if tag == STR and isinstance(node, yaml.ScalarNode):
            return node.value
        done = built.get(id(node))
        if done is not None:
            return done
        if isinstance(node, yaml.ScalarNode):
            constructor = scalars.get(tag)
            if constructor is None:
                raise NotPlain(tag)
            return constructor(loader, node)
        if id(node) in building:
            raise NotPlain("recursive alias")
        building.add(id(node))
        if tag == SEQ and isinstance(node, yaml.SequenceNode):
            value: Any = [convert(child) for child in node.value]
        elif tag == MAP and isinstance(node, yaml.MappingNode):
            value = _mapping(node, convert, on_mapping)
        else:
            raise NotPlain(tag)
        building.discard(id(node))
        built[id(node)] = value
        return value

    return convert(root)


def _mapping(
    node: yaml.MappingNode,
    convert: Callable[[yaml.Node], Any],
    on_mapping: Callable[[yaml.MappingNode], None],
) -> dict[Any, Any]:
    on_mapping(node)
    out: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            raise NotPlain("merge key")
        key = convert(key_node)
        try:
            hash(key)
        except TypeError:
            raise NotPlain("unhashable key") from None
        out[key] = convert(value_node)
    return out
