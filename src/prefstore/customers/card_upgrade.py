"""Cards stored before a view existed: that view derived from one they have, stored once.

Cards written before phones and emails were masked for `lookup` keys have no touchpoint
field (`CARD_FIELD_TOUCHPOINT`); their contact field (`CARD_FIELD_CONTACT`, the field the
touchpoint view used to be) holds the same card with contacts in full. A read of the missing
view never falls back to a fuller view: it derives the masked view from the contact view's
bytes and stores it, only if the card is still at the version it was derived from, so a
write that landed meanwhile (which stores every view itself) is never overwritten by an
older card. The next read of that card is the usual single HMGET. Any write heals a card
too: both write paths store every field (`cards.card_fields`).
"""

from __future__ import annotations

from collections.abc import Callable

from redis.asyncio import Redis

from prefstore.customers.cards import masked_bytes
from prefstore.redis.connection import as_bytes, translated_errors
from prefstore.redis.keyspace import (
    CARD_FIELD_CONTACT,
    CARD_FIELD_TOUCHPOINT,
    CARD_FIELD_VERSION,
    KeySpace,
)

DERIVED: dict[bytes, tuple[bytes, Callable[[bytes], bytes]]] = {
    CARD_FIELD_TOUCHPOINT: (CARD_FIELD_CONTACT, masked_bytes),
}
"""A view field an older card may lack → (the field it is derived from, how)."""

# KEYS[1] = card key. ARGV: version field, the version derived from, view field, view bytes.
# Sent with EVAL (the source, not the digest): it runs once per old card, not per lookup.
STORE_IF_UNCHANGED = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[3], ARGV[4])
return 1
"""


class CardUpgrade:
    def __init__(self, redis: Redis, keys: KeySpace) -> None:
        self._redis = redis
        self._keys = keys

    async def view(self, customer_id: str, field: bytes) -> tuple[bytes, bytes] | None:
        """(version, bytes) of the view stored under `field`, derived and stored when the
        card predates it; None when there is no card or nothing to derive it from."""
        derivation = DERIVED.get(field)
        if derivation is None:
            return None
        source_field, derive = derivation
        key = self._keys.card(customer_id)
        async with translated_errors():
            fields = [CARD_FIELD_VERSION, field, source_field]
            version, body, source = await self._redis.hmget(key, fields)
            if version is None:
                return None
            if body is not None:  # stored meanwhile, by a write or another reader
                return as_bytes(version), as_bytes(body)
            if source is None:
                return None
            derived = derive(as_bytes(source))
            await self._redis.eval(
                STORE_IF_UNCHANGED, 1, key, CARD_FIELD_VERSION, version, field, derived
            )
        return as_bytes(version), derived
