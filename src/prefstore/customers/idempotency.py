"""Operation ids and stored outcomes: a write is applied once, however often it is sent.

Every write carries an operation id: the client's `Idempotency-Key`, or one the service makes.
Inside the write's transaction (the outcomes hash is WATCHed with the record) the id is
looked up first; if it is there, the write already landed — sent again by the client after a
lost answer, or committed just before an outage cut the reply — and the stored outcome is the
answer: same status, same card, nothing applied twice. Otherwise the outcome is stored in the
same MULTI as the write.

Where outcomes live: `{c:<id>}:out` (operation id -> msgpack `Outcome`, which holds the card
the write answered with) and `{c:<id>}:out:exp` (operation id -> expiry, ms), both in the
customer's own slot, so they commit atomically with the write and erasure deletes them with
every other key of the person (`KeySpace.customer_keys`). An outcome lives 24 hours for a
client's key (as Stripe keeps them) and 10 minutes for an id the service made (long enough for
a client to retry a 503 with the id it was given); each write drops up to 64 expired entries
and both keys expire with their longest-lived entry, so neither grows without bound.

A write that changes nothing stores no outcome: sent again, it is evaluated again (and again
changes nothing unless someone else changed the record meanwhile).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import msgspec
from redis.asyncio.client import Pipeline

from prefstore.customers import rules
from prefstore.customers.cards import RenderedCard
from prefstore.errors import InvalidInput
from prefstore.models.records import Event
from prefstore.redis.connection import as_bytes
from prefstore.redis.keyspace import KeySpace

KEYED_TTL = timedelta(hours=24)
"""How long the outcome of a write sent with an `Idempotency-Key` is kept."""
AUTO_TTL = timedelta(minutes=10)
"""How long the outcome of a write with a service-made operation id is kept."""
PRUNE_PER_WRITE = 64

_KEEP_OUTCOME = """
local gone = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, ARGV[6])
if #gone > 0 then
  redis.call('HDEL', KEYS[1], unpack(gone))
  redis.call('ZREM', KEYS[2], unpack(gone))
end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[2])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[5]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  redis.call('PEXPIRE', KEYS[2], ARGV[5])
end
return #gone
"""
"""Store one outcome (queued inside the write's MULTI): drop expired entries, add this one,
make both keys live as long as their longest-lived entry. Key names come from the key space."""


class Outcome(msgspec.Struct, array_like=True, forbid_unknown_fields=False):
    fingerprint: str
    changed: bool
    card: RenderedCard | None
    """None only for an outcome this version cannot read (stored by another layout): the
    write landed, and the current card answers."""
    event: Event | None = None
    expires: int = 0
    """When it stops counting (ms since the epoch, by the store's clock): the hash is pruned
    only when written, so an entry may outlive its time until then."""


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(Outcome)


def derived_id(operation_id: str) -> str:
    """A customer id made from an operation id (a create that names none): a retried create
    lands on the customer the first one made. Same shape as `rules.new_id`."""
    return hashlib.blake2b(operation_id.encode(), digest_size=8).hexdigest()


@dataclass(frozen=True)
class Operation:
    """One write as sent: its operation id, a fingerprint of what was asked, and whether the
    client named it (its `Idempotency-Key`)."""

    id: str
    fingerprint: str
    keyed: bool

    @classmethod
    def of(cls, key: str | None, kind: str, customer_id: str, *request: object) -> Operation:
        """`kind` and `request` (the decoded body, item ids) are what the key must always
        be sent with: the same key with anything else is a different request (422)."""
        asked = msgspec.json.encode([kind, customer_id, *request])
        fingerprint = hashlib.blake2b(asked, digest_size=16).hexdigest()
        if key is None:
            return cls(f"auto:{rules.new_id()}", fingerprint, keyed=False)
        return cls(key, fingerprint, keyed=True)


class Outcomes:
    """Looks up and stores outcomes inside a customer's write transaction."""

    def __init__(self, keys: KeySpace) -> None:
        self._keys = keys

    def watched(self, customer_id: str) -> str:
        """The key a write WATCHes beside the record."""
        return self._keys.outcomes(customer_id)

    async def find(
        self, pipe: Pipeline, customer_id: str, op: Operation, now: datetime
    ) -> Outcome | None:
        """The stored outcome of `op` (read under WATCH), None if it never landed or has
        expired. InvalidInput (422) when the id was used for a different request."""
        raw = await pipe.hget(self._keys.outcomes(customer_id), op.id)
        if raw is None:
            return None
        try:
            outcome = _decoder.decode(as_bytes(raw))
        except msgspec.DecodeError:
            return Outcome(fingerprint=op.fingerprint, changed=True, card=None)
        if outcome.expires and outcome.expires <= _ms(now):
            return None
        if outcome.fingerprint != op.fingerprint:
            raise InvalidInput(
                "Idempotency-Key",
                "was already used for a different request; send a new key for a new request",
            )
        return outcome

    def keep(
        self, customer_id: str, op: Operation, outcome: Outcome, now: datetime
    ) -> Callable[[Pipeline], Any]:
        """The MULTI command that stores `outcome` under `op.id`."""
        ttl = KEYED_TTL if op.keyed else AUTO_TTL
        now_ms = _ms(now)
        ttl_ms = int(ttl.total_seconds() * 1000)
        outcome.expires = now_ms + ttl_ms
        keys = (self._keys.outcomes(customer_id), self._keys.outcome_expiry(customer_id))
        args = (now_ms, op.id, _encoder.encode(outcome), outcome.expires, ttl_ms, PRUNE_PER_WRITE)

        def command(pipe: Pipeline) -> None:
            pipe.eval(_KEEP_OUTCOME, 2, *keys, *args)

        return command


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
