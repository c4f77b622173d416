"""What a client may send: unknown fields are rejected, every string and list is bounded.
Server-owned fields (version, timestamps, authors) do not exist here: no mass assignment."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, ClassVar, Literal, get_args

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
    Moment,
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
    VenueName,
    Visibility,
)
from prefstore.models.records import Channel


# ---------------------------------------------------------------- client input
class _Input(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    schema_rules: ClassVar[dict[str, Any]] = {}
    """What the model checks across its fields (`__post_init__`, or the record rules), said in
    JSON Schema: added to its published schema and the OpenAPI document's (`schemas.py`).
    `not` rather than `anyOf`, which client generators turn into a union of models."""


class AllergyInput(_Input, kw_only=True):
    label: Label
    severity: Severity = "allergy"
    note: ShortText | None = None


class AllergyChange(_Input, kw_only=True):
    """An explicit change of one known allergy: the only write that may lower its severity."""

    severity: Severity | None = None
    note: ShortText | None = None
    """A new note; an empty one removes the note."""

    schema_rules: ClassVar[dict[str, Any]] = {
        "not": {"properties": {"severity": {"type": "null"}, "note": {"type": "null"}}}
    }

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
    over: Label | None = None
    """A comparative like: preferred over this, e.g. `popcorn` over `pretzels`."""

    schema_rules: ClassVar[dict[str, Any]] = {  # `over` goes with a like (rules.preference_from)
        "not": {
            "required": ["over", "sentiment"],
            "properties": {"over": {"type": "string"}, "sentiment": {"const": "dislikes"}},
        }
    }


class NoteInput(_Input, kw_only=True):
    text: NoteText
    visibility: Visibility = "all"
    venue: VenueName | None = None
    """Where it is written; default: the key's venue. A key bound to a venue may name only
    its own (403 naming `venue`)."""
    venue_only: bool = False
    """Shown only at its venue (the card's "here" part), never chain-wide. Needs `venue`
    named here, even by a key bound to one: a note kept from the rest of the chain says
    where it belongs."""

    schema_rules: ClassVar[dict[str, Any]] = {
        "not": {
            "required": ["venue_only"],
            "properties": {"venue_only": {"const": True}, "venue": {"type": "null"}},
        }
    }

    def __post_init__(self) -> None:
        if self.venue_only and self.venue is None:
            raise ValueError("a venue-only note needs its `venue`")


FollowUpText = Annotated[ShortText, Meta(min_length=1)]


class FollowUpInput(_Input, kw_only=True):
    """An action owed to the person: shown on every card until resolved or expired."""

    text: FollowUpText
    due: date | None = None
    expires_at: Moment | None = None
    """After this it leaves the card, resolved or not (a time without an offset is UTC)."""
    visibility: Visibility = "all"
    """`staff`: only staff apps see it (e.g. it says something about the person's health)."""
    venue: VenueName | None = None
    """Where it is added (default: the key's venue); it shows at every venue."""


class FollowUpResolve(_Input, kw_only=True):
    note: ShortText | None = None
    """What was done, e.g. "comped the tiramisu"."""
    venue: VenueName | None = None
    """Where it was resolved; default: the key's venue."""


ConsentGiven = Literal["opted_in", "opted_out"]


class ConsentInput(_Input, kw_only=True):
    """What the person says about being contacted, per channel; channels left out are
    unchanged. An opt-in never replaces an opt-out stated later (`rules.put_consent`)."""

    email: ConsentGiven | None = None
    sms: ConsentGiven | None = None
    phone: ConsentGiven | None = None
    post: ConsentGiven | None = None
    at: Moment | None = None
    """When the person said it (default: now); a time without an offset is UTC."""

    schema_rules: ClassVar[dict[str, Any]] = {
        "not": {"properties": {c: {"type": "null"} for c in get_args(Channel)}}
    }

    def __post_init__(self) -> None:
        if all(getattr(self, c) is None for c in get_args(Channel)):
            raise ValueError("give at least one channel: email, sms, phone or post")


class EventInput(_Input, kw_only=True):
    type: EventType
    operation_id: OperationId | None = None
    """Makes a retried write count once; the `Idempotency-Key` header may carry it instead."""
    at: Moment | None = None
    location: Location | None = None
    channel: Location | None = None
    items: Annotated[list[ItemName], Meta(max_length=100)] = []
    amount: Amount | None = None
    currency: Currency | None = None
    note: ShortText | None = None
    venue: VenueName | None = None
    """Where it happened; default: the key's venue. A key bound to a venue may name only its
    own (403 naming `venue`)."""


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


CartItem = Annotated[
    ItemName,
    # Said, not checked here: the cart check refuses an item with nothing to match (422).
    Meta(extra_json_schema={"not": {"pattern": r"^[\W_]*$"}}),
]
"""An item with a letter or a digit in it (of any script)."""


class CartCheckInput(_Input, kw_only=True):
    items: Annotated[
        list[CartItem],
        # msgspec keeps its own maxItems (1000): the rule's 50 is said as "not 51 or more".
        Meta(min_length=1, max_length=1000, extra_json_schema={"not": {"minItems": 51}}),
    ]
    """Bounded here for parsing; the cart-check limit itself is a record rule
    (`customers/rules/` MAX_CART_ITEMS), checked by the route: the schema says that one
    (tests/http/test_openapi.py holds the two equal)."""


# ---------------------------------------------------------------- a party (a table, a booking)
MAX_PARTY = 20
"""Guests in one party card or party check."""
MemberValue = Annotated[str, Meta(min_length=1, max_length=254)]
PartyMember = Annotated[
    dict[IdentifierKind, MemberValue],
    Meta(
        min_length=1,
        max_length=1,
        description='One guest, as one `kind: value` pair: `{"id": "ada"}`, '
        '`{"phone": "+14155550123"}`, `{"email": …}`, or any identifier kind the '
        'customer was stored with (`{"loyalty": "L-1234"}`).',
    ),
]


class PartyInput(_Input, kw_only=True):
    """The guests of one table or booking."""

    members: Annotated[list[PartyMember], Meta(min_length=1, max_length=MAX_PARTY)]
    label: Label | None = None
    """What the party is, e.g. `table 12` or a booking reference: echoed on the card."""


class PartyCheckInput(PartyInput, kw_only=True):
    """A cart checked against every guest of a party at once."""

    items: Annotated[
        list[CartItem],
        Meta(min_length=1, max_length=1000, extra_json_schema={"not": {"minItems": 51}}),
    ]
    """At most `rules.MAX_CART_ITEMS` (checked by the route, as for one guest)."""
