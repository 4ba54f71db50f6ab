"""Provider presets (presets.yaml) merged under a domain's own keys before validation."""

from __future__ import annotations

import copy
import functools
from importlib import resources
from typing import Any

import yaml

Raw = dict[str, Any]


@functools.cache
def presets() -> dict[str, Raw]:
    text = resources.files("domainwatch.config").joinpath("presets.yaml").read_text("utf-8")
    data: dict[str, Raw] = yaml.safe_load(text)
    return data


def apply_preset(domain: Raw) -> tuple[Raw, list[tuple[str, str]]]:
    """Return the domain with its preset's values filled in, and (key path, message) errors."""
    name = domain.get("preset")
    if name is None:
        return domain, []
    preset = presets().get(name) if isinstance(name, str) else None
    if preset is None:
        return domain, [("preset", f"unknown preset; known: {', '.join(sorted(presets()))}")]
    region = domain.get("region")
    errors = _region_errors(name, preset, region)
    if errors:
        return domain, errors
    merged = copy.deepcopy(domain)
    own = merged.get("sending")
    own_sending: Raw = own if isinstance(own, dict) else {}
    sending = _fill(copy.deepcopy(preset.get("sending", {})), {"region": region or ""})
    sending.update(own_sending)
    dkim, dkim_errors = _dkim_entries(name, preset, own_sending.get("dkim"))
    if dkim is not None:
        sending["dkim"] = dkim
    merged["sending"] = sending
    return merged, dkim_errors


def _region_errors(name: str, preset: Raw, region: object) -> list[tuple[str, str]]:
    if "{region}" not in yaml.safe_dump(preset.get("sending", {})):
        return []
    if region is None:
        return [("region", f"required by preset {name}")]
    known = preset.get("regions")
    if known and region not in known:
        return [("region", f"preset {name} supports regions {', '.join(known)}")]
    return []


def _dkim_entries(name: str, preset: Raw, own: object) -> tuple[list[Any] | None, list[tuple[str, str]]]:
    template = preset.get("dkim_cname")
    if own is None:
        selectors = preset.get("dkim_selectors")
        if selectors:
            return [{"selector": s} for s in selectors], []
        if preset.get("dkim_selector_count"):
            count = preset["dkim_selector_count"]
            return None, [
                (
                    "sending.dkim",
                    f"preset {name} needs the {count} DKIM selectors (tokens) your provider gave you",
                )
            ]
        return None, []
    if not isinstance(own, list) or template is None:
        return None, []
    return [_with_cname(entry, template) for entry in own], []


def _with_cname(entry: Any, template: str) -> Any:
    """A DKIM entry with neither cname nor public_key gets the preset's delegated CNAME."""
    if not isinstance(entry, dict) or "cname" in entry or "public_key" in entry:
        return entry
    selector = entry.get("selector")
    if not isinstance(selector, str):
        return entry
    return {**entry, "cname": template.format(selector=selector.lower())}


def _fill(value: Any, variables: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**variables)
    if isinstance(value, dict):
        return {k: _fill(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, variables) for v in value]
    return value
