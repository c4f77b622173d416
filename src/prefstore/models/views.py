"""What the API answers about a customer: the card, events, export, erasure, keys, audit,
and the error body."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

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
    """The card: safety first, then likes, notes, history; contacts masked by scope."""

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
    """In full for keys with the `contact` scope (or `write`, `admin`); else masked, e.g.
    `a•••@example.com` (see `contacts_masked`)."""
    phones: list[str]
    """In full for keys with the `contact` scope (or `write`, `admin`); else masked to the
    last four digits, e.g. `•••• 4471`."""
    identifiers: dict[str, str]
    city: str | None = None
    created_at: datetime | None
    updated_at: datetime | None
    contacts_masked: bool = False
    """True when `emails` and `phones` are masked (a `lookup`-only key). Absent from cards
    stored before masking existed, which are only served to keys that see contacts in full."""


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
    erasure_id: str = ""
    """The receipt's id (random: not derived from the customer or their identifiers)."""
    receipt: str = ""
    """Where the receipt is: `GET` it (admin) to see when each step finished."""


ErasureStepName = Literal["keyspace", "search_index", "aof_rewrite", "rdb_snapshot", "slowlog"]
ErasureStepStatus = Literal["done", "pending", "not_applicable", "unknown"]


class ErasureStep(msgspec.Struct, kw_only=True):
    step: ErasureStepName
    status: ErasureStepStatus
    at: datetime | None = None
    """When the step finished (None while pending, or when not recorded)."""
    detail: str | None = None


class ErasureReceipt(msgspec.Struct, kw_only=True):
    """When each step of one erasure finished. Holds no PII and not even the customer id."""

    id: str
    requested_at: datetime
    due_by: datetime
    """The stated bound: the disk steps finish by then unless Redis is down or a rewrite
    takes longer than half the bound."""
    complete: bool
    """Every step that applies to this Redis is done (the search index step is reported for
    the answering process only and is not part of it)."""
    steps: list[ErasureStep]
    kept_until: datetime
    """The receipt itself expires then."""


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
    outcome: str | None = None
    """On a 503 for a write: `not_applied` (nothing was written: retry as you like) or
    `unknown` (the write may have landed: retry with the same `Idempotency-Key`, and the
    answer is the first outcome if it did)."""
    operation_id: str | None = None
    """On a 503 whose outcome is unknown: the write's operation id; send it as the retry's
    `Idempotency-Key` (if the request had none) so the retry is applied at most once."""


# ---------------------------------------------------------------- batch import (issue 4)
