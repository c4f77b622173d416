"""Input text that is not UTF-8: which encoding it is in, and its stream as UTF-8.

The readers (`readers._as_utf8`) come here only for bytes that are not plain UTF-8: a first
few bytes that are not ASCII or hold a NUL (a byte-order mark? UTF-16 without one?), or a
sample that does not decode as UTF-8. Plain UTF-8 never does.

`guessed` asks charset-normalizer about a bounded sample. A short sample of Western text
cannot tell Latin code pages apart (charset-normalizer's first guess for "Zoë Müller, Café
Señor" is Windows-1250, which reads "Señor" as "Seńor"), so Windows-1252, what Western
spreadsheets and CRMs write, is taken unless another encoding reads the sample clearly
better. Latin-1 text reads the same in Windows-1252 but for the C1 control bytes, which a
CRM file does not hold; a sample Windows-1252 cannot read at all is guessed as the rest.
"""

from __future__ import annotations

import codecs
from collections.abc import AsyncIterator

PREFERRED = "cp1252"
CLEARER = 0.1
"""charset-normalizer "chaos" (0-1, mess per character) by which another encoding must read
the sample better than Windows-1252 to be taken instead."""
_PRINTABLE = bytes(range(0x20, 0x7F)) + b"\t\r\n"
_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE, whose mark begins the same
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_UNREADABLE = "prefstore.unreadable"


def _unreadable(exc: UnicodeError) -> tuple[str | bytes, int]:
    """Bytes the encoding cannot read become one byte that is never UTF-8 (`\\xff`): the
    parser rejects the line holding them, and the rest of the file still reads."""
    if isinstance(exc, UnicodeDecodeError):
        return "\udcff", exc.end
    if isinstance(exc, UnicodeEncodeError):
        return b"\xff", exc.end
    raise exc


codecs.register_error(_UNREADABLE, _unreadable)


def marked(head: bytes) -> tuple[str | None, int]:
    """The encoding a byte-order mark names and the mark's length, or UTF-16 without a mark
    as NUL bytes show it in the first two characters; (None, 0) for neither."""
    for mark, name in _MARKS:
        if head.startswith(mark):
            return name, len(mark)
    if len(head) >= 4 and head[1] == head[3] == 0 and head[0] and head[2]:
        return "utf-16-le", 0
    if len(head) >= 4 and head[0] == head[2] == 0 and head[1] and head[3]:
        return "utf-16-be", 0
    return None, 0


def guessed(sample: bytes) -> str:
    """The codec name of text that is not UTF-8; `sample` starts at its first non-ASCII byte
    (the bytes before it were ASCII, so the encoding must leave ASCII as it is)."""
    # Imported here: 27 ms and ~6 MB that an import of plain UTF-8 never needs.
    from charset_normalizer import from_bytes

    best = next((m for m in from_bytes(sample) if _keeps_ascii(m.encoding)), None)
    western = from_bytes(sample, cp_isolation=[PREFERRED]).best()
    if western is not None and (best is None or western.chaos <= best.chaos + CLEARER):
        return PREFERRED
    if best is not None:
        return codecs.lookup(best.encoding).name
    return "latin-1"  # reads any byte, where Windows-1252 cannot read this sample


def _keeps_ascii(name: str) -> bool:
    try:
        return _PRINTABLE.decode(name) == _PRINTABLE.decode("ascii")
    except (LookupError, UnicodeDecodeError):
        return False


async def transcoded(chunks: AsyncIterator[bytes], name: str) -> AsyncIterator[bytes]:
    """`chunks`, text in the `name` codec, as UTF-8 (a character split between chunks
    waits for the rest of it)."""
    decoder = codecs.getincrementaldecoder(name)(errors=_UNREADABLE)
    async for chunk in chunks:
        if text := decoder.decode(chunk):
            yield text.encode("utf-8", _UNREADABLE)
    if text := decoder.decode(b"", final=True):
        yield text.encode("utf-8", _UNREADABLE)
