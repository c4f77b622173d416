"""Streaming readers: byte chunks (a file or an HTTP body) -> rows, never the whole input.

`read_rows` is the one entry: format (sniffed when not given), gunzip, lines, parse. gzip
is recognised by its magic bytes, the format by the first byte of the (gunzipped) text.
CSV records may span lines (quoted newlines): a record is complete when it holds an even
number of quote characters (RFC 4180 doubles quotes inside fields). A line that cannot be
read becomes a rejection, not an abort.
"""

from __future__ import annotations

import asyncio
import csv
import zlib
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from pathlib import Path
from typing import Any, Literal, NamedTuple

import msgspec

from prefstore.errors import InvalidInput, TooLarge

Format = Literal["csv", "ndjson"]
CHUNK_BYTES = 1 << 20
MAX_LINE_BYTES = 1 << 20
"""A row longer than this is rejected (and skipped) rather than buffered."""
MAX_DECOMPRESSED_RATIO = 200
"""gzip bombs: refuse input that inflates more than this over what was read."""

Row = tuple[int, Any]
"""(line number, cells | object | InvalidInput)."""
GZIP_MAGIC = b"\x1f\x8b"
SNIFF_BYTES = 4096
"""Text looked at, at most, to tell NDJSON from CSV (leading blank lines are skipped)."""
_BOM = b"\xef\xbb\xbf"
_BLANK = _BOM + b" \t\r\n"

csv.field_size_limit(MAX_LINE_BYTES)


async def file_chunks(path: Path, progress: list[int] | None = None) -> AsyncIterator[bytes]:
    """Read a file in chunks off the event loop; `progress[0]` counts bytes read."""
    with path.open("rb") as handle:
        while chunk := await asyncio.to_thread(handle.read, CHUNK_BYTES):
            if progress is not None:
                progress[0] += len(chunk)
            yield chunk


def _too_large(limit: int) -> TooLarge:
    return TooLarge(f"an import is limited to {limit} bytes of (decompressed) input")


async def _gunzipped(chunks: AsyncIterable[bytes], limit: int | None) -> AsyncIterator[bytes]:
    """Pass bytes through, or gunzip them when they start with the gzip magic; TooLarge
    past `limit` bytes of output (None: no limit)."""
    inflate: Any = None
    read = out = 0
    async for chunk in chunks:
        if not chunk:
            continue
        if inflate is None:
            inflate = zlib.decompressobj(wbits=31) if chunk[:2] == GZIP_MAGIC else False
        if inflate is False:
            out += len(chunk)
            if limit is not None and out > limit:
                raise _too_large(limit)
            yield chunk
            continue
        read += len(chunk)
        try:
            # At most one chunk of output per step: a bomb is caught before it is inflated.
            data = inflate.decompress(chunk, CHUNK_BYTES)
            while True:
                out += len(data)
                if out > MAX_DECOMPRESSED_RATIO * read + CHUNK_BYTES:
                    raise InvalidInput(
                        "body", "gzip input inflates implausibly (compression bomb?)"
                    )
                if limit is not None and out > limit:
                    raise _too_large(limit)
                if data:
                    yield data
                if inflate.unconsumed_tail:
                    data = inflate.decompress(inflate.unconsumed_tail, CHUNK_BYTES)
                elif inflate.eof and inflate.unused_data:  # concatenated gzip members
                    rest = inflate.unused_data
                    inflate = zlib.decompressobj(wbits=31)
                    data = inflate.decompress(rest, CHUNK_BYTES)
                else:
                    break
        except zlib.error as exc:
            raise InvalidInput("body", f"not valid gzip: {exc}") from None


async def _lines(chunks: AsyncIterable[bytes]) -> AsyncIterator[list[tuple[int, bytes | None]]]:
    """Batches of (line number, line without newline); None for an over-long line."""
    pending = b""
    number = 0
    skipping = False
    async for chunk in chunks:
        parts = (pending + chunk).split(b"\n")
        pending = parts.pop()
        batch: list[tuple[int, bytes | None]] = []
        for part in parts:
            number += 1
            if skipping:
                batch.append((number, None))
                skipping = False
            else:
                batch.append((number, part if len(part) <= MAX_LINE_BYTES else None))
        if len(pending) > MAX_LINE_BYTES:
            pending, skipping = b"", True
        if batch:
            yield batch
    if pending or skipping:
        yield [(number + 1, None if skipping else pending)]


async def sniffed(chunks: AsyncIterator[bytes]) -> tuple[Format, AsyncIterator[bytes]]:
    """What format a byte stream holds, decided in this one place: looking through gzip (its
    magic bytes), a first `{` or `[` is NDJSON, anything else CSV. Returns the format and the
    stream as it was, the bytes read to decide replayed first."""
    head: list[bytes] = []
    text = b""
    inflate: Any = None
    async for chunk in chunks:
        if not chunk:
            continue
        head.append(chunk)
        if inflate is None:
            inflate = zlib.decompressobj(wbits=31) if chunk[:2] == GZIP_MAGIC else False
        try:
            # Bounded: the gzip bomb check is `_gunzipped`'s; this only needs a few bytes.
            text += inflate.decompress(chunk, SNIFF_BYTES) if inflate else chunk
        except zlib.error:
            break  # reading the stream (`_gunzipped`) reports it
        if text.lstrip(_BLANK) or len(text) >= SNIFF_BYTES or (inflate and inflate.eof):
            break
    fmt: Format = "ndjson" if text.lstrip(_BLANK)[:1] in (b"{", b"[") else "csv"
    return fmt, _replayed(head, chunks)


async def _replayed(head: list[bytes], rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    for chunk in head:
        yield chunk
    async for chunk in rest:
        yield chunk


class Rows(NamedTuple):
    """Rows read from consecutive lines."""

    header: list[str] | None
    """The CSV header they are read under; None for NDJSON (each object names its own)."""
    rows: list[Row]


async def read_rows(
    chunks: AsyncIterator[bytes], fmt: Format | None, max_bytes: int | None = None
) -> AsyncIterator[Rows]:
    """Bytes (gzipped or not) -> rows, in input order; `fmt` None: sniffed from the start.
    TooLarge past `max_bytes` of decompressed input (None: no limit)."""
    if fmt is None:
        fmt, chunks = await sniffed(chunks)
    parser: CsvParser | NdjsonParser = CsvParser() if fmt == "csv" else NdjsonParser()
    async for batch in _lines(_gunzipped(chunks, max_bytes)):
        rows = parser.feed(batch)
        if rows:
            yield Rows(parser.header, rows)
    rest = parser.finish()
    if rest:
        yield Rows(parser.header, rest)


class CsvParser:
    """Feeds lines, yields (line, cells). The first record is the header."""

    def __init__(self) -> None:
        self.header: list[str] | None = None
        self._record: list[str] = []
        self._start = 0
        self._quotes = 0
        self._size = 0

    def feed(self, batch: list[tuple[int, bytes | None]]) -> list[Row]:
        records: list[tuple[int, str]] = []
        out: list[Row] = []
        for number, raw in batch:
            if raw is None:
                out.append((number, InvalidInput("row", f"longer than {MAX_LINE_BYTES} bytes")))
                self._record, self._quotes, self._size = [], 0, 0
                continue
            try:
                text = raw.decode("utf-8").removesuffix("\r")
            except UnicodeDecodeError:
                out.append((number, InvalidInput("row", "not UTF-8 text")))
                continue
            if not self._record:
                self._start = number
                if number == 1:
                    text = text.removeprefix("\ufeff")
            self._record.append(text)
            self._size += len(text)
            self._quotes += text.count('"')
            if self._quotes % 2 and self._size > MAX_LINE_BYTES:
                # An unbalanced quote would otherwise gather the rest of the file.
                out.append((self._start, InvalidInput("row", "quoted field runs on too long")))
                self._record, self._quotes, self._size = [], 0, 0
                continue
            if self._quotes % 2 == 0:
                records.append((self._start, "\n".join(self._record)))
                self._record, self._quotes, self._size = [], 0, 0
        for (number, _text), cells in zip(records, _parse(r for _, r in records), strict=True):
            if self.header is None:
                self.header = cells
            elif any(c.strip() for c in cells):
                out.append((number, cells))
        out.sort(key=lambda row: row[0])
        return out

    def finish(self) -> list[Row]:
        if self._record:
            return [(self._start, InvalidInput("row", "unterminated quoted field"))]
        return []


def _parse(records: Iterator[str]) -> list[list[str]]:
    # Each element is one whole record; the reader keeps quoted newlines inside a field.
    return list(csv.reader(records))


class NdjsonParser:
    _decoder = msgspec.json.Decoder()

    def __init__(self) -> None:
        self.header: list[str] | None = None

    def feed(self, batch: list[tuple[int, bytes | None]]) -> list[Row]:
        out: list[Row] = []
        for number, raw in batch:
            if raw is None:
                out.append((number, InvalidInput("row", f"longer than {MAX_LINE_BYTES} bytes")))
                continue
            if number == 1:
                raw = raw.removeprefix(_BOM)  # as the sniff and the CSV reader allow it
            if not raw.strip():
                continue
            try:
                obj = self._decoder.decode(raw)
            except msgspec.DecodeError as exc:
                out.append((number, InvalidInput("row", f"not JSON: {exc}")))
                continue
            except RecursionError:  # `[[[[…` a megabyte deep
                out.append((number, InvalidInput("row", "JSON nested too deeply")))
                continue
            if not isinstance(obj, dict):
                out.append((number, InvalidInput("row", "expected a JSON object per line")))
                continue
            out.append((number, obj))
        return out

    def finish(self) -> list[Row]:
        return []
