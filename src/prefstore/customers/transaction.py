"""The write engine: one optimistic transaction per customer.

A write reads the record under WATCH, builds the new record in Python, checks that each
identifier it claims is free, then in one MULTI/EXEC sets the record, both pre-rendered card
views, the identifier index keys, the write's outcome (`idempotency.py`), and appends to the
change feed. Either all of it lands or none of it does; a concurrent writer makes EXEC fail and
the write is retried on fresh data.

An outage is not a conflict. redis-py reports a timeout or a dropped connection while keys
are watched as a `WatchError`, the same class as a lost race (`lost_to_outage` tells them
apart); such a write is never retried here: it ends at once as `Unavailable`, saying whether
it may have landed (`outcome="unknown"`: the EXEC was sent) or surely did not
(`"not_applied"`: it failed while reading). Its operation id makes a retry by the client
apply it at most once.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import WatchError

from prefstore.customers.cards import RenderedCard, card_fields, render
from prefstore.customers.changes import FEED_MAXLEN
from prefstore.customers.idempotency import Operation, Outcome, Outcomes
from prefstore.errors import Conflict, NotFound, StaleVersion, Unavailable
from prefstore.models.records import ChangeEntry, CustomerRecord, Event
from prefstore.redis.connection import OUTAGE_ERRORS, as_bytes, as_text, lost_to_outage
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
    event: Event | None = None
    """The event this write records, kept with its outcome."""


@dataclass(frozen=True)
class Written:
    card: RenderedCard
    changed: bool
    replayed: bool = False
    """True when the operation had landed before: this is its stored outcome, not a write."""
    event: Event | None = None


Build = Callable[[Pipeline, CustomerRecord | None], Awaitable[Mutation | None]]
"""Gets the current record (None if absent, a copy it may change) and returns the Mutation,
or None when there is nothing to change."""


def existing(customer_id: str, current: CustomerRecord | None) -> CustomerRecord:
    if current is None:
        raise NotFound(f"no customer {customer_id}")
    return current


def _identifier_field(kind: str) -> str:
    return {"email": "emails", "phone": "phones"}.get(kind, f"identifiers.{kind}")


@asynccontextmanager
async def before_commit() -> AsyncIterator[None]:
    """Around a write's reads (WATCH, GET, …): an outage there means nothing was sent to
    commit, so nothing was written."""
    try:
        yield
    except WatchError as exc:
        if not lost_to_outage(exc):
            raise
        raise Unavailable(_outage(exc.__context__), outcome="not_applied") from exc
    except OUTAGE_ERRORS as exc:
        raise Unavailable(_outage(exc), outcome="not_applied") from exc


def _outage(exc: BaseException | None) -> str:
    return f"store unavailable: {type(exc).__name__}"


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
    written: Callable[[str], None] | None = None
    """Told the customer id after every write attempt to that customer, landed or not
    (the reader's `forget`: this process's near-cache drops the card at once)."""


class Transactions:
    """Runs writes to one customer as optimistic transactions and keeps the change feed."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.redis, self.keys = storage.redis, storage.keys
        self.outcomes = Outcomes(storage.keys)

    async def optimistic(
        self, customer_id: str, attempt: Attempt[T], *, operation_id: str | None = None
    ) -> T:
        """Run `attempt` on the customer's stored record (its bytes, None if absent), read
        under WATCH (with the customer's outcomes); run it again on fresh data while another
        writer gets there first (EXEC answers nil), up to MAX_WRITE_ATTEMPTS, with a jittered
        wait in between. An outage ends it at once: `Unavailable`, `not_applied` if it struck
        while reading, else `unknown` (naming `operation_id`, the id to retry with)."""
        try:
            return await self._optimistic(customer_id, attempt, operation_id)
        finally:
            if self.storage.written is not None:  # landed, lost or unknown: forget it anyway
                self.storage.written(customer_id)

    async def _optimistic(
        self, customer_id: str, attempt: Attempt[T], operation_id: str | None
    ) -> T:
        rec_key = self.keys.record(customer_id)
        for tries in range(MAX_WRITE_ATTEMPTS):
            try:
                async with self.redis.pipeline(transaction=True) as pipe:
                    async with before_commit():
                        await pipe.watch(rec_key, self.outcomes.watched(customer_id))
                        raw = await pipe.get(rec_key)
                    return await attempt(pipe, as_bytes(raw) if raw is not None else None)
            except WatchError as exc:
                if lost_to_outage(exc):
                    raise self._unknown(exc.__context__, operation_id) from exc
                await back_off(tries)
            except OUTAGE_ERRORS as exc:
                raise self._unknown(exc, operation_id) from exc
        raise Conflict(f"customer {customer_id} is being changed by others; try again")

    @staticmethod
    def _unknown(exc: BaseException | None, operation_id: str | None) -> Unavailable:
        return Unavailable(_outage(exc), outcome="unknown", operation_id=operation_id)

    async def run(
        self,
        customer_id: str,
        build: Build,
        *,
        actor: str,
        op: Operation,
        expect_version: int | None = None,
    ) -> Written:
        """Run `build` under WATCH and commit what it returns with the outcome of `op`,
        retrying on contention. When `op` landed before, its stored outcome is the answer
        (checked first: a retry after success must not fail on its own If-Match). When
        `build` returns None the current card is returned, unchanged."""

        async def attempt(pipe: Pipeline, raw: bytes | None) -> Written:
            current = decode_record(raw) if raw is not None else None
            async with before_commit():
                stored = await self.outcomes.find(pipe, customer_id, op, self.storage.clock())
                if stored is not None:
                    return self._replay(stored, current)
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
            outcome = Outcome(op.fingerprint, changed=True, card=card, event=mutation.event)
            self.outcomes.keep(customer_id, op, outcome, self.storage.clock())(pipe)
            await pipe.execute()
            return Written(card, changed=True, event=mutation.event)

        return await self.optimistic(customer_id, attempt, operation_id=op.id)

    def _replay(self, stored: Outcome, current: CustomerRecord | None) -> Written:
        card = stored.card
        if card is None:
            assert current is not None
            card = render(current, self.storage.notes_on_card)
        return Written(card, stored.changed, replayed=True, event=stored.event)

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
