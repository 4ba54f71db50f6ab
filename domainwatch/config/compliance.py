"""The mailbox providers' bulk-sender rule sets (compliance.yaml), as data."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from importlib import resources
from typing import Literal

import yaml

Provider = Literal["gmail", "yahoo", "microsoft"]
PROVIDERS: tuple[Provider, ...] = ("gmail", "yahoo", "microsoft")
# What DNS shows, judged by present/compliance.py; anything else is listed, not judged.
CHECKABLE = ("spf", "dkim", "dkim_key_1024", "dmarc", "alignment", "ptr", "fcrdns", "inbound_tls")


@dataclass(frozen=True, slots=True)
class RuleSet:
    provider: str
    version: str
    rules: tuple[str, ...]
    elsewhere: dict[str, str] = field(default_factory=dict)  # rule -> where to check it


@functools.cache
def rule_sets() -> dict[str, RuleSet]:
    text = resources.files("domainwatch.config").joinpath("compliance.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    return {
        name: RuleSet(name, str(spec["version"]), tuple(spec["rules"]), dict(spec.get("elsewhere") or {}))
        for name, spec in data.items()
    }
