"""The async machinery that drives the pure kinds: the runner (queries in rounds, then evaluation),
authoritative views, the second look, delegation and DNSSEC diagnoses, and the guard on results."""
