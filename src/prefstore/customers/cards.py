"""Rendering a customer record into the pre-encoded card views touchpoints read.

Rendering happens at write time; a read returns these bytes untouched.
"""

from __future__ import annotations

from typing import NamedTuple

import msgspec

from prefstore.models.fields import SEVERITY_RANK
from prefstore.models.records import CustomerRecord, Note
from prefstore.models.views import Card, CardHistory, TopItem
from prefstore.redis.keyspace import CARD_FIELD_STAFF, CARD_FIELD_TOUCHPOINT, CARD_FIELD_VERSION

TOP_ITEMS_ON_CARD = 5
_encoder = msgspec.json.Encoder()


class RenderedCard(NamedTuple):
    customer_id: str
    version: int
    touchpoint: bytes
    """JSON card without staff-only notes."""
    staff: bytes
    """JSON card with every note."""


def render(record: CustomerRecord, notes_limit: int) -> RenderedCard:
    touchpoint_notes = [n for n in record.notes if n.visibility == "all"]
    return RenderedCard(
        customer_id=record.id,
        version=record.version,
        touchpoint=_encoder.encode(build_card(record, touchpoint_notes, notes_limit)),
        staff=_encoder.encode(build_card(record, record.notes, notes_limit)),
    )


def build_card(record: CustomerRecord, notes: list[Note], notes_limit: int) -> Card:
    allergies = sorted(record.allergies, key=lambda a: SEVERITY_RANK.get(a.severity, 9))
    history = record.history
    top = sorted(history.item_counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return Card(
        id=record.id,
        version=record.version,
        name=record.name,
        allergies=allergies,
        likes=[p for p in record.preferences if p.sentiment == "likes"],
        dislikes=[p for p in record.preferences if p.sentiment == "dislikes"],
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
    )


def card_fields(card: RenderedCard) -> dict[bytes, bytes | str]:
    """The fields of the `{c:id}:card` hash for a rendered card."""
    return {
        CARD_FIELD_VERSION: str(card.version),
        CARD_FIELD_TOUCHPOINT: card.touchpoint,
        CARD_FIELD_STAFF: card.staff,
    }
