"""What is stored: `CustomerRecord` and its parts, and the change-feed entry. Every field
has a default, so a record written by an older version still decodes after one is added."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

import msgspec

from prefstore.models.fields import (
    Category,
    EventType,
    Sentiment,
    Severity,
    Source,
    Visibility,
)

Channel = Literal["email", "sms", "phone", "post"]
"""The ways a business may contact a person, each with its own consent."""
CHANNELS: tuple[Channel, ...] = ("email", "sms", "phone", "post")
ConsentStatus = Literal["opted_in", "opted_out", "unknown"]


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
    over: str | None = None
    """A comparative like: preferred over this (`popcorn` over `pretzels`)."""


class Note(_Stored, kw_only=True):
    id: str = ""
    text: str = ""
    visibility: Visibility = "all"
    author: str | None = None
    at: datetime | None = None
    venue: str | None = None
    """The venue it was written at (None: no venue, or written before venues existed)."""
    venue_only: bool = False
    """Shown only at `venue` (its "here" part), never on the chain-wide card."""


class Resolution(_Stored, kw_only=True):
    """How a follow-up was closed: by whom (key or staff name), when, where, and a word."""

    by: str = ""
    at: datetime | None = None
    venue: str | None = None
    """The venue it was resolved at (None until a deployment has venues)."""
    note: str | None = None


class FollowUp(_Stored, kw_only=True):
    """An action owed to the person ("comp the dessert we owe her"): on the card until it
    is resolved or expires; kept in the record afterwards (`rules.add_follow_up`)."""

    id: str = ""
    text: str = ""
    visibility: Visibility = "all"
    created_by: str | None = None
    created_at: datetime | None = None
    due: date | None = None
    expires_at: datetime | None = None
    """Past this time it leaves the card, resolved or not."""
    resolved: Resolution | None = None
    venue: str | None = None
    """The venue it was added at; it shows at every venue."""


class ChannelConsent(_Stored, kw_only=True):
    """What the person said about being contacted one way, where we heard it, and when."""

    status: ConsentStatus = "unknown"
    source: str | None = None
    """`api`, `page`, `import:<preset>` (or what a restored export said)."""
    at: datetime | None = None
    """When it was stated (the source's time when it gave one, else when it was recorded)."""


class Consent(_Stored, kw_only=True):
    """Consent per channel: contact preferences, kept apart from service preferences."""

    email: ChannelConsent = msgspec.field(default_factory=ChannelConsent)
    sms: ChannelConsent = msgspec.field(default_factory=ChannelConsent)
    phone: ChannelConsent = msgspec.field(default_factory=ChannelConsent)
    post: ChannelConsent = msgspec.field(default_factory=ChannelConsent)


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
    venue: str | None = None
    """The venue it happened at (the recording key's venue, or the one the caller named)."""


class VenueHistory(_Stored, kw_only=True):
    """The running summary of one venue's events (what the card's "here" part shows)."""

    visits: int = 0
    purchases: int = 0
    events: int = 0
    last_visit: datetime | None = None
    last_event: datetime | None = None
    item_counts: dict[str, int] = {}


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
    item_last_seen: dict[str, datetime] = {}
    """Same keys as `item_counts`: when each item was last in an event (the evidence a
    like or dislike shows: `customers/evidence.py`)."""
    venues: dict[str, VenueHistory] = {}
    """Per venue, the summary of the events recorded there (`rules.count_event`)."""


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
    follow_ups: list[FollowUp] = []
    consent: Consent = msgspec.field(default_factory=Consent)


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
    """What an explicit allergy change or removal replaced, e.g. `{"severity": "severe"}`,
    or a consent change, e.g. `{"consent.email": "opted_in"}`: a severity or a consent
    status, never a label or a note (those may say more about the person)."""
