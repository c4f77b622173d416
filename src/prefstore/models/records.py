"""What is stored: `CustomerRecord` and its parts, and the change-feed entry. Every field
has a default, so a record written by an older version still decodes after one is added."""

from __future__ import annotations

from datetime import date, datetime

import msgspec

from prefstore.models.fields import (
    Category,
    EventType,
    Sentiment,
    Severity,
    Source,
    Visibility,
)


class _Stored(msgspec.Struct, kw_only=True, omit_defaults=False):
    pass


class Allergy(_Stored, kw_only=True):
    id: str = ""
    label: str = ""
    severity: Severity = "allergy"
    note: str | None = None
    confirmed_by: str | None = None
    confirmed_at: datetime | None = None


class Preference(_Stored, kw_only=True):
    id: str = ""
    label: str = ""
    sentiment: Sentiment = "likes"
    category: Category = "other"
    strength: int | None = None
    note: str | None = None
    source: Source = "staff"
    added_by: str | None = None
    added_at: datetime | None = None


class Note(_Stored, kw_only=True):
    id: str = ""
    text: str = ""
    visibility: Visibility = "all"
    author: str | None = None
    at: datetime | None = None


class Event(_Stored, kw_only=True):
    id: str = ""
    """The operation id: one per real-world event, so a retry is recognised."""
    type: EventType = "visit"
    at: datetime | None = None
    location: str | None = None
    channel: str | None = None
    items: list[str] = []
    amount: float | None = None
    currency: str | None = None
    note: str | None = None
    recorded_by: str | None = None


class History(_Stored, kw_only=True):
    """Running summary of the events, kept on the record so the card needs no event scan."""

    visits: int = 0
    purchases: int = 0
    contacts: int = 0
    feedback: int = 0
    last_visit: datetime | None = None
    last_event: datetime | None = None
    spend: float = 0.0
    item_counts: dict[str, int] = {}


class CustomerRecord(_Stored, kw_only=True):
    id: str = ""
    name: str = ""
    emails: list[str] = []
    phones: list[str] = []
    identifiers: dict[str, str] = {}
    tags: list[str] = []
    dates: dict[str, date] = {}
    allergies: list[Allergy] = []
    preferences: list[Preference] = []
    notes: list[Note] = []
    history: History = msgspec.field(default_factory=History)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int = 0
    city: str | None = None


# ---------------------------------------------------------------- what touchpoints see


class ChangeEntry(msgspec.Struct, kw_only=True):
    """One line of the change feed and audit trail: who did what to whom, never PII values."""

    op: str
    customer_id: str
    version: int
    actor: str
    at: datetime
    fields: list[str] = []
    previous: dict[str, str] = {}
    """What an explicit allergy change or removal replaced, e.g. `{"severity": "severe"}`:
    a severity, never a label or a note (those may say more about the person)."""
