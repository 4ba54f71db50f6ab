"""Random bytes from the OS's CSPRNG, fetched a few kilobytes at a time.

DNS query ids (which an off-path attacker must guess to spoof an answer) and event ids (UUID 7)
are drawn for every query and every status change; a system call for each was a tenth of the
DNS transport's time and a twentieth of a daemon round's (docs/performance.md).
"""

from __future__ import annotations

import os

_REFILL = 4096


class RandomPool:
    def __init__(self) -> None:
        self._pool, self._at = b"", 0

    def take(self, count: int) -> bytes:
        if self._at + count > len(self._pool):
            self._pool, self._at = os.urandom(max(_REFILL, count)), 0
        self._at += count
        return self._pool[self._at - count : self._at]

    def word(self) -> int:
        """A random 16-bit number."""
        return int.from_bytes(self.take(2), "big")

    def uuid7_hex(self, unix_ms: int) -> str:
        """A version 7 UUID (RFC 9562 §5.7) in uuid.UUID.hex form: 48 bits of Unix time in
        milliseconds, then 74 random bits. Time-ordered ids keep the store's index appends
        sequential, where random (version 4) ids scattered them over the whole index."""
        octets = bytearray((unix_ms & 0xFFFF_FFFF_FFFF).to_bytes(6, "big") + self.take(10))
        octets[6] = (octets[6] & 0x0F) | 0x70  # version 7
        octets[8] = (octets[8] & 0x3F) | 0x80  # the RFC's variant
        return octets.hex()
