"""Reading bytes into rows: the format is decided once, from the first bytes (through gzip),
and the bytes looked at are not lost; files come in as CRM tools and spreadsheets write them
(encodings, line endings, delimiters, Excel's quirks), built here as bytes."""

from __future__ import annotations

import codecs
import gzip
from collections.abc import AsyncIterator

import pytest

from prefstore.transfer import readers
from prefstore.transfer.readers import DETECT_BYTES, Format, Row, read_rows, sniffed

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


# ------------------------------------------------- CRM files as they come (issue 13)
async def _read(
    data: bytes, size: int = 1 << 20, fmt: Format | None = None
) -> tuple[list[str] | None, list[Row], str]:
    """(header, rows, encoding) of `data` read in chunks of `size`."""
    header, rows, encoding = None, [], "?"
    async for batch in read_rows(_chunks(data, size), fmt):
        header, encoding = batch.header, batch.encoding
        rows += batch.rows
    return header, rows, encoding


def _cells(rows: list[Row]) -> list[tuple[int, object]]:
    return [(line, raw if isinstance(raw, list | dict) else str(raw)) for line, raw in rows]


TEXT = "name,email\nZoë Müller,zoe@example.com\nCafé Señor,cafe@example.com\n"
WANT = [(2, ["Zoë Müller", "zoe@example.com"]), (3, ["Café Señor", "cafe@example.com"])]
ENCODED = {
    "utf-8": TEXT.encode(),
    "utf-8-sig": codecs.BOM_UTF8 + TEXT.encode(),
    "utf-16-le": codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"),
    "utf-16-be": codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"),
    "utf-32-le": codecs.BOM_UTF32_LE + TEXT.encode("utf-32-le"),
    "cp1252": TEXT.encode("cp1252"),
}


@pytest.mark.parametrize("size", [1, 3, 1 << 20])
@pytest.mark.parametrize("name", list(ENCODED))
async def test_the_encoding_is_detected_and_reported(name: str, size: int) -> None:
    header, rows, encoding = await _read(ENCODED[name], size)
    assert (header, rows, encoding) == (["name", "email"], WANT, name)
    gzipped = await _read(gzip.compress(ENCODED[name]), size)
    assert gzipped == (header, rows, encoding)


async def test_latin_1_and_windows_1252_text_read_as_written() -> None:
    """Latin-1 reads the same as Windows-1252 (but for C1 controls, which no CRM writes);
    Windows-1252's own characters (curly quotes, the euro sign, dashes) read as themselves."""
    latin = "name\nJosé Núñez\nFrançois Dœuf\n".replace("œ", "o")
    assert [r for _l, r in (await _read(latin.encode("latin-1")))[1]] == [
        ["José Núñez"],
        ["François Douf"],
    ]
    note = "\u201cWindow table\u201d \u2013 \u20ac5 tip"  # curly quotes, en dash, euro
    _header, rows, encoding = await _read(f"name,notes\nAnn,{note}\n".encode("cp1252"))
    assert (rows, encoding) == ([(2, ["Ann", note])], "cp1252")


async def test_utf16_without_a_mark_is_told_by_its_nul_bytes() -> None:
    for name in ("utf-16-le", "utf-16-be"):
        assert await _read(TEXT.encode(name), 5) == (["name", "email"], WANT, name)


async def test_a_late_first_non_ascii_character_still_decides() -> None:
    """The encoding is decided at the first non-ASCII byte, however far into the file."""
    ascii_rows = "".join(f"Person {n},p{n}@example.com\n" for n in range(5000))
    assert len(ascii_rows) > 2 * DETECT_BYTES
    for name in ("cp1252", "utf-8"):
        data = ("name,email\n" + ascii_rows + "José,jose@example.com\n").encode(name)
        _header, rows, encoding = await _read(data, 4096)
        assert (rows[-1], encoding) == ((5002, ["José", "jose@example.com"]), name)
        assert all(isinstance(raw, list) for _line, raw in rows)


async def test_plain_utf8_is_never_guessed_at(monkeypatch: pytest.MonkeyPatch) -> None:
    """The import path for UTF-8 pays no detection: the guesser is not even called."""

    def refuse(_sample: bytes) -> str:
        raise AssertionError("guessed an encoding for UTF-8 input")

    monkeypatch.setattr(readers, "guessed", refuse)
    for data in (TEXT.encode(), b"name\nAnn\n", codecs.BOM_UTF8 + TEXT.encode()):
        assert (await _read(data, 3))[2] in ("utf-8", "utf-8-sig")


async def test_detection_streams_in_bounded_memory() -> None:
    """A Windows-1252 file is transcoded as it streams: its first rows come out after the
    detection window, long before the rest of the input has been read."""
    pulled = 0
    row = "Zoë,zoe@example.com\n".encode("cp1252")

    async def endless() -> AsyncIterator[bytes]:
        nonlocal pulled
        yield b"name,email\n"
        for _ in range(1000):
            pulled += 1
            yield row * 3000  # ~60 kB a chunk, ~60 MB in all

    first = None
    async for batch in read_rows(endless(), "csv"):
        first = batch
        break
    assert first is not None and first.encoding == "cp1252"
    assert first.rows[0] == (2, ["Zoë", "zoe@example.com"])
    assert pulled <= 3


async def test_bytes_the_encoding_cannot_read_reject_their_line_only() -> None:
    # A lone surrogate is no UTF-16 character: its line is refused, naming the encoding.
    data = codecs.BOM_UTF16_LE + "name\nZoë\n".encode("utf-16-le")
    data += b"\x00\xd8" + "bad\nCafé\n".encode("utf-16-le")
    _header, rows, encoding = await _read(data, 3)
    assert encoding == "utf-16-le"
    assert _cells(rows) == [(2, ["Zoë"]), (3, "row: not utf-16-le text"), (4, ["Café"])]


@pytest.mark.parametrize("size", [1, 2, 1 << 20])
@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r", "mixed"])
async def test_line_endings(ending: str, size: int) -> None:
    """LF, CRLF, old-Mac CR alone, and a mix: the same rows on the same line numbers; a
    quoted line break inside a field is kept (as LF)."""
    lines = ["name,notes", "Ann,plain", 'Bob,"two', 'lines"', "Cy,last"]
    ends = ["\r\n", "\n", "\r", "\r\n", "\r"] if ending == "mixed" else [ending] * 5
    data = "".join(line + end for line, end in zip(lines, ends, strict=True)).encode()
    header, rows, _encoding = await _read(data, size)
    assert header == ["name", "notes"]
    assert rows == [(2, ["Ann", "plain"]), (3, ["Bob", "two\nlines"]), (5, ["Cy", "last"])]
    unterminated = await _read(data.rstrip(b"\r\n"), size)
    assert unterminated[1] == rows


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("name,email\nAnn,a@example.com\n", ["Ann", "a@example.com"]),
        ("name;email\nAnn;a@example.com\n", ["Ann", "a@example.com"]),
        ("name\temail\nAnn\ta@example.com\n", ["Ann", "a@example.com"]),
        # The delimiter is counted outside quotes: the header's quoted `;` do not count.
        ('"a;b;c",name,email\nx,Ann,a@example.com\n', ["x", "Ann", "a@example.com"]),
        ('"Name, full";"E-mail"\nAnn, Lee;a@example.com\n', ["Ann, Lee", "a@example.com"]),
        # One column: a comma (its cells may hold `;`-separated lists).
        ("email\na@example.com;b@example.com\n", ["a@example.com;b@example.com"]),
    ],
)
async def test_the_delimiter_is_sniffed_on_the_header(text: str, want: list[str]) -> None:
    _header, rows, _encoding = await _read(text.encode(), 4)
    assert rows == [(2, want)]


async def test_excel_quirks() -> None:
    """What Excel writes when it saves CSV: a BOM, `sep=;` (naming the delimiter), CRLF,
    trailing empty columns, empty rows, quoted line breaks, `="0123"` cells (kept as cells;
    `rows.py` reads the text out of them)."""
    data = codecs.BOM_UTF8 + (
        b'sep=;;;\r\nName;Phone;Notes;;\r\nAnn;="0123 456";"one\nline two";;\r\n;;;;\r\n'
        b'Bob;"=""0987""";;;\r\n'
    )
    header, rows, encoding = await _read(data, 5)
    assert header == ["Name", "Phone", "Notes", "", ""]
    assert rows == [
        (3, ["Ann", '="0123 456"', "one\nline two", "", ""]),
        (6, ["Bob", '="0987"', "", "", ""]),
    ]
    assert encoding == "utf-8-sig"


async def test_stray_quotes_lose_no_row() -> None:
    """A quote inside an unquoted field (`5'11"`) pairs with the next stray one, so counting
    quotes joins the lines between; the csv module refuses the joined record, and its lines
    are then read one by one. A record that only looks balanced (`x"y,"z`: the second quote
    opens a field for the csv module) is read alone, not run into the next."""
    data = (
        b'name,email\nAnn,a@example.com\nBo"b,b@x.com\nCy,c@x.com\nDee 5\'11",d@x.com\n'
        b'x"y,"z\nEve,e@x.com\n'
    )
    for size in (3, 1 << 20):
        _header, rows, _encoding = await _read(data, size)
        assert rows == [
            (2, ["Ann", "a@example.com"]),
            (3, ['Bo"b', "b@x.com"]),
            (4, ["Cy", "c@x.com"]),
            (5, ["Dee 5'11\"", "d@x.com"]),
            (6, ['x"y', "z"]),
            (7, ["Eve", "e@x.com"]),
        ]
        alone = b'name,email\nx"y,"z\nEve,e@x.com\n'  # in one batch with no other stray
        assert (await _read(alone, size))[1] == [(2, ['x"y', "z"]), (3, ["Eve", "e@x.com"])]


async def test_utf16_ndjson_is_sniffed_as_ndjson() -> None:
    data = '\n{"name": "Zoë"}\n'.encode("utf-16")
    fmt, _stream = await sniffed(_chunks(data, 1))
    assert fmt == "ndjson"
    assert await _read(data, 3) == (None, [(2, {"name": "Zoë"})], "utf-16-le")


async def test_ndjson_text_that_is_not_utf8_rejects_its_line() -> None:
    """A byte-order mark says UTF-8 (it is trusted); a line with a string that is not UTF-8
    is refused (msgspec raises UnicodeDecodeError for it, not DecodeError: it was a 500)."""
    data = codecs.BOM_UTF8 + b'{"name": "Zo\xeb"}\n{"name": "Ann"}\n'
    assert _cells((await _read(data))[1]) == [
        (1, "row: not utf-8-sig text"),
        (2, {"name": "Ann"}),
    ]
