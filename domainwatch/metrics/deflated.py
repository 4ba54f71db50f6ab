"""Text kept compressed in segments that one gzip stream can be made of without compressing again.

A segment is raw DEFLATE ending on a byte boundary and not final (a sync flush, as pigz
writes its blocks), with the CRC-32 and length of its text. Any sequence of segments, a final
empty block and a trailer whose CRC is the segments' CRCs combined is one valid gzip member
(RFC 1951, RFC 1952): a scrape joins the kept segments instead of compressing 200 MB of text,
and every HTTP client can read it (some stop after a gzip stream's first member, so this is
one member, not a concatenation of them).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate

from isal import isal_zlib

LEVEL = 1  # the text is repetitive: level 1 already makes it 20x smaller, and at ~300 MB/s
_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # no name, no time, OS unknown
_FINAL = b"\x03\x00"  # an empty final fixed-Huffman block


@dataclass(frozen=True, slots=True)
class Segment:
    data: bytes  # raw DEFLATE, sync-flushed
    crc: int  # CRC-32 of the text
    size: int  # the text's length in bytes


EMPTY = Segment(b"", 0, 0)


def deflate(text: bytes) -> Segment:
    if not text:
        return EMPTY
    compressor = isal_zlib.compressobj(LEVEL, isal_zlib.DEFLATED, -isal_zlib.MAX_WBITS)
    data = compressor.compress(text) + compressor.flush(isal_zlib.Z_SYNC_FLUSH)
    return Segment(data, isal_zlib.crc32(text), len(text))


def inflate(segment: Segment) -> bytes:
    if not segment.size:
        return b""
    return isal_zlib.decompressobj(-isal_zlib.MAX_WBITS).decompress(segment.data)


def gzip_stream(segments: Iterable[Segment]) -> bytes:
    """One gzip member holding the segments' texts in order."""
    crc, size, out = 0, 0, [_HEADER]
    for segment in segments:
        if segment.size:
            out.append(segment.data)
            crc = isal_zlib.crc32_combine(crc, segment.crc, segment.size)
            size += segment.size
    out += [_FINAL, struct.pack("<II", crc & 0xFFFFFFFF, size & 0xFFFFFFFF)]
    return b"".join(out)


def plain(segments: Iterable[Segment]) -> bytes:
    """The segments' texts joined (a scraper that does not accept gzip)."""
    return b"".join(inflate(segment) for segment in segments)


def spliced(segment: Segment, lengths: Sequence[int], changes: dict[int, bytes]) -> Segment:
    """The segment's text with the pieces at `changes`' indexes replaced; `lengths` are the
    pieces' lengths, in order, and are updated in place to the new ones."""
    text = inflate(segment)
    ends = list(accumulate(lengths))
    out, done = [], 0
    for index in sorted(changes):
        start = ends[index] - lengths[index]
        out += [text[done:start], changes[index]]
        done = ends[index]
    out.append(text[done:])
    for index, piece in changes.items():
        lengths[index] = len(piece)  # type: ignore[index]
    return deflate(b"".join(out))
