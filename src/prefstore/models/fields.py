"""Bounded scalars and the closed vocabularies (severity, scope, …) every model uses."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

# ---------------------------------------------------------------- bounded scalars
CustomerId = Annotated[
    str,
    Meta(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
        description="Letters, digits, '.', '_' or '-', 1-64 characters (e.g. the CRM id).",
    ),
]
Name = Annotated[str, Meta(min_length=1, max_length=200)]
Label = Annotated[str, Meta(min_length=1, max_length=120)]
ShortText = Annotated[str, Meta(max_length=500)]
NoteText = Annotated[str, Meta(min_length=1, max_length=4000)]
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
ItemName = Annotated[str, Meta(min_length=1, max_length=120)]
Location = Annotated[str, Meta(max_length=120)]
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
Scope = Literal["lookup", "write", "import", "admin"]
