"""What a client may send: unknown fields are rejected, every string and list is bounded.
Server-owned fields (version, timestamps, authors) do not exist here: no mass assignment."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec
from msgspec import Meta

from prefstore.models.fields import (
    Amount,
    Category,
    Currency,
    CustomerId,
    DateKind,
    EmailText,
    EventType,
    IdentifierKind,
    IdentifierValue,
    ItemName,
    Label,
    Location,
    Name,
    NoteText,
    OperationId,
    PhoneText,
    Sentiment,
    Severity,
    ShortText,
    Source,
    Strength,
    Tag,
    Visibility,
)


# ---------------------------------------------------------------- client input
class _Input(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class AllergyInput(_Input, kw_only=True):
    label: Label
    severity: Severity = "allergy"
    note: ShortText | None = None


class AllergyChange(_Input, kw_only=True):
    """An explicit change of one known allergy: the only write that may lower its severity."""

    severity: Severity | None = None
    note: ShortText | None = None
    """A new note; an empty one removes the note."""

    def __post_init__(self) -> None:
        if self.severity is None and self.note is None:
            raise ValueError("give a severity, a note, or both")


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


class CartCheckInput(_Input, kw_only=True):
    items: Annotated[list[ItemName], Meta(min_length=1, max_length=1000)]
    """Bounded here for parsing; the cart-check limit itself is a record rule
    (`customers/rules.py` MAX_CART_ITEMS), checked by the route."""
