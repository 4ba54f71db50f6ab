"""The daemon's errors the front doors answer (light: the CLI imports it for --help)."""

from __future__ import annotations


class HandoffError(Exception):
    """A write handed to the replica holding the domain (daemon/handoff.py) was not done: none
    answered in time, or it failed."""
