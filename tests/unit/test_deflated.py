"""Segments of deflated text, and the one gzip stream a scrape makes of them."""

from __future__ import annotations

import gzip
import zlib
from array import array

from hypothesis import given
from hypothesis import strategies as st

from domainwatch.metrics.deflated import EMPTY, deflate, gzip_stream, inflate, plain, spliced

texts = st.lists(st.binary(max_size=3000), max_size=12)
LINE = b'domainwatch_domain_status{domain="d1.example.com",status="verified"} 1.0\n'


@given(texts)
def test_the_segments_of_texts_make_one_gzip_member_of_them_all(parts: list[bytes]) -> None:
    body = gzip_stream(deflate(part) for part in parts)
    assert b"".join(parts) == gzip.decompress(body)
    # One member, so a client that reads only a stream's first member (zlib's own
    # decompressobj, as aiohttp uses it) gets everything too.
    reader = zlib.decompressobj(16 + zlib.MAX_WBITS)
    assert b"".join(parts) == reader.decompress(body)
    assert reader.eof
    assert b"" == reader.unused_data


@given(texts)
def test_plain_is_the_texts_joined(parts: list[bytes]) -> None:
    assert b"".join(parts) == plain([deflate(part) for part in parts])


def test_an_empty_text_is_the_empty_segment() -> None:
    assert EMPTY == deflate(b"")
    assert b"" == inflate(EMPTY)
    assert b"" == gzip.decompress(gzip_stream([]))


def test_the_exposition_text_compresses_well() -> None:
    text = LINE * 10_000
    assert len(deflate(text).data) * 20 < len(text)


@given(st.lists(st.binary(max_size=200), min_size=1, max_size=30), st.data())
def test_a_splice_replaces_exactly_the_pieces_given(pieces: list[bytes], data: st.DataObject) -> None:
    indexes = data.draw(st.sets(st.integers(0, len(pieces) - 1)))
    changes = {i: data.draw(st.binary(max_size=200)) for i in indexes}
    lengths = array("I", map(len, pieces))
    segment = spliced(deflate(b"".join(pieces)), lengths, changes)
    expected = [changes.get(i, piece) for i, piece in enumerate(pieces)]
    assert b"".join(expected) == inflate(segment)
    assert list(map(len, expected)) == list(lengths)
