"""What the API answers about a customer: the card, events, export, erasure, keys, audit,
and the problem (error) body."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

import msgspec

from prefstore.models.fields import (
    Scope,
    Severity,
)
from prefstore.models.records import (
    Allergy,
    ChangeEntry,
    Consent,
    CustomerRecord,
    Event,
    FollowUp,
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


class CardPreference(Preference, kw_only=True):
    """A like or dislike as the card shows it: with how often and how recently the item was
    in the customer's events, and a phrase to show as it is."""

    seen: int = 0
    """Events that carried this item (matched case- and accent-blind)."""
    last_seen: datetime | None = None
    """When it was last in an event (clients say "3 days ago": the card is rendered at
    write time, so it holds the time, not the phrase)."""
    reads: str = ""
    """The opinion in words: `likes oat milk`, `dislikes olives`, `prefers popcorn over
    pretzels`."""


class SuggestedLike(msgspec.Struct, kw_only=True):
    """An item bought often but not recorded as a like or dislike: staff may confirm it (add
    it as a like through the preferences route)."""

    item: str
    count: int
    last_seen: datetime | None = None


class Card(msgspec.Struct, kw_only=True):
    """The card: safety first, then what is owed (follow-ups), likes, notes, history;
    contacts masked by scope."""

    id: str
    version: int
    name: str
    allergies: list[Allergy]
    follow_ups: list[FollowUp] = []
    """Open follow-ups this caller may see (not resolved, not expired when the card was
    rendered), earliest due first. Clients hide one whose `expires_at` has passed since."""
    likes: list[CardPreference]
    dislikes: list[CardPreference]
    suggested_likes: list[SuggestedLike] = []
    """Items in three or more events that no like or dislike names yet, most frequent first."""
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
    consent: Consent | None = None
    """Contact consent per channel (email, sms, phone, post): for keys that see contacts in
    full (`contact`, `write`, `admin`); null on a `lookup`-only key's card."""
    contacts_masked: bool = False
    """True when `emails` and `phones` are masked (a `lookup`-only key). Absent from cards
    stored before masking existed, which are only served to keys that see contacts in full."""


class HereCard(msgspec.Struct, kw_only=True):
    """A customer at one venue: what they did there and the notes kept for it. The card
    itself is chain-wide (allergies, follow-ups and likes go everywhere)."""

    customer_id: str
    venue: str
    visits: int
    purchases: int
    events: int
    """Events of every type recorded at this venue."""
    last_visit: datetime | None
    last_event: datetime | None
    top_items: list[TopItem]
    """The items most often in this venue's events, most frequent first."""
    notes: list[Note]
    """Notes written with `venue_only` at this venue that the caller may see, newest first."""


class FollowUpList(msgspec.Struct, kw_only=True):
    """A customer's follow-ups, open and closed (resolved or expired), oldest first: those
    the caller may see (staff-only ones for staff keys)."""

    customer_id: str
    follow_ups: list[FollowUp]


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
    venue: str | None = None
    """The venue the key is bound to: what it writes is recorded there, and it may not act
    for another venue (403 naming `venue`). None: a key of no venue (it may name one)."""


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


class Problem(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Every error answer: RFC 9457 problem details (`application/problem+json`), with
    prefstore's own members (`error`, `field`, `reason`, …) beside the standard ones."""

    type: str
    """The kind of problem, a URI: `urn:prefstore:problem:<error>` (docs/INTEGRATION.md
    lists them). Not a page to fetch."""
    title: str
    """The kind in words, the same for every problem of that kind (e.g. `Invalid input`)."""
    status: int
    """The HTTP status code of this answer."""
    detail: str
    """This occurrence in words (e.g. `phones[0]: not a valid phone number`)."""
    error: str
    """The kind as a short code: `invalid_input`, `not_found`, `stale_version`, …"""
    field: str | None = None
    """On invalid input (and some conflicts): the field at fault, JSON-path-like
    (`phones[0]`, `allergies[1].severity`), or the query parameter or header."""
    reason: str | None = None
    """On invalid input: what is wrong with `field`."""
    outcome: Literal["not_applied", "unknown"] | None = None
    """On a 503 for a write: `not_applied` (nothing was written: retry as you like) or
    `unknown` (the write may have landed: retry with the same `Idempotency-Key`, and the
    answer is the first outcome if it did)."""
    operation_id: str | None = None
    """On a 503 whose outcome is unknown: the write's operation id; send it as the retry's
    `Idempotency-Key` (if the request had none) so the retry is applied at most once."""


# ---------------------------------------------------------------- batch import (issue 4)


# ---------------------------------------------------------------- a party (a table, a booking)
class PartyGuest(msgspec.Struct, kw_only=True):
    """One guest of the party found: their open follow-ups (what is owed to each)."""

    id: str
    name: str
    follow_ups: list[FollowUp]
    """Open follow-ups this caller may see, as on the guest's card."""


class PartyAllergy(msgspec.Struct, kw_only=True):
    """One guest's allergy or dietary need, with whose it is."""

    customer_id: str
    name: str
    """The guest's name."""
    id: str
    """The allergy's id on the guest's record."""
    label: str
    severity: Severity
    note: str | None = None


class SharedLike(msgspec.Struct, kw_only=True):
    """Something two or more guests like (and no guest is allergic to by that name)."""

    label: str
    customer_ids: list[str]
    names: list[str]


class PartyMiss(msgspec.Struct, kw_only=True):
    """A member no customer was found for: listed, not an error for the party."""

    index: int
    """Its place in `members` (from 0)."""
    kind: str
    """What it was given as: `id`, `phone`, `email`, `loyalty`, …"""
    reason: str


class PartyCard(msgspec.Struct, kw_only=True):
    """One card for a table: every allergy and dietary need with whose it is (strongest
    first), likes two or more guests share, each guest's open follow-ups, and the members
    not found. Read from each guest's card in the caller's view (masked as the card is)."""

    label: str | None
    guests: list[PartyGuest]
    """Found, in the order given; a guest given twice is listed once."""
    allergies: list[PartyAllergy]
    """Strongest first (severe, allergy, intolerance, dietary), then by label, then guest."""
    shared_likes: list[SharedLike]
    """Most shared first, then by label."""
    not_found: list[PartyMiss]
