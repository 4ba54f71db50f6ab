"""YAML text -> validated Config, with every error as `file:line: path: message`.

Pure except for `load(path)` (and reading `*_file` secrets, which the caller can stub through
`read_file`). All errors are collected and reported together.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from domainwatch.config.floors import config_floors
from domainwatch.config.plain_yaml import NotPlain, json_document, plain_document
from domainwatch.config.presets import apply_preset
from domainwatch.config.schema import Config

PathKey = tuple[str | int, ...]
# libyaml's C parser (shipped in PyYAML's wheels) is about ten times faster: a 100k-domain file.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SECRET_KEYS = frozenset({"secret", "token"})
_ENV = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class ConfigError(Exception):
    """One or more problems in a config file; str() is one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def format_path(path: PathKey) -> str:
    out = ""
    for part in path:
        if isinstance(part, str) and part.startswith("[") and part.endswith("]"):
            continue  # a mark (a mapping's key, a union's branch): the next part names the place
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


class _Problems:
    def __init__(self, source: str, text: str) -> None:
        self.source, self.text = source, text
        self._lines: dict[PathKey, int] | None = None
        self.items: list[tuple[int, str]] = []
        self.seen: set[PathKey] = set()

    @property
    def lines(self) -> dict[PathKey, int]:
        """Where each key path is, read again from the text: only ever needed for an error."""
        if self._lines is None:
            self._lines, _ = _walk_nodes(self.text, self.source)
        return self._lines

    def add(self, path: PathKey, message: str) -> None:
        """Record a problem; only the first one per path, and none on an ancestor of a path that
        already has one: those are consequences (a failed preset leaves a domain without sending)."""
        if path in self.seen or any(seen[: len(path)] == path for seen in self.seen):
            return
        self.seen.add(path)
        line = self.line_of(path)
        where = f"{format_path(path)}: " if path else ""
        self.items.append((line, f"{self.source}:{line}: {where}{message}"))

    def line_of(self, path: PathKey) -> int:
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 1)

    def raise_if_any(self) -> None:
        if self.items:
            raise ConfigError([text for _, text in sorted(self.items, key=lambda item: item[0])])


def load(path: str | Path, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate a config file. Raises ConfigError (never anything else for bad input)."""
    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}"]) from None
    return parse(text, source=str(path), env=os.environ if env is None else env, base_dir=path.parent)


def parse(
    text: str,
    *,
    source: str = "config.yaml",
    env: Mapping[str, str] | None = None,
    base_dir: Path | None = None,
    read_file: Callable[[Path], str] | None = None,
) -> Config:
    """Validate config text; `source` names it in errors. Raises ConfigError for bad input."""
    data = read_mapping(text, source)
    problems = _Problems(source, text)
    # Walking every value costs a second per 100,000 domains: skip the walks when the text
    # cannot hold what they look for (a backslash escape could spell anything, so it walks).
    escaped = "\\" in text
    if escaped or "$" in text:
        data = _expand_env(data, (), env or {}, problems)
    if escaped or "_file" in text:
        data = _resolve_secret_files(data, (), base_dir or Path("."), read_file or _read_secret, problems)
    data = _apply_presets(data, problems)
    _check_duplicates(data, problems)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            problems.add(tuple(error["loc"]), describe(error))
    problems.raise_if_any()
    for where, message in config_floors(config):
        problems.add(where, message)
    problems.raise_if_any()
    return config


class _StrictLoader(_Loader):  # type: ignore[misc]
    """The safe loader, noting duplicate keys (YAML forbids them; PyYAML keeps the last)."""

    def __init__(self, text: str, source: str) -> None:
        super().__init__(text)
        self.source = source
        self.duplicates: list[str] = []

    def note_duplicate(self, line: int, key: str) -> None:
        self.duplicates.append(f"{self.source}:{line}: {key}: duplicate key")

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        keys = [str(key_node.value) for key_node, _ in node.value]
        if len(set(keys)) != len(keys):  # rare: find which (the error pass adds the full path)
            seen: set[str] = set()
            for key_node, _ in node.value:
                key = str(key_node.value)
                if key in seen:
                    self.note_duplicate(key_node.start_mark.line + 1, key)
                seen.add(key)
        return super().construct_mapping(node, deep)  # type: ignore[no-any-return]


def _construct(text: str, source: str) -> tuple[Any, list[str]]:
    """The document's value and its duplicate keys: read as JSON, built straight from the YAML
    parser's events, or by the standard constructor, the first that covers it (plain_yaml)."""
    try:
        return json_document(text), []
    except NotPlain:
        pass
    loader = _StrictLoader(text, source)
    try:
        return plain_document(loader, loader.note_duplicate), loader.duplicates
    except (NotPlain, RecursionError):  # merge keys, deep nesting, ...: start again
        pass
    finally:
        loader.dispose()
    loader = _StrictLoader(text, source)
    try:
        return loader.get_single_data(), loader.duplicates
    finally:
        loader.dispose()


def read_mapping(text: str, source: str) -> Any:
    """Parse (libyaml when available) to Python values; duplicate keys are errors."""
    try:
        data, duplicates = _construct(text, source)
    except ValueError:  # an integer longer than int() converts (4,300 digits): find where
        raise ConfigError([_huge_number(text, source)]) from None
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        raise ConfigError([f"{source}:{line}: YAML syntax error: {exc.problem}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{source}:1: YAML error: {exc}"]) from None
    if duplicates:
        raise ConfigError(_with_paths(duplicates, text, source))
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError([f"{source}:1: the top level must be a mapping of keys"])
    return data


_HUGE = re.compile(r"[0-9]{4301,}")
HUGE_NUMBER = "a number of more than 4,300 digits"


def _huge_number(text: str, source: str) -> str:
    """`file:line: path: ...` of the first integer too long to read."""
    found = _HUGE.search(text)
    line = text.count("\n", 0, found.start()) + 1 if found else 1
    lines, _ = _walk_nodes(text, source)
    paths = [path for path, at in lines.items() if at == line]
    where = f" {format_path(max(paths, key=len))}:" if paths else ""
    return f"{source}:{line}:{where} {HUGE_NUMBER}"


def _with_paths(duplicates: list[str], text: str, source: str) -> list[str]:
    """Duplicate-key errors with the full key path, found again on the node tree (error path)."""
    _, found = _walk_nodes(text, source)
    return found or duplicates


def _walk_nodes(text: str, source: str) -> tuple[dict[PathKey, int], list[str]]:
    """Compose the text again (error paths only): each key path's line, and duplicate keys."""
    lines: dict[PathKey, int] = {}
    duplicates: list[str] = []
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _collect_lines(node, (), lines, duplicates, source)
    except yaml.YAMLError:  # JSON that YAML refuses (a surrogate pair): problems say line 1
        pass
    finally:
        loader.dispose()
    return lines, duplicates


def _collect_lines(
    node: yaml.Node, path: PathKey, lines: dict[PathKey, int], duplicates: list[str], source: str
) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                line = key_node.start_mark.line + 1
                duplicates.append(f"{source}:{line}: {format_path((*path, key))}: duplicate key")
            seen.add(key)
            lines[(*path, key)] = key_node.start_mark.line + 1
            _collect_lines(value_node, (*path, key), lines, duplicates, source)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _collect_lines(item, (*path, index), lines, duplicates, source)


def _expand_env(value: Any, path: PathKey, env: Mapping[str, str], problems: _Problems) -> Any:
    if isinstance(value, dict):
        return {k: _expand_env(v, (*path, k), env, problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_env(v, (*path, i), env, problems) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "$"  # "$$" is a literal dollar sign
        if name not in env:
            problems.add(path, f"environment variable {name} is not set")
            return ""
        return env[name]

    return _ENV.sub(substitute, value)


def _read_secret(path: Path) -> str:
    return path.read_text("utf-8").rstrip("\r\n")


def _resolve_secret_files(
    value: Any, path: PathKey, base: Path, read: Callable[[Path], str], problems: _Problems
) -> Any:
    """Replace `secret_file: F` (and `token_file`, and `storage.url_file`) by `secret: <contents
    of F>`."""
    if isinstance(value, list):
        return [_resolve_secret_files(v, (*path, i), base, read, problems) for i, v in enumerate(value)]
    if not isinstance(value, dict):
        return value
    out = {k: _resolve_secret_files(v, (*path, k), base, read, problems) for k, v in value.items()}
    for key in SECRET_KEYS | ({"url"} if path == ("storage",) else set()):
        file_key = f"{key}_file"
        if file_key not in out:
            continue
        if key in out:
            problems.add((*path, file_key), f"set either {key} or {file_key}, not both")
            continue
        location = out.pop(file_key)
        if not isinstance(location, str):
            problems.add((*path, file_key), "must be a file path")
            continue
        try:
            out[key] = read(base / location)
        except (OSError, UnicodeDecodeError) as exc:
            problems.add((*path, file_key), f"cannot read {location}: {getattr(exc, 'strerror', exc)}")
            problems.seen.add((*path, key))  # "required key is missing" would only repeat it
    return out


def _apply_presets(data: dict[str, Any], problems: _Problems) -> dict[str, Any]:
    domains = data.get("domains")
    if not isinstance(domains, list):
        return data
    merged = []
    for index, raw in enumerate(domains):
        domain, errors = apply_preset(raw) if isinstance(raw, dict) else (raw, [])
        for key, message in errors:
            problems.add(("domains", index, *key.split(".")), message)
        merged.append(domain)
    return {**data, "domains": merged}


_TYPE_MESSAGES = {
    "extra_forbidden": "unknown key",
    "unexpected_keyword_argument": "unknown key",  # the per-domain dataclasses' wording
    "missing": "required key is missing",
    "missing_argument": "required key is missing",
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "bool_type": "must be true or false",
    "list_type": "must be a list",
    "model_type": "must be a mapping",
    "dataclass_type": "must be a mapping",
    "dict_type": "must be a mapping",
}


def describe(error: Mapping[str, Any]) -> str:
    """A pydantic error as the message a user reads after `path: `."""
    kind = error["type"]
    if kind in _TYPE_MESSAGES:
        return _TYPE_MESSAGES[kind]
    ctx = error.get("ctx", {})
    if kind == "value_error":
        return str(ctx["error"])
    if kind == "literal_error":
        return f"must be {ctx['expected']}"
    if kind == "greater_than_equal":
        return f"must be at least {ctx['ge']}"
    if kind == "less_than_equal":
        return f"must be at most {ctx['le']}"
    if kind == "too_short":
        return f"must have at least {ctx['min_length']} item(s)"
    if kind == "too_long":
        return f"must have at most {ctx['max_length']} item(s)"
    message = str(error["msg"])
    return message[0].lower() + message[1:] if message else kind


def _check_duplicates(data: dict[str, Any], problems: _Problems) -> None:
    domains = data.get("domains")
    first: dict[str, int] = {}
    for index, domain in enumerate(domains if isinstance(domains, list) else []):
        name = domain.get("name") if isinstance(domain, dict) else None
        if not isinstance(name, str):
            continue
        key = name.strip().rstrip(".").lower()
        if key in first:
            problems.add(("domains", index, "name"), f"duplicate of domains[{first[key]}]")
        first.setdefault(key, index)
