"""Configuration: YAML -> frozen, validated Config (loader.py; `load(path)` is the only I/O),
the schema (schema.py, and the per-domain part composed from the record kinds in domains.py),
and what a domain's config asks of it (plan.py)."""
