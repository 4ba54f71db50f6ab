"""Record values in domainwatch's canonical text form, where a type has several (see Lookup)."""

from __future__ import annotations


def tlsa_text(usage: int, selector: int, mtype: int, data: bytes) -> str:
    """A TLSA record as `usage selector mtype hex`: lower-case hex in one piece (dnspython
    splits long data into chunks; both transports must give the same text)."""
    return f"{usage} {selector} {mtype} {data.hex()}"
