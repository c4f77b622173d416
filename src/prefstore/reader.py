"""The lookup path: pre-rendered card bytes in one Redis round trip.

Nothing here decodes or validates a card: the bytes stored at write time are the response.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from redis.asyncio import Redis

from prefstore.errors import InvalidInput
from prefstore.identifiers import normalise_email, normalise_other, normalise_phone
from prefstore.keys import CARD_FIELD_STAFF, CARD_FIELD_TOUCHPOINT, CARD_FIELD_VERSION, KeySpace
from prefstore.redis_adapter import (
    LOOKUP_BY_IDENTIFIER,
    as_bytes,
    as_text,
    translated_errors,
)

View = Literal["touchpoint", "staff"]
_FIELDS: dict[str, bytes] = {"touchpoint": CARD_FIELD_TOUCHPOINT, "staff": CARD_FIELD_STAFF}


class CardBytes(NamedTuple):
    version: bytes
    body: bytes


class CardReader:
    def __init__(self, redis: Redis, keys: KeySpace, region: str) -> None:
        self._redis = redis
        self._keys = keys
        self._region = region
        self._lookup_script = redis.register_script(LOOKUP_BY_IDENTIFIER)
        self._prefix = keys.prefix.encode()

    async def by_id(self, customer_id: str, view: View) -> CardBytes | None:
        async with translated_errors():
            version, body = await self._redis.hmget(
                self._keys.card(customer_id), [CARD_FIELD_VERSION, _FIELDS[view]]
            )
        return CardBytes(as_bytes(version), as_bytes(body)) if body is not None else None

    def identifier_key(self, kind: str, raw: str) -> str:
        if kind == "phone":
            value = normalise_phone(raw, self._region, "phone")
        elif kind == "email":
            value = normalise_email(raw, "email")
        else:
            value = normalise_other(kind, raw, kind)
        return self._keys.identifier(kind, value)

    async def by_identifier(self, kind: str, raw: str, view: View) -> CardBytes | None:
        """One round trip on a single Redis (a server-side script)."""
        key = self.identifier_key(kind, raw)
        async with translated_errors():
            found = await self._lookup_script(keys=[key], args=[self._prefix, _FIELDS[view]])
        if not found or found[1] is None:
            return None
        return CardBytes(as_bytes(found[0]), as_bytes(found[1]))

    async def by_identifier_two_trips(self, kind: str, raw: str, view: View) -> CardBytes | None:
        """The same lookup without a script, for Redis Cluster (index and card in two slots)."""
        key = self.identifier_key(kind, raw)
        async with translated_errors():
            owner = await self._redis.get(key)
        if owner is None:
            return None
        return await self.by_id(as_text(owner), view)


def require_one_identifier(params: dict[str, str]) -> tuple[str, str]:
    given = [(k, v) for k, v in params.items() if v]
    if len(given) != 1:
        raise InvalidInput("query", "give exactly one identifier, e.g. ?phone=… or ?email=…")
    return given[0]
