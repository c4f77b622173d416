"""CRM export files as they come, built as bytes, and mutations of them for fuzzing.

`SAMPLES` are small but carry what real exports carry: encodings (UTF-8 with and without a
BOM, UTF-16 both ways, Windows-1252), line endings (CRLF, CR alone, mixed), delimiters (`,`,
`;`, tab), Excel's habits (`sep=;`, trailing empty columns, quoted line breaks, `="0123"`),
gzip, and NDJSON. `mutated` applies a list of byte edits, the same way for hypothesis (which
draws the edits) and for tests that need a few fixed bad files (`random_edits`).
"""

from __future__ import annotations

import codecs
import gzip
import random
from typing import Literal

HUBSPOT = (
    "Record ID,First Name,Last Name,Email,Phone Number,Allergies,Favourite drink,Notes\n"
    "2001,Zoë,Müller,zoe@example.com,+1 415 555 0123,Peanuts (severe),Café au lait,"
    '"Window seat, ""quiet"" please"\n'
    "2002,Seán,O'Brien,sean@example.com,(415) 555-0199,,Tea,\n"
    "2003,Ann,Lee,not-an-email,415-555-0142,Shellfish; sesame,,\n"
)
EXCEL = (
    "sep=;\r\nRecord ID;First Name;Email;Phone Number;Notes;;\r\n"
    '="0042";José;jose@example.com;="415 555 0177";"two\r\nlines";;\r\n;;;;;;\r\n'
)
NDJSON = (
    '{"crm_id": "3001", "name": "Zoë", "email": ["z@example.com"], "tags": ["vip"]}\n'
    '{"customer": {"id": "x"}, "events": []}\n[1, 2]\n{"name": "no id"}\n'
)

SAMPLES: dict[str, bytes] = {
    "utf-8": HUBSPOT.encode(),
    "utf-8 bom crlf": codecs.BOM_UTF8 + HUBSPOT.replace("\n", "\r\n").encode(),
    "utf-16 tab": HUBSPOT.replace(",", "\t").encode("utf-16"),
    "utf-16-be": codecs.BOM_UTF16_BE + HUBSPOT.encode("utf-16-be"),
    "cp1252 semicolon cr": HUBSPOT.replace(",", ";").replace("\n", "\r").encode("cp1252"),
    "excel": EXCEL.encode("cp1252"),
    "gzip": gzip.compress(HUBSPOT.encode(), mtime=0),
    "ndjson": NDJSON.encode(),
    "ndjson bom": codecs.BOM_UTF8 + NDJSON.encode(),
    "ndjson utf-16": NDJSON.encode("utf-16"),
}

Edit = tuple[Literal["insert", "delete", "replace", "repeat", "cut"], int, bytes]
"""(what, where as a fraction of the length in 1/1000, bytes): `insert` the bytes, `delete`
or `repeat` as many bytes as given there, `replace` bytes there, `cut` the input there."""
NOISE = [
    *(b'"', b"\r", b"\n", b"\x00", b";", b"\t", b",", b"=", b"{", b"}", b"[", b"\\"),
    *(codecs.BOM_UTF8, codecs.BOM_UTF16_LE, b"\xe9", b"\xc3", b"\x81", b"\x00\xd8"),
]
"""Bytes that matter to the readers, which random bytes seldom hit."""


def mutated(data: bytes, edits: list[Edit]) -> bytes:
    for what, where, payload in edits:
        at = len(data) * where // 1000
        if what == "insert":
            data = data[:at] + payload + data[at:]
        elif what == "delete":
            data = data[:at] + data[at + len(payload) :]
        elif what == "replace":
            data = data[:at] + payload + data[at + len(payload) :]
        elif what == "repeat":
            data = data[:at] + data[at : at + len(payload)] * 50 + data[at:]
        else:
            data = data[:at]
    return data


def random_edits(rng: random.Random, count: int = 4) -> list[Edit]:
    """Edits like those hypothesis draws, from a seeded `random.Random`."""
    kinds: list[Literal["insert", "delete", "replace", "repeat", "cut"]] = [
        "insert",
        "delete",
        "replace",
        "repeat",
        "cut",
    ]
    edits: list[Edit] = []
    for _ in range(count):
        payload = rng.choice(NOISE) if rng.random() < 0.5 else rng.randbytes(rng.randint(1, 8))
        edits.append((rng.choice(kinds), rng.randint(0, 1000), payload))
    return edits
