"""What a reload changes, as counts for the `config_reloaded` line (pure)."""

from __future__ import annotations

from domainwatch.config.schema import Config


def config_changes(old: Config, new: Config) -> dict[str, int | list[str]]:
    """Config domains added, removed and changed, and the other top-level keys that changed."""
    before = {d.name: d for d in old.domains}
    after = {d.name: d for d in new.domains}
    settings = [
        key for key in Config.model_fields if key != "domains" and getattr(old, key) != getattr(new, key)
    ]
    return {
        "added": sum(name not in before for name in after),
        "removed": sum(name not in after for name in before),
        "changed": sum(name in before and before[name] != domain for name, domain in after.items()),
        "settings": settings,
    }
