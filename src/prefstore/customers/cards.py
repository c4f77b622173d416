"""Rendering a customer record into the pre-encoded card views touchpoints read.

Rendering happens at write time; a read returns these bytes untouched. There is one view per
kind of caller (`access.Principal.of` decides which a caller gets):

| view         | staff-only notes | phones and emails | consent | who                          |
|--------------|------------------|-------------------|---------|------------------------------|
| `touchpoint` | no               | masked            | no      | `lookup` keys (a till)       |
| `contact`    | no               | in full           | yes     | `contact` keys (call centre) |
| `staff`      | yes              | in full           | yes     | `write` and `admin` keys     |

Staff-only follow-ups go with staff-only notes. Open follow-ups are service information, not
contact data: every view shows them (a till must know the dessert is owed), as it shows the
allergies; consent is contact data, so the touchpoint view leaves it out with the contacts.
Notes marked `venue_only` are on no view: they show in their venue's "here" part
(`venues.here`, read from the record), the card being chain-wide.
Likes and dislikes carry their evidence (`evidence.py`), and the card suggests likes.

Search cues mask with the same functions (`search/scoring.py`), so a caller sees the same
contact details whether it searched, looked up by id or looked up by an identifier.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple

import msgspec

from prefstore.customers import evidence, rules
from prefstore.models.fields import SEVERITY_RANK
from prefstore.models.records import CustomerRecord, FollowUp, Note, Preference
from prefstore.models.views import Card, CardHistory, CardPreference, TopItem
from prefstore.redis.keyspace import (
    CARD_FIELD_CONTACT,
    CARD_FIELD_STAFF,
    CARD_FIELD_TOUCHPOINT,
    CARD_FIELD_VERSION,
)

View = Literal["touchpoint", "contact", "staff"]
TOP_ITEMS_ON_CARD = 5
MASK = "••••"
CONTACT_VIEWS: frozenset[View] = frozenset({"contact", "staff"})
"""The views that show phones and emails in full."""
STAFF_NOTE_VIEWS: frozenset[View] = frozenset({"staff"})
"""The views that show notes written with `visibility: staff`."""
_encoder = msgspec.json.Encoder()


def mask_phone(phone: str) -> str:
    """The last four digits: enough for a clerk to confirm "the number ending 4471"."""
    return f"{MASK} {''.join(ch for ch in phone if ch.isdigit())[-4:]}"


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}"


class RenderedCard(NamedTuple):
    customer_id: str
    version: int
    touchpoint: bytes
    """JSON card without staff-only notes, phones and emails masked."""
    contact: bytes
    """JSON card without staff-only notes, phones and emails in full."""
    staff: bytes
    """JSON card with every note."""

    def body(self, view: View) -> bytes:
        if view == "staff":
            return self.staff
        return self.contact if view == "contact" else self.touchpoint


def render(record: CustomerRecord, notes_limit: int, now: datetime | None = None) -> RenderedCard:
    """Every view of `record`; follow-ups expired by `now` (default: the present) are left
    out."""
    now = now or datetime.now(UTC)
    # A venue-only note is its venue's (`venues.here`), never on the chain-wide card.
    notes = [n for n in record.notes if not n.venue_only]
    touchpoint_notes = [n for n in notes if n.visibility == "all"]
    contact = build_card(record, touchpoint_notes, notes_limit, now)
    return RenderedCard(
        customer_id=record.id,
        version=record.version,
        touchpoint=_encoder.encode(masked(contact)),
        contact=_encoder.encode(contact),
        staff=_encoder.encode(build_card(record, notes, notes_limit, now, staff=True)),
    )


def masked(card: Card) -> Card:
    return msgspec.structs.replace(
        card,
        emails=[mask_email(e) for e in card.emails],
        phones=[mask_phone(p) for p in card.phones],
        contacts_masked=True,
        consent=None,
    )


def masked_bytes(contact_view: bytes) -> bytes:
    """The touchpoint view from stored contact-view bytes, for a card stored before the
    touchpoint view was masked (`card_upgrade.py`). Decoded untyped, so a model constraint
    added since the card was written cannot refuse it; the key order is the `Card` field
    order, so the bytes equal what `render` makes today (a test holds this)."""
    card: dict[str, Any] = msgspec.json.decode(contact_view)
    card["emails"] = [mask_email(e) for e in card.get("emails", [])]
    card["phones"] = [mask_phone(p) for p in card.get("phones", [])]
    card["contacts_masked"] = True
    if "consent" in card:  # absent from cards stored before consent existed
        card["consent"] = None
    return _encoder.encode(card)


def build_card(
    record: CustomerRecord,
    notes: list[Note],
    notes_limit: int,
    now: datetime,
    *,
    staff: bool = False,
) -> Card:
    """The card with the notes given (those the view may see); staff-only follow-ups only
    when `staff`."""
    allergies = sorted(record.allergies, key=lambda a: SEVERITY_RANK.get(a.severity, 9))
    history = record.history
    top = sorted(history.item_counts.items(), key=lambda kv: (-kv[1], kv[0]))
    seen = evidence.seen_items(history) if history.item_counts else {}
    prefs = [_with_evidence(p, seen) for p in record.preferences]
    return Card(
        id=record.id,
        version=record.version,
        name=record.name,
        allergies=allergies,
        follow_ups=open_follow_ups(record.follow_ups, now, staff=staff),
        likes=[p for p in prefs if p.sentiment == "likes"],
        dislikes=[p for p in prefs if p.sentiment == "dislikes"],
        suggested_likes=evidence.suggested_likes(record, seen) if seen else [],
        notes=list(reversed(notes[-notes_limit:])) if notes_limit else [],
        history=CardHistory(
            visits=history.visits,
            purchases=history.purchases,
            last_visit=history.last_visit,
            last_event=history.last_event,
            spend=round(history.spend, 2),
            top_items=[TopItem(item=i, count=c) for i, c in top[:TOP_ITEMS_ON_CARD]],
        ),
        tags=record.tags,
        dates=record.dates,
        emails=record.emails,
        phones=record.phones,
        identifiers=record.identifiers,
        city=record.city,
        created_at=record.created_at,
        updated_at=record.updated_at,
        consent=record.consent,
    )


def open_follow_ups(follow_ups: list[FollowUp], now: datetime, *, staff: bool) -> list[FollowUp]:
    """The follow-ups a card shows: open ones (`rules.is_open`), staff-only ones only to
    staff; earliest due first (undated after), then oldest first."""
    shown = [f for f in follow_ups if rules.is_open(f, now) and (staff or f.visibility == "all")]
    return sorted(shown, key=lambda f: (f.due is None, f.due or now.date()))


def reads(preference: Preference) -> str:
    """The opinion in words: `likes oat milk`, `prefers popcorn over pretzels`."""
    if preference.over:
        return f"prefers {preference.label} over {preference.over}"
    return f"{preference.sentiment} {preference.label}"


def _with_evidence(preference: Preference, seen: dict[str, evidence.Seen]) -> CardPreference:
    found = seen.get(evidence.key(preference.label)) if seen else None
    return CardPreference(
        **msgspec.structs.asdict(preference),
        seen=found.count if found else 0,
        last_seen=found.last if found else None,
        reads=reads(preference),
    )


def card_fields(card: RenderedCard) -> dict[bytes, bytes | str]:
    """The fields of the `{c:id}:card` hash for a rendered card: every view, so a reader
    picks one field and never renders. Both write paths (the store's transaction and the
    importer's batch) write exactly these."""
    return {
        CARD_FIELD_VERSION: str(card.version),
        CARD_FIELD_TOUCHPOINT: card.touchpoint,
        CARD_FIELD_CONTACT: card.contact,
        CARD_FIELD_STAFF: card.staff,
    }
