"""Streaming readers: byte chunks (a file or an HTTP body) -> rows, never the whole input.

`read_rows` is the one entry: format (sniffed when not given), gunzip, text encoding, lines,
parse. gzip is recognised by its magic bytes, the format by the first character of the
(gunzipped) text. CSV records may span lines (quoted newlines): a record is complete when it
holds an even number of quote characters (RFC 4180 doubles quotes inside fields). A line
that cannot be read becomes a rejection, not an abort.

Files are read as CRM tools and spreadsheets write them (docs/IMPORT.md): in UTF-8 (with or
without a byte-order mark), UTF-16/32 or, guessed, another encoding (`_as_utf8`); lines
ending in LF, CRLF or a CR alone, mixed (`_lines`); CSV delimited by `,` `;` or tab, or as
Excel's `sep=` first line says (`CsvParser._dialect`).
"""

from __future__ import annotations

import asyncio
import codecs
import csv
import re
import zlib
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from pathlib import Path
from typing import Any, Literal, NamedTuple

import msgspec

from prefstore.errors import InvalidInput, TooLarge
from prefstore.transfer.encodings import guessed, marked, transcoded

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
DETECT_BYTES = 1 << 16
"""Bytes, from the first non-ASCII one, that decide the text encoding (UTF-8 or guessed)."""
_BOM = b"\xef\xbb\xbf"
_BLANK = _BOM + b" \t\r\n"
_DELIMITERS = ",;\t"
_SEP_LINE = re.compile(r'"?sep=([,;\t|])"?[,;\t|]*', re.IGNORECASE)
"""Excel's first line naming the delimiter (`sep=;`), trailing empty cells allowed."""
_QUOTED = re.compile(r'"[^"]*"')
_ASCII = bytes(range(0x80))

csv.field_size_limit(MAX_LINE_BYTES)


class TextEncoding:
    """The input's text encoding as `_as_utf8` found it (a codec name; "utf-8" until a
    non-ASCII byte says otherwise): parsers name it in rejections, the summary reports it."""

    def __init__(self) -> None:
        self.name = "utf-8"


async def file_chunks(path: Path, progress: list[int] | None = None) -> AsyncIterator[bytes]:
    """Read a file in chunks off the event loop; `progress[0]` counts bytes read."""
    with path.open("rb") as handle:
        while chunk := await asyncio.to_thread(handle.read, CHUNK_BYTES):
            if progress is not None:
                progress[0] += len(chunk)
            yield chunk


def _too_large(limit: int) -> TooLarge:
    return TooLarge(f"an import is limited to {limit} bytes of (decompressed) input")


async def _head(chunks: AsyncIterable[bytes], size: int) -> tuple[bytes, AsyncIterator[bytes]]:
    """The first `size` bytes at least (fewer: the whole input), however small the chunks
    come, and the stream after them."""
    source, head = aiter(chunks), b""
    async for chunk in source:
        head += chunk
        if len(head) >= size:
            break
    return head, source


async def _gunzipped(chunks: AsyncIterable[bytes], limit: int | None) -> AsyncIterator[bytes]:
    """Pass bytes through, or gunzip them when they start with the gzip magic; TooLarge
    past `limit` bytes of output (None: no limit)."""
    head, source = await _head(chunks, len(GZIP_MAGIC))
    inflate: Any = zlib.decompressobj(wbits=31) if head.startswith(GZIP_MAGIC) else None
    read = out = 0
    async for chunk in _replayed([head], source):
        if inflate is None:
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


async def _as_utf8(chunks: AsyncIterable[bytes], seen: TextEncoding) -> AsyncIterator[bytes]:
    """The text as UTF-8, whatever it was written in; `seen.name` says what that was. A
    byte-order mark names the encoding, as do UTF-16's NUL bytes without one. Otherwise the
    text is UTF-8 until its first non-ASCII byte; from there `DETECT_BYTES` decide: valid
    UTF-8 is passed on untouched, anything else is guessed (`encodings.guessed`) and
    transcoded as it streams. Memory: at most `DETECT_BYTES` and one chunk."""
    head, source = await _head(chunks, 4)  # for a byte-order mark
    name, mark = marked(head) if not head.isascii() or b"\x00" in head else (None, 0)
    if name is not None:  # a mark is trusted (nothing is guessed), and dropped
        seen.name = name
        rest = _replayed([head[mark:]], source)
        async for chunk in rest if name == "utf-8-sig" else transcoded(rest, name):
            yield chunk
        return
    # UTF-8 until a non-ASCII byte, then decided on at most DETECT_BYTES from there.
    window: list[bytes] = []
    start = size = 0
    ended = True
    async for chunk in _replayed([head], source):
        if not window:
            if chunk.isascii():  # the whole cost of plain UTF-8, until its first non-ASCII
                if chunk:
                    yield chunk
                continue
            start = len(chunk) - len(chunk.lstrip(_ASCII))
        window.append(chunk)
        size += len(chunk)
        if size - start >= DETECT_BYTES:
            ended = False
            break
    sample = b"".join(window)[start : start + DETECT_BYTES]
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=ended)
    except UnicodeDecodeError:
        seen.name = guessed(sample)
    rest = _replayed(window, source)
    async for chunk in rest if seen.name == "utf-8" else transcoded(rest, seen.name):
        yield chunk


async def _lines(chunks: AsyncIterable[bytes]) -> AsyncIterator[list[tuple[int, bytes | None]]]:
    """Batches of (line number, line without its end); None for an over-long line. A line
    ends at LF, CRLF or a CR alone."""
    pending = b""
    number = 0
    skipping = False
    async for chunk in chunks:
        data = pending + chunk
        # `bytes.splitlines` ends lines at LF, CRLF and CR alone, in one pass (in C).
        parts = data.splitlines()
        pending = b""
        if parts and not data.endswith(b"\n"):
            # The last line goes on in the next chunk; a CR ending it may be half a CRLF.
            pending = parts.pop() + (b"\r" if data.endswith(b"\r") else b"")
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
    pending = pending.removesuffix(b"\r")
    if pending or skipping:
        yield [(number + 1, None if skipping else pending)]


async def sniffed(chunks: AsyncIterator[bytes]) -> tuple[Format, AsyncIterator[bytes]]:
    """What format a byte stream holds, decided in this one place: looking through gzip (its
    magic bytes), a first `{` or `[` is NDJSON, anything else CSV. Returns the format and the
    stream as it was, the bytes read to decide replayed first."""
    first, rest = await _head(chunks, len(GZIP_MAGIC))
    inflate = zlib.decompressobj(wbits=31) if first.startswith(GZIP_MAGIC) else None
    head: list[bytes] = []
    text = b""
    async for chunk in _replayed([first], rest):
        head.append(chunk)
        try:
            # Bounded: the gzip bomb check is `_gunzipped`'s; this only needs a few bytes.
            text += inflate.decompress(chunk, SNIFF_BYTES) if inflate else chunk
        except zlib.error:
            break  # reading the stream (`_gunzipped`) reports it
        # Four bytes at least: a byte-order mark (UTF-16's, UTF-32's) is not a character.
        if (len(text) >= 4 and _first_character(text)) or len(text) >= SNIFF_BYTES:
            break
        if inflate and inflate.eof:
            break
    fmt: Format = "ndjson" if _first_character(text) in (b"{", b"[") else "csv"
    return fmt, _replayed(head, rest)


def _first_character(text: bytes) -> bytes:
    """The first character that is not blank (as UTF-8), if `text` has one yet."""
    name, mark = marked(text)
    if name is not None and name != "utf-8-sig":
        text = text[mark:].decode(name, "ignore").encode()
    return text.lstrip(_BLANK)[:1]


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
    encoding: str
    """The input's text encoding, as far as it has been read (`TextEncoding`)."""


async def read_rows(
    chunks: AsyncIterator[bytes], fmt: Format | None, max_bytes: int | None = None
) -> AsyncIterator[Rows]:
    """Bytes (gzipped or not) -> rows, in input order; `fmt` None: sniffed from the start.
    TooLarge past `max_bytes` of decompressed input (None: no limit)."""
    if fmt is None:
        fmt, chunks = await sniffed(chunks)
    seen = TextEncoding()
    parser = CsvParser(seen) if fmt == "csv" else NdjsonParser(seen)
    async for batch in _lines(_as_utf8(_gunzipped(chunks, max_bytes), seen)):
        rows = parser.feed(batch)
        if rows:
            yield Rows(parser.header, rows, seen.name)
    rest = parser.finish()
    if rest:
        yield Rows(parser.header, rest, seen.name)


class CsvParser:
    """Feeds lines, yields (line, cells). The first record that is not blank is the header;
    the delimiter is decided on it (`_dialect`)."""

    def __init__(self, encoding: TextEncoding | None = None) -> None:
        self.header: list[str] | None = None
        self.delimiter: str | None = None
        self._encoding = encoding or TextEncoding()
        self._record: list[str] = []
        self._start = 0
        self._quotes = 0
        self._size = 0

    def feed(self, batch: list[tuple[int, bytes | None]]) -> list[Row]:
        starts: list[int] = []
        records: list[str] = []
        out: list[Row] = []
        for number, raw in batch:
            if raw is None:
                out.append((number, InvalidInput("row", f"longer than {MAX_LINE_BYTES} bytes")))
                self._record, self._quotes, self._size = [], 0, 0
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                out.append((number, InvalidInput("row", f"not {self._encoding.name} text")))
                continue
            if not self._record:
                self._start = number
            self._record.append(text)
            self._size += len(text)
            self._quotes += text.count('"')
            if self._quotes % 2 and self._size > MAX_LINE_BYTES:
                # An unbalanced quote would otherwise gather the rest of the file.
                out.append((self._start, InvalidInput("row", "quoted field runs on too long")))
                self._record, self._quotes, self._size = [], 0, 0
                continue
            if self._quotes % 2 == 0:
                starts.append(self._start)
                records.append("\n".join(self._record))
                self._record, self._quotes, self._size = [], 0, 0
        if self.delimiter is None:
            self._dialect(starts, records)
        for number, cells in _parse(starts, records, self.delimiter):
            if isinstance(cells, InvalidInput):
                out.append((number, cells))
            elif any(c.strip() for c in cells):  # blank lines and Excel's empty rows: skipped
                if self.header is None:
                    self.header = cells
                else:
                    out.append((number, cells))
        out.sort(key=lambda row: row[0])
        return out

    def _dialect(self, starts: list[int], records: list[str]) -> None:
        """The delimiter, from the first record not blank: what Excel's `sep=;` line names
        (the line is then dropped), else the one of `,` `;` tab the header has most of
        outside quotes (`,` on a tie)."""
        first = next((i for i, record in enumerate(records) if record.strip()), None)
        if first is None:
            return
        if found := _SEP_LINE.fullmatch(records[first].strip()):
            self.delimiter = found[1]
            del starts[first], records[first]
            return
        unquoted = _QUOTED.sub("", records[first])
        self.delimiter = max(_DELIMITERS, key=lambda d: (unquoted.count(d), d == ","))

    def finish(self) -> list[Row]:
        if self._record:
            return [(self._start, InvalidInput("row", "unterminated quoted field"))]
        return []


def _parse(starts: list[int], records: list[str], delimiter: str | None) -> Iterable[Row]:
    """(line, cells) of each record (a whole record each: quoted newlines stay in the field).
    A record of several lines that the csv module refuses was joined by a stray quote
    (`5'11"`, `Bo"b`): its lines are read one by one, so no row is lost with it."""
    delimiter = delimiter or ","
    try:
        # One row per record, or one was misread: `x"y,"z` has even quotes, yet the csv
        # module takes its second quote as opening a field, which runs into the next record.
        if len(parsed := list(csv.reader(records, delimiter=delimiter))) == len(records):
            return zip(starts, parsed, strict=True)
    except csv.Error:
        pass
    out: list[Row] = []
    for number, text in zip(starts, records, strict=True):
        try:
            out.append((number, next(csv.reader([text], delimiter=delimiter), [])))
        except csv.Error as exc:
            if "\n" not in text:
                out.append((number, InvalidInput("row", f"not CSV: {exc}")))
                continue
            lines = text.split("\n")
            out += _parse([number + i for i in range(len(lines))], lines, delimiter)
    return out


class NdjsonParser:
    _decoder = msgspec.json.Decoder()

    def __init__(self, encoding: TextEncoding | None = None) -> None:
        self.header: list[str] | None = None
        self._encoding = encoding or TextEncoding()

    def feed(self, batch: list[tuple[int, bytes | None]]) -> list[Row]:
        out: list[Row] = []
        for number, raw in batch:
            if raw is None:
                out.append((number, InvalidInput("row", f"longer than {MAX_LINE_BYTES} bytes")))
                continue
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
            except UnicodeDecodeError:  # msgspec's answer to a string that is not UTF-8
                out.append((number, InvalidInput("row", f"not {self._encoding.name} text")))
                continue
            if not isinstance(obj, dict):
                out.append((number, InvalidInput("row", "expected a JSON object per line")))
                continue
            out.append((number, obj))
        return out

    def finish(self) -> list[Row]:
        return []
