"""The cues shown with a search hit — the name as written, a phone, an email, the last visit,
tags, city — read from the customers' cards in Redis for the few hits returned, in one round
trip.

The index keeps none of them (they are most of what a packed copy of each customer would
cost). One HGET of the card's contact view per hit, in a pipeline rather than an MGET: the
keys live in different cluster slots. A hit whose card is gone (erased since the index last
heard of it) is dropped. Phones and emails are masked here for callers whose view masks them,
with the card's own functions (`customers/cards.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import msgspec
from redis.asyncio import Redis

from prefstore.customers.cards import CONTACT_VIEWS, View, mask_email, mask_phone
from prefstore.models.results import SearchCues, SearchField, SearchHit
from prefstore.redis.connection import translated_errors
from prefstore.redis.keyspace import CARD_FIELD_CONTACT, KeySpace


class _History(msgspec.Struct):
    last_visit: datetime | None = None


class CardPart(msgspec.Struct):
    """The part of a card JSON a hit shows (the rest of the card is skipped unread)."""

    name: str = ""
    emails: list[str] = []
    phones: list[str] = []
    tags: list[str] = []
    city: str | None = None
    history: _History = msgspec.field(default_factory=_History)


_decode = msgspec.json.Decoder(CardPart).decode


class Ranked(msgspec.Struct, frozen=True):
    """A hit as the index ranks it: who, how well, on what."""

    id: str
    score: float
    matched: SearchField


class CardCues:
    def __init__(self, redis: Redis, keys: KeySpace) -> None:
        self._redis = redis
        self._keys = keys

    async def hits(self, ranked: Sequence[Ranked], view: View) -> list[SearchHit]:
        if not ranked:
            return []
        async with translated_errors(), self._redis.pipeline(transaction=False) as pipe:
            for hit in ranked:
                pipe.hget(self._keys.card(hit.id), CARD_FIELD_CONTACT)
            bodies = await pipe.execute()
        return [
            hit_of(hit, _decode(body), view)
            for hit, body in zip(ranked, bodies, strict=True)
            if body is not None
        ]


def hit_of(ranked: Ranked, card: CardPart, view: View) -> SearchHit:
    phone = card.phones[0] if card.phones else None
    email = card.emails[0] if card.emails else None
    if view not in CONTACT_VIEWS:
        phone = mask_phone(phone) if phone else None
        email = mask_email(email) if email else None
    return SearchHit(
        id=ranked.id,
        name=card.name,
        score=ranked.score,
        matched=ranked.matched,
        cues=SearchCues(
            phone=phone,
            email=email,
            last_visit=card.history.last_visit,
            tags=card.tags,
            city=card.city,
        ),
    )
