"""Reading bytes into rows: the format is decided once, from the first bytes (through gzip),
and the bytes looked at are not lost."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator

import pytest

from prefstore.transfer.readers import read_rows, sniffed

NDJSON = b'\xef\xbb\xbf\n\n  {"name": "Ada", "email": "ada@example.com"}\n{"name": "Grace"}\n'
CSV = b"\r\nname,email\nAda,ada@example.com\n"
BRACKETED_CSV = b"[name],email\nAda,ada@example.com\n"


async def _chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def _joined(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in chunks])


@pytest.mark.parametrize("size", [2, 5, 1 << 20])
@pytest.mark.parametrize("gzipped", [False, True])
async def test_sniffed_sees_through_gzip_and_replays_what_it_read(size: int, gzipped: bool) -> None:
    for data, want in ((NDJSON, "ndjson"), (CSV, "csv")):
        raw = gzip.compress(data) if gzipped else data
        fmt, stream = await sniffed(_chunks(raw, size))
        assert fmt == want
        assert await _joined(stream) == raw


async def test_read_rows_sniffs_when_no_format_is_given() -> None:
    batches = [b async for b in read_rows(_chunks(gzip.compress(NDJSON), 7), None)]
    rows = [row for batch in batches for row in batch.rows]
    assert [line for line, _raw in rows] == [3, 4]  # a UTF-8 BOM is no row
    assert rows[0][1] == {"name": "Ada", "email": "ada@example.com"}
    assert all(batch.header is None for batch in batches)


async def test_a_given_format_is_not_second_guessed() -> None:
    """`[name]` would look like NDJSON; the caller said CSV."""
    batches = [b async for b in read_rows(_chunks(BRACKETED_CSV, 3), "csv")]
    assert [row for batch in batches for row in batch.rows] == [(2, ["Ada", "ada@example.com"])]
    assert batches[-1].header == ["[name]", "email"]
