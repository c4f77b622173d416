"""Bounded scalars and the closed vocabularies (severity, scope, …) every model uses."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from msgspec import Meta

# ---------------------------------------------------------------- bounded scalars
HIDDEN_CHARS = (
    r"\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff"
)
"""Control characters (tab and newline aside), bidi overrides, isolates and marks, and
zero-width characters, as a regex class body: they hide or reorder what a card shows.
`customers/rules.py` refuses them on every write path; these patterns say so at the edge.
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
EmailText = Annotated[str, Meta(min_length=3, max_length=254)]
PhoneText = Annotated[str, Meta(min_length=3, max_length=40)]
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
Scope = Literal["lookup", "contact", "write", "import", "admin"]
"""`lookup`: cards, search, recall, events — phones and emails masked; `contact`: the same with
phones and emails in full; `write`: records changes and sees staff-only notes (implies
`contact`); `import`: bulk import; `admin`: everything. See `customers/apikeys.py` IMPLIED."""
