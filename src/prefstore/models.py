"""msgspec models shared by every layer.

Two families:
* *input* Structs (`...Input`, `CustomerCreate`, `CustomerPatch`) are exactly what a client
  may send: unknown fields are rejected, every string and list is bounded. There is no mass
  assignment: server-owned fields (version, timestamps, authors) do not exist on them.
* *stored* Structs (`CustomerRecord` and its parts) give every field a default, so a record
  written by an older version still decodes after a field is added.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec
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


# ---------------------------------------------------------------- client input
class _Input(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class AllergyInput(_Input, kw_only=True):
    label: Label
    severity: Severity = "allergy"
    note: ShortText | None = None


class PreferenceInput(_Input, kw_only=True):
    label: Label
    sentiment: Sentiment = "likes"
    category: Category = "other"
    strength: Strength | None = None
    note: ShortText | None = None
    source: Source = "staff"


class NoteInput(_Input, kw_only=True):
    text: NoteText
    visibility: Visibility = "all"


class EventInput(_Input, kw_only=True):
    type: EventType
    operation_id: OperationId | None = None
    """Makes a retried write count once; the `Idempotency-Key` header may carry it instead."""
    at: datetime | None = None
    location: Location | None = None
    channel: Location | None = None
    items: Annotated[list[ItemName], Meta(max_length=100)] = []
    amount: Amount | None = None
    currency: Currency | None = None
    note: ShortText | None = None


class CustomerCreate(_Input, kw_only=True):
    id: CustomerId | None = None
    name: Name
    emails: Annotated[list[EmailText], Meta(max_length=10)] = []
    phones: Annotated[list[PhoneText], Meta(max_length=10)] = []
    identifiers: Annotated[dict[IdentifierKind, IdentifierValue], Meta(max_length=10)] = {}
    tags: Annotated[list[Tag], Meta(max_length=50)] = []
    dates: Annotated[dict[DateKind, date], Meta(max_length=10)] = {}
    allergies: Annotated[list[AllergyInput], Meta(max_length=50)] = []
    preferences: Annotated[list[PreferenceInput], Meta(max_length=200)] = []
    notes: Annotated[list[NoteInput], Meta(max_length=50)] = []
    city: Location | None = None
    """Where the customer lives or shops: a cue to tell two people of one name apart."""


class CustomerPatch(_Input, kw_only=True):
    """Fields left out (or null) are unchanged; lists and maps given replace the old ones."""

    name: Name | None = None
    emails: Annotated[list[EmailText], Meta(max_length=10)] | None = None
    phones: Annotated[list[PhoneText], Meta(max_length=10)] | None = None
    identifiers: Annotated[dict[IdentifierKind, IdentifierValue], Meta(max_length=10)] | None = None
    tags: Annotated[list[Tag], Meta(max_length=50)] | None = None
    dates: Annotated[dict[DateKind, date], Meta(max_length=10)] | None = None
    city: Location | None = None


# ---------------------------------------------------------------- stored record
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


class ChangeEntry(msgspec.Struct, kw_only=True):
    """One line of the change feed and audit trail: who did what to whom, never PII values."""

    op: str
    customer_id: str
    version: int
    actor: str
    at: datetime
    fields: list[str] = []


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
    duplicates: list[DuplicateCandidate] = []
    seconds: float = 0.0
    rows_per_second: float = 0.0


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


class CartCheckInput(_Input, kw_only=True):
    items: Annotated[list[ItemName], Meta(min_length=1, max_length=100)]


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
