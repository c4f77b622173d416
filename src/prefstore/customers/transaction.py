"""The write engine: one optimistic transaction per customer.

A write reads the record under WATCH, builds the new record in Python, checks that each
identifier it claims is free, then in one MULTI/EXEC sets the record, both pre-rendered card
views, the identifier index keys, and appends to the change feed. Either all of it lands or
none of it does; a concurrent writer makes EXEC fail and the write is retried on fresh data.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import WatchError

from prefstore.customers.cards import RenderedCard, card_fields, render
from prefstore.customers.changes import FEED_MAXLEN
from prefstore.errors import Conflict, NotFound, StaleVersion
from prefstore.models.records import ChangeEntry, CustomerRecord
from prefstore.redis.connection import as_bytes, as_text, translated_errors
from prefstore.redis.keyspace import (
    KeySpace,
    decode_record,
    encode_entry,
    encode_record,
    identifier_keys,
)

MAX_WRITE_ATTEMPTS = 40
"""Optimistic retries before a write gives up with Conflict; each waits a little longer."""

Clock = Callable[[], datetime]
T = TypeVar("T")
Attempt = Callable[[Pipeline, bytes | None], Awaitable[T]]
"""One try of a write, given the stored record's bytes (None: no such customer)."""

utc_now: Clock = partial(datetime.now, UTC)
"""The default clock. A partial of `datetime.now`, not a function of ours: the importer
reads the clock for every batch and every customer it writes, and this way no project frame
runs for it."""


@dataclass
class Mutation:
    """What one write does to a customer: the new record plus extra commands for MULTI."""

    record: CustomerRecord
    op: str
    fields: list[str]
    extra: list[Callable[[Pipeline], Any]] = field(default_factory=list)
    previous: dict[str, str] = field(default_factory=dict)
    """For the audit entry: what an allergy change or removal replaced (no PII)."""


@dataclass(frozen=True)
class Written:
    card: RenderedCard
    changed: bool


Build = Callable[[Pipeline, CustomerRecord | None], Awaitable[Mutation | None]]
"""Gets the current record (None if absent, a copy it may change) and returns the Mutation,
or None when there is nothing to change."""


def existing(customer_id: str, current: CustomerRecord | None) -> CustomerRecord:
    if current is None:
        raise NotFound(f"no customer {customer_id}")
    return current


def _identifier_field(kind: str) -> str:
    return {"email": "emails", "phone": "phones"}.get(kind, f"identifiers.{kind}")


async def back_off(attempt: int) -> None:
    """Jittered wait after losing an optimistic race, so contenders spread out."""
    await asyncio.sleep(random.uniform(0, min(0.002 * (attempt + 1), 0.02)))


@dataclass(frozen=True)
class Storage:
    """Where a customer's writes go and how they are shaped: the client, the key space, how
    many notes a card shows, and the clock. The store and the importer share one, so both
    write the same bytes."""

    redis: Redis
    keys: KeySpace
    notes_on_card: int = 10
    clock: Clock = utc_now


class Transactions:
    """Runs writes to one customer as optimistic transactions and keeps the change feed."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.redis, self.keys = storage.redis, storage.keys

    async def optimistic(self, customer_id: str, attempt: Attempt[T]) -> T:
        """Run `attempt` on the customer's stored record (its bytes, None if absent), read
        under WATCH; run it again on fresh data while another writer gets there first (EXEC
        fails), up to MAX_WRITE_ATTEMPTS, with a jittered wait in between."""
        rec_key = self.keys.record(customer_id)
        for tries in range(MAX_WRITE_ATTEMPTS):
            try:
                async with translated_errors(), self.redis.pipeline(transaction=True) as pipe:
                    await pipe.watch(rec_key)
                    raw = await pipe.get(rec_key)
                    return await attempt(pipe, as_bytes(raw) if raw is not None else None)
            except WatchError:
                await back_off(tries)
        raise Conflict(f"customer {customer_id} is being changed by others; try again")

    async def run(
        self,
        customer_id: str,
        build: Build,
        *,
        actor: str,
        expect_version: int | None = None,
    ) -> Written:
        """Run `build` under WATCH and commit what it returns, retrying on contention.
        When `build` returns None the current card is returned, unchanged."""

        async def attempt(pipe: Pipeline, raw: bytes | None) -> Written:
            current = decode_record(raw) if raw is not None else None
            if expect_version is not None:
                have = current.version if current else 0
                if have != expect_version:
                    raise StaleVersion(expect_version, have)
            # `build` mutates its own copy: `current` must stay the old state so the
            # identifiers it owned can be released.
            mutation = await build(pipe, decode_record(raw) if raw is not None else None)
            if mutation is None:
                assert current is not None
                return Written(render(current, self.storage.notes_on_card), changed=False)
            await self._claim_identifiers(pipe, current, mutation.record)
            card = self._commit(pipe, current, mutation, actor)
            await pipe.execute()
            return Written(card, changed=True)

        return await self.optimistic(customer_id, attempt)

    async def _claim_identifiers(
        self, pipe: Pipeline, old: CustomerRecord | None, new: CustomerRecord
    ) -> None:
        owned = set(identifier_keys(self.keys, old)) if old else set()
        wanted = identifier_keys(self.keys, new)
        claims = [key for key in wanted if key not in owned]
        if not claims:
            return
        await pipe.watch(*claims)
        owners = await pipe.mget(claims)
        for key, owner in zip(claims, owners, strict=True):
            if owner is not None and as_text(owner) != new.id:
                kind = wanted[key][0]
                raise Conflict(
                    f"this {kind} belongs to another customer", field=_identifier_field(kind)
                )

    def _commit(
        self, pipe: Pipeline, old: CustomerRecord | None, mutation: Mutation, actor: str
    ) -> RenderedCard:
        new = mutation.record
        new.version = (old.version if old else 0) + 1
        card = render(new, self.storage.notes_on_card)
        keys = self.keys
        pipe.multi()  # type: ignore[no-untyped-call]
        pipe.set(keys.record(new.id), encode_record(new))
        pipe.hset(keys.card(new.id), mapping=card_fields(card))  # type: ignore[arg-type]
        old_keys = set(identifier_keys(keys, old)) if old else set()
        new_keys = identifier_keys(keys, new)
        for key in new_keys.keys() - old_keys:
            pipe.set(key, new.id)
        for key in old_keys - new_keys.keys():
            pipe.delete(key)
        for command in mutation.extra:
            command(pipe)
        entry = ChangeEntry(
            op=mutation.op,
            customer_id=new.id,
            version=new.version,
            actor=actor,
            at=self.storage.clock(),
            fields=mutation.fields,
            previous=mutation.previous,
        )
        self.append_change(pipe, entry)
        return card

    def append_change(self, pipe: Pipeline, entry: ChangeEntry) -> None:
        """Queue `entry` on the change feed (inside the caller's MULTI)."""
        pipe.xadd(self.keys.changes, encode_entry(entry), maxlen=FEED_MAXLEN, approximate=True)
