"""What the API answers about a customer: the card, events, export, erasure, keys, audit,
and the error body."""

from __future__ import annotations

from datetime import date, datetime

import msgspec

from prefstore.models.fields import (
    Scope,
)
from prefstore.models.records import (
    Allergy,
    ChangeEntry,
    CustomerRecord,
    Event,
    Note,
    Preference,
)


class TopItem(msgspec.Struct, kw_only=True):
    item: str
    count: int


class CardHistory(msgspec.Struct, kw_only=True):
    visits: int
    purchases: int
    last_visit: datetime | None
    last_event: datetime | None
    spend: float
    top_items: list[TopItem]


class Card(msgspec.Struct, kw_only=True):
    """The denormalised view a touchpoint shows: safety first, then likes, notes, history."""

    id: str
    version: int
    name: str
    allergies: list[Allergy]
    likes: list[Preference]
    dislikes: list[Preference]
    notes: list[Note]
    """The latest notes this caller may see, newest first."""
    history: CardHistory
    tags: list[str]
    dates: dict[str, date]
    emails: list[str]
    phones: list[str]
    identifiers: dict[str, str]
    city: str | None = None
    created_at: datetime | None
    updated_at: datetime | None


class EventPage(msgspec.Struct, kw_only=True):
    events: list[Event]
    next_cursor: str | None


class EventRecorded(msgspec.Struct, kw_only=True):
    event: Event
    duplicate: bool
    """True when this operation id was recorded before: nothing was counted twice."""
    version: int


class CustomerExport(msgspec.Struct, kw_only=True):
    """Everything prefstore holds on one person (a data-subject access request)."""

    customer: CustomerRecord
    events: list[Event]
    exported_at: datetime


class Erased(msgspec.Struct, kw_only=True):
    id: str
    erased_at: datetime


class ApiKeyInfo(msgspec.Struct, kw_only=True):
    id: str
    name: str
    scopes: list[Scope]
    created_at: datetime
    revoked_at: datetime | None = None


class ApiKeyCreated(msgspec.Struct, kw_only=True):
    key: str
    """The secret: shown this once, stored only as a hash."""
    info: ApiKeyInfo


class AuditTrail(msgspec.Struct, kw_only=True):
    customer_id: str
    entries: list[ChangeEntry]
    """Newest first."""
    scanned: int
    """How many feed entries were read to answer."""
    complete: bool
    """False when the scan bound was reached before the feed's start or the limit."""


class ErrorBody(msgspec.Struct, kw_only=True, omit_defaults=True):
    status: int
    error: str
    detail: str
    field: str | None = None
    reason: str | None = None


# ---------------------------------------------------------------- batch import (issue 4)
