"""The lookup path: pre-rendered card bytes in one Redis round trip.

Nothing here decodes or validates a card: the bytes stored at write time are the response.
Reads go through the client's pipelined connection when it has one (`pipelined.py`; the
figures are in docs/BENCHMARKS.md), else through redis-py (fakeredis, TLS).
"""

from __future__ import annotations

import re
from typing import Any

from redis import exceptions as redis_errors
from redis.asyncio import Redis

from prefstore.customers.card_upgrade import CardUpgrade
from prefstore.customers.cards import View as View  # re-exported: the lookup names its view
from prefstore.customers.identifiers import fast_email, normalise_other, normalise_phone
from prefstore.customers.nearcache import CardBytes as CardBytes  # re-exported: the answer
from prefstore.customers.nearcache import NearCache
from prefstore.errors import Unavailable
from prefstore.redis.connection import (
    OUTAGE_ERRORS,
    Script,
    as_bytes,
    as_text,
    pipelined_reads,
    translated_errors,
)
from prefstore.redis.keyspace import (
    CARD_FIELD_CONTACT,
    CARD_FIELD_STAFF,
    CARD_FIELD_TOUCHPOINT,
    CARD_FIELD_VERSION,
    KeySpace,
)

_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_FIELDS: dict[View, bytes] = {
    "touchpoint": CARD_FIELD_TOUCHPOINT,
    "contact": CARD_FIELD_CONTACT,
    "staff": CARD_FIELD_STAFF,
}

# KEYS[1] = identifier index key.
# ARGV: card key head, card key tail (card key = head .. id .. tail), version field, view
#       field.
# One round trip: resolve the identifier and fetch the pre-rendered card view. The card key
# is computed inside the script, which a single Redis allows; on Redis Cluster the lookup
# falls back to two round trips (`CardReader.by_identifier_two_trips`). The script spells no
# key and no field: the key space gives them all (`lookup_arguments`).
LOOKUP_BY_IDENTIFIER = Script.of("""
local id = redis.call('GET', KEYS[1])
if not id then return false end
return redis.call('HMGET', ARGV[1] .. id .. ARGV[2], ARGV[3], ARGV[4])
""")


def lookup_arguments(keys: KeySpace, view_field: bytes) -> tuple[bytes, ...]:
    """ARGV of LOOKUP_BY_IDENTIFIER for one card view; constant, so a reader computes it once
    per view rather than per call."""
    head, tail = keys.card_key_around_id()
    return head.encode(), tail.encode(), CARD_FIELD_VERSION, view_field


VIEWS: tuple[View, ...] = tuple(_FIELDS)


class CardReader:
    def __init__(
        self, redis: Redis, keys: KeySpace, region: str, near: NearCache | None = None
    ) -> None:
        self._redis = redis
        self._near = near
        """Card bytes of this process, by card key and view (`nearcache.py`); None: off."""
        self._reads = pipelined_reads(redis)
        self._keys = keys
        self._region = region
        # The script's ARGV per view, built once: the lookup is the hot path.
        self._lookup_argv = {view: lookup_arguments(keys, field) for view, field in _FIELDS.items()}
        self._upgrade = CardUpgrade(redis, keys)

    async def _call(self, *args: object) -> Any:
        """One read command. Errors are translated here rather than with the
        `translated_errors()` context manager: this is the hot path, and that costs a
        generator per call."""
        try:
            if self._reads is not None:
                return await self._reads.execute(*args)
            return await self._redis.execute_command(*args)  # type: ignore[no-untyped-call]
        except OUTAGE_ERRORS as exc:
            raise Unavailable(f"store unavailable: {type(exc).__name__}") from exc

    async def by_id(self, customer_id: str, view: View) -> CardBytes | None:
        key = self._keys.card(customer_id)
        near = self._near
        fill = None
        if near is not None:
            if (cached := near.get(key, view)) is not None:
                return cached
            fill = near.begin(key, view)
        version, body = await self._call("HMGET", key, CARD_FIELD_VERSION, _FIELDS[view])
        if body is None:  # no card, or one stored before this view existed
            return None if version is None else await self._upgraded(customer_id, view)
        found = CardBytes(as_bytes(version), as_bytes(body))
        if near is not None and fill is not None:
            near.fill(fill, found)
        return found

    def forget(self, customer_id: str) -> None:
        """This process changed or erased the customer: its cached card goes now, before
        the caller can ask for it again (Redis's message may come later)."""
        if self._near is not None:
            self._near.invalidate(self._keys.card(customer_id))

    async def _upgraded(self, customer_id: str, view: View) -> CardBytes | None:
        """The view of a card stored before it existed, derived (never a fuller view)."""
        found = await self._upgrade.view(customer_id, _FIELDS[view])
        return CardBytes(*found) if found is not None else None

    def identifier_key(self, kind: str, raw: str) -> str:
        if kind == "phone":
            value = normalise_phone(raw, self._region, "phone")
        elif kind == "email":
            # The same rule as `normalise_email`, without email-validator's cost (~50 µs a
            # lookup: 113 vs 63 µs of server CPU, docs/BENCHMARKS.md) for the plain addresses
            # touchpoints send; tests/customers/test_identifiers.py holds the two equal.
            value = fast_email(raw, "email")
        else:
            value = normalise_other(kind, raw, kind)
        return self._keys.identifier(kind, value)

    async def by_identifier(self, kind: str, raw: str, view: View) -> CardBytes | None:
        """One round trip on a single Redis (a server-side script).

        A phone already in E.164 form (what POS systems send) is tried as it is before the
        phonenumbers library is asked (~20 µs a parse): stored phones are valid E.164, so a
        hit is the right customer; a miss falls back to full normalisation, which may find
        the same number spelt differently or reject the input as before."""
        fast = None
        if kind == "phone" and _E164.fullmatch(raw):
            fast = self._keys.identifier("phone", raw)
            found = await self._resolve(fast, view)
            if found is not None:
                return found
        key = self.identifier_key(kind, raw)
        return None if key == fast else await self._resolve(key, view)

    async def _resolve(self, identifier_key: str, view: View) -> CardBytes | None:
        argv = self._lookup_argv[view]
        try:
            found = await self._call("EVALSHA", LOOKUP_BY_IDENTIFIER.sha, 1, identifier_key, *argv)
        except redis_errors.NoScriptError:  # a restarted or flushed Redis: send the source
            source = LOOKUP_BY_IDENTIFIER.source
            found = await self._call("EVAL", source, 1, identifier_key, *argv)
        if not found:
            return None
        if found[1] is None:  # a card stored before this view existed: the slow way, once
            return None if found[0] is None else await self._by_owner(identifier_key, view)
        return CardBytes(as_bytes(found[0]), as_bytes(found[1]))

    async def _by_owner(self, identifier_key: str, view: View) -> CardBytes | None:
        async with translated_errors():
            owner = await self._redis.get(identifier_key)
        return None if owner is None else await self.by_id(as_text(owner), view)

    async def by_identifier_two_trips(self, kind: str, raw: str, view: View) -> CardBytes | None:
        """The same lookup without a script, for Redis Cluster (index and card in two slots)."""
        return await self._by_owner(self.identifier_key(kind, raw), view)
