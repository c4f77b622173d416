"""Bounded scalars and the closed vocabularies (severity, scope, …) every model uses."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from email_validator import SPECIAL_USE_DOMAIN_NAMES
from msgspec import Meta

from prefstore.config import VENUE_PATTERN

# ---------------------------------------------------------------- bounded scalars
HIDDEN_CHARS = (
    r"\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff"
)
"""Control characters (tab and newline aside), bidi overrides, isolates and marks, and
zero-width characters, as a regex class body: they hide or reorder what a card shows.
`customers/rules/` refuses them on every write path; these patterns say so at the edge.
The zero-width (non-)joiners U+200C/U+200D are allowed: Persian and Indic spellings and
emoji need them."""
_LINE = rf"^[^\t\n{HIDDEN_CHARS}]*$"
_TEXT = rf"^[^{HIDDEN_CHARS}]*$"
_REGEX_MESSAGE = re.compile(r"Expected `str` matching regex '\^\[\^(?:\\\\t\\\\n)?\\\\x00[^']*'")


def explained(reason: str) -> str:
    """A validation message with the hidden-character patterns above said in words."""
    return _REGEX_MESSAGE.sub("Expected text without control or invisible characters", reason)


CustomerId = Annotated[
    str,
    Meta(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
        description="Letters, digits, '.', '_' or '-', 1-64 characters (e.g. the CRM id).",
    ),
]
Name = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=200,
        pattern=_LINE,
        description="1-200 characters, one line, no control or invisible characters.",
    ),
]
Label = Annotated[str, Meta(min_length=1, max_length=120, pattern=_LINE)]
ShortText = Annotated[str, Meta(max_length=500, pattern=_TEXT)]
NoteText = Annotated[str, Meta(min_length=1, max_length=4000, pattern=_TEXT)]


def _any_case(word: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in word)


_SPECIAL_USE = "|".join(_any_case(name) for name in SPECIAL_USE_DOMAIN_NAMES)
EmailText = Annotated[
    str,
    Meta(
        min_length=3,
        max_length=254,
        extra_json_schema={
            "format": "email",
            # email-validator's refusal, said as a pattern (JSON Schema has no case flag).
            "pattern": rf"^(?!.*\.({_SPECIAL_USE})\.?$)",
            "description": "An email address; special-use domains (`.test`, `.local`, "
            "`.invalid`, …) are refused.",
        },
    ),
]
PhoneText = Annotated[
    str,
    Meta(
        min_length=3,
        max_length=40,
        # A format of our own (JSON Schema allows any): what the phonenumbers library calls
        # a valid number, which no pattern can say.
        extra_json_schema={
            "format": "phone",
            "description": "A valid phone number: international (`+14155550123`) or "
            "national in the service's default region.",
        },
    ),
]
Moment = Annotated[
    datetime,
    Meta(
        extra_json_schema={
            "format": "date-time",
            "pattern": "^(19[0-9]{2}|2[01][0-9]{2})-",
            "description": "RFC 3339, in 1900-2199; a time without an offset is UTC.",
        }
    ),
]
"""A time a client gives (`customers/rules/limits.event_time` refuses one outside 1900-2199)."""
IdentifierKind = Annotated[
    str,
    Meta(
        pattern=r"^[a-z][a-z0-9_]{0,31}$",
        description="e.g. loyalty, crm; 'email' and 'phone' have their own fields.",
    ),
]
IdentifierValue = Annotated[str, Meta(min_length=1, max_length=128)]
Tag = Annotated[str, Meta(pattern=r"^[\w][\w .:-]{0,39}$")]
DateKind = Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
OperationId = Annotated[str, Meta(pattern=r"^[A-Za-z0-9._:-]{1,128}$")]
ItemName = Annotated[str, Meta(min_length=1, max_length=120, pattern=_LINE)]
Location = Annotated[str, Meta(max_length=120, pattern=_LINE)]
Amount = Annotated[float, Meta(ge=0, le=1e9)]
Currency = Annotated[str, Meta(pattern=r"^[A-Z]{3}$")]
Strength = Annotated[int, Meta(ge=1, le=5)]
VenueName = Annotated[
    str,
    Meta(
        pattern=VENUE_PATTERN,
        description="A venue of the deployment (`PREFSTORE_VENUES`): lower-case letters, "
        "digits, '-' or '_', 1-40 characters, e.g. `soho`.",
    ),
]

Severity = Literal["dietary", "intolerance", "allergy", "severe"]
"""Safety track, in rising order: a dietary need (vegan, halal), an intolerance, an allergy,
a severe (anaphylactic) allergy."""
SEVERITY_RANK: dict[str, int] = {"severe": 0, "allergy": 1, "intolerance": 2, "dietary": 3}

Category = Literal["food", "beverage", "seating", "room", "service", "communication", "other"]
Sentiment = Literal["likes", "dislikes"]
Source = Literal["staff", "pos", "import"]
Visibility = Literal["all", "staff"]
"""`all`: every touchpoint sees the note; `staff`: only staff apps (write/admin keys)."""
EventType = Literal["visit", "purchase", "contact", "feedback"]
Scope = Literal["lookup", "contact", "write", "import", "metrics", "admin"]
"""`lookup`: cards, search, recall, events — phones and emails masked; `contact`: the same with
phones and emails in full; `write`: records changes and sees staff-only notes (implies
`contact`); `import`: bulk import; `metrics`: `/metrics` only (a Prometheus scraper);
`admin`: everything. See `customers/apikeys.py` IMPLIED."""
