"""A fast DNS path: a minimal wire codec and a multiplexing UDP transport (see docs/performance.md)."""
