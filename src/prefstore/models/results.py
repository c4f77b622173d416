"""What the import, search, recall and cart check answer."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from prefstore.models.fields import (
    Sentiment,
    Severity,
)
from prefstore.models.views import PartyMiss


class RowRejection(msgspec.Struct, kw_only=True):
    """One row the import did not apply, and why: fix the row and import it again."""

    line: int
    """Line of the input where the row starts (1 is a CSV header)."""
    field: str
    """The input column (or NDJSON key) at fault; `row` when it is the row as a whole."""
    reason: str


class DuplicateCandidate(msgspec.Struct, kw_only=True):
    """A row that would create a customer who looks like an existing one (dry run)."""

    line: int
    name: str
    customer_id: str
    """The existing customer it resembles."""
    existing_name: str
    score: float
    """rapidfuzz name similarity, 0-100."""
    matched_on: str
    """The partial identifier both share, masked (e.g. `phone …0123`)."""


class ImportSummary(msgspec.Struct, kw_only=True):
    """What an import did (or, with `dry_run`, would do); the CLI prints it, the API returns it."""

    dry_run: bool
    preset: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    suppressed: int = 0
    """Rows of people who were erased: not re-created."""
    unknown_columns: list[str] = []
    """Input columns no mapping covers: reported, not imported."""
    rejections: list[RowRejection] = []
    """The first rejections (at most `MAX_LISTED_REJECTIONS` in an HTTP response); `rejected`
    counts them all."""
    rejections_truncated: bool = False
    """More rows were rejected than are listed: the CLI's rejects file has every one."""
    duplicates: list[DuplicateCandidate] = []
    seconds: float = 0.0
    rows_per_second: float = 0.0
    encoding: str = "utf-8"
    """The input's text encoding as read (a Python codec name): `utf-8`, `utf-8-sig` (with a
    byte-order mark), `utf-16-le`, `utf-16-be`, `cp1252` (Windows-1252), … (docs/IMPORT.md)."""


# ---------------------------------------------------------------- search, recall, cart check
SearchField = Literal["name", "email", "phone"]


class SearchCues(msgspec.Struct, kw_only=True):
    """What tells two "J. Smith"s apart. Phone and email are masked ("•••• 0123",
    "a•••@example.com") for callers with only the `lookup` scope."""

    phone: str | None
    email: str | None
    last_visit: datetime | None
    tags: list[str]
    city: str | None


class SearchHit(msgspec.Struct, kw_only=True):
    id: str
    name: str
    score: float
    """0-100: how well the query matched (100: every part matched exactly)."""
    matched: SearchField
    """The field that carried the match."""
    cues: SearchCues


class SearchResult(msgspec.Struct, kw_only=True):
    query: str
    hits: list[SearchHit]


RecallKind = Literal["allergy", "preference", "note", "item"]


class RecallHit(msgspec.Struct, kw_only=True):
    kind: RecallKind
    field: str
    """Where it matched, e.g. `allergies.label`, `preferences.note`, `notes.text`, `items`."""
    text: str
    score: float
    id: str | None = None
    """The allergy, preference or note id (None for event items)."""
    sentiment: Sentiment | None = None
    severity: Severity | None = None
    count: int | None = None
    """For event items: how many times the customer had it."""


class RecallResult(msgspec.Struct, kw_only=True):
    customer_id: str
    query: str
    hits: list[RecallHit]


AlertKind = Literal["allergy", "dietary", "dislike"]


class CartAlert(msgspec.Struct, kw_only=True):
    item: str
    """The cart item, as sent."""
    kind: AlertKind
    label: str
    """The customer's allergy, dietary need or dislike that fired."""
    severity: Severity | None
    matched: str
    """The word or phrase found in the item (e.g. `almond`)."""
    group: str | None
    """The allergen group or diet that links the two (e.g. `tree nuts`), if any."""
    why: str
    score: float
    check_with_guest: bool = False
    """The check is unsure (a negation that covers only part of the item, "may contain",
    "non-dairy", a typo, a word that holds the allergen in some recipes only, the same group
    as the allergy): `why` ends with "check with the guest (…)" and what to ask."""


class CartDelight(msgspec.Struct, kw_only=True):
    item: str
    label: str
    """The customer's like that the item matches."""
    matched: str
    why: str
    score: float


class CartCheck(msgspec.Struct, kw_only=True):
    customer_id: str
    alerts: list[CartAlert]
    """Allergies (most severe first) and dietary needs, then dislikes."""
    delights: list[CartDelight]


class PartyAlert(CartAlert, kw_only=True):
    """A cart alert, and the guest it is for."""

    customer_id: str
    name: str


class PartyDelight(CartDelight, kw_only=True):
    customer_id: str
    name: str


class PartyCheck(msgspec.Struct, kw_only=True):
    """The cart checked against every guest found: each alert and delight says whose."""

    customer_ids: list[str]
    """The guests checked, in the order given."""
    alerts: list[PartyAlert]
    """Allergies (most severe first) and dietary needs, then dislikes, of every guest."""
    delights: list[PartyDelight]
    not_found: list[PartyMiss]
