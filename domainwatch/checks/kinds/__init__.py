"""The record kinds: one module each (a folder for a kind that needs several), pure:
config model, expectation, queries, evaluation, findings, fixes. Each ends in `KIND = RecordKind(...)`,
listed once in checks/registry.py."""
