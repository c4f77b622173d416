"""The customer store: every write, as one optimistic transaction per customer.

A write reads the record under WATCH, builds the new record in Python, checks that each
identifier it claims is free, then in one MULTI/EXEC sets the record, both pre-rendered card
views, the identifier index keys, and appends to the change feed. Either all of it lands or
none of it does; a concurrent writer makes EXEC fail and the write is retried on fresh data.
"""

from __future__ import annotations

import asyncio
import random
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import WatchError

from prefstore.customers import records
from prefstore.customers.cards import RenderedCard, card_fields, render
from prefstore.customers.changes import FEED_MAXLEN
from prefstore.customers.identifiers import identifier_keys, suppression_hashes
from prefstore.errors import Conflict, InvalidInput, NotFound, StaleVersion, Suppressed
from prefstore.models import (
    AllergyInput,
    ChangeEntry,
    CustomerCreate,
    CustomerExport,
    CustomerPatch,
    CustomerRecord,
    Erased,
    Event,
    EventInput,
    EventPage,
    NoteInput,
    PreferenceInput,
)
from prefstore.redis.codec import (
    decode_event,
    decode_record,
    encode_entry,
    encode_record,
    event_member,
)
from prefstore.redis.connection import as_bytes, as_text, translated_errors
from prefstore.redis.keyspace import (
    KeySpace,
)

MAX_WRITE_ATTEMPTS = 40
"""Optimistic retries before a write gives up with Conflict; each waits a little longer."""
MAX_EVENT_PAGE = 200

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Mutation:
    """What one write does to a customer: the new record plus extra commands for MULTI."""

    record: CustomerRecord
    op: str
    fields: list[str]
    extra: list[Callable[[Pipeline], Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Written:
    card: RenderedCard
    changed: bool


def _identifier_field(kind: str) -> str:
    return {"email": "emails", "phone": "phones"}.get(kind, f"identifiers.{kind}")


class CustomerStore:
    def __init__(
        self,
        redis: Redis,
        keys: KeySpace,
        *,
        region: str = "US",
        notes_on_card: int = 10,
        clock: Clock = utc_now,
    ) -> None:
        self.redis = redis
        self.keys = keys
        self.region = region
        self.notes_on_card = notes_on_card
        self.clock = clock
        self._salt: bytes | None = None

    # ------------------------------------------------------------ the write engine
    async def _transaction(
        self,
        customer_id: str,
        build: Callable[[Pipeline, CustomerRecord | None], Awaitable[Mutation | None]],
        *,
        actor: str,
        expect_version: int | None = None,
    ) -> Written:
        """Run `build` under WATCH and commit what it returns, retrying on contention.

        `build` gets the current record (None if absent) and returns a Mutation, or None
        when there is nothing to change (the current card is returned).
        """
        rec_key = self.keys.record(customer_id)
        for _attempt in range(MAX_WRITE_ATTEMPTS):
            try:
                async with translated_errors(), self.redis.pipeline(transaction=True) as pipe:
                    await pipe.watch(rec_key)
                    raw = await pipe.get(rec_key)
                    current = decode_record(as_bytes(raw)) if raw is not None else None
                    if expect_version is not None:
                        have = current.version if current else 0
                        if have != expect_version:
                            raise StaleVersion(expect_version, have)
                    # `build` mutates its own copy: `current` must stay the old state so the
                    # identifiers it owned can be released.
                    working = decode_record(as_bytes(raw)) if raw is not None else None
                    mutation = await build(pipe, working)
                    if mutation is None:
                        assert current is not None
                        return Written(render(current, self.notes_on_card), changed=False)
                    await self._claim_identifiers(pipe, current, mutation.record)
                    card = self._commit(pipe, current, mutation, actor)
                    await pipe.execute()
                    return Written(card, changed=True)
            except WatchError:
                await _back_off(_attempt)
        raise Conflict(f"customer {customer_id} is being changed by others; try again")

    async def _claim_identifiers(
        self, pipe: Pipeline, old: CustomerRecord | None, new: CustomerRecord
    ) -> None:
        owned = set(self._identifier_keys(old)) if old else set()
        wanted = self._identifier_keys(new)
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
        card = render(new, self.notes_on_card)
        keys = self.keys
        pipe.multi()  # type: ignore[no-untyped-call]
        pipe.set(keys.record(new.id), encode_record(new))
        pipe.hset(keys.card(new.id), mapping=card_fields(card))  # type: ignore[arg-type]
        old_keys = set(self._identifier_keys(old)) if old else set()
        new_keys = self._identifier_keys(new)
        for key in new_keys.keys() - old_keys:
            pipe.set(key, new.id)
        for key in old_keys - new_keys.keys():
            pipe.delete(key)
        for command in mutation.extra:
            command(pipe)
        self._append_change(pipe, mutation.op, new.id, new.version, actor, mutation.fields)
        return card

    def _append_change(
        self, pipe: Pipeline, op: str, customer_id: str, version: int, actor: str, fields: list[str]
    ) -> None:
        entry = ChangeEntry(
            op=op,
            customer_id=customer_id,
            version=version,
            actor=actor,
            at=self.clock(),
            fields=fields,
        )
        pipe.xadd(self.keys.changes, encode_entry(entry), maxlen=FEED_MAXLEN, approximate=True)

    def _identifier_keys(self, record: CustomerRecord) -> dict[str, tuple[str, str]]:
        return identifier_keys(self.keys, record)

    def _existing(self, customer_id: str, current: CustomerRecord | None) -> CustomerRecord:
        if current is None:
            raise NotFound(f"no customer {customer_id}")
        return current

    # ------------------------------------------------------------ customers
    async def create(
        self, data: CustomerCreate, *, actor: str, respect_suppression: bool = False
    ) -> Written:
        """Create a customer. `respect_suppression` refuses people who were erased
        (imports use it; a person re-registering at the desk is new consent)."""
        record = records.record_from_create(data, self.region, actor, self.clock())
        if respect_suppression and await self.is_suppressed(record):
            raise Suppressed("this person was erased and may not be re-created by import")

        async def build(_pipe: Pipeline, current: CustomerRecord | None) -> Mutation:
            if current is not None:
                raise Conflict(f"customer {record.id} already exists", field="id")
            return Mutation(record, "create", ["*"])

        return await self._transaction(record.id, build, actor=actor)

    async def get_record(self, customer_id: str) -> CustomerRecord:
        async with translated_errors():
            raw = await self.redis.get(self.keys.record(customer_id))
        if raw is None:
            raise NotFound(f"no customer {customer_id}")
        return decode_record(as_bytes(raw))

    async def patch(
        self,
        customer_id: str,
        patch: CustomerPatch,
        *,
        actor: str,
        expect_version: int | None = None,
    ) -> Written:
        async def build(_pipe: Pipeline, current: CustomerRecord | None) -> Mutation | None:
            record = self._existing(customer_id, current)
            changed = records.apply_patch(record, patch, self.region)
            if not changed:
                return None
            record.updated_at = self.clock()
            return Mutation(record, "update", changed)

        return await self._transaction(
            customer_id, build, actor=actor, expect_version=expect_version
        )

    async def update(
        self,
        customer_id: str,
        change: Callable[[CustomerRecord], list[str]],
        *,
        op: str,
        actor: str,
        expect_version: int | None = None,
    ) -> Written:
        """Apply `change` (edits the record in place, returns the fields it changed) in one
        transaction, so several edits land together or not at all (the quick-entry page).
        `change` may run again on a retry: it must depend only on the record it is given."""

        async def build(_pipe: Pipeline, current: CustomerRecord | None) -> Mutation | None:
            record = self._existing(customer_id, current)
            changed = change(record)
            if not changed:
                return None
            record.updated_at = self.clock()
            return Mutation(record, op, changed)

        return await self._transaction(
            customer_id, build, actor=actor, expect_version=expect_version
        )

    # ------------------------------------------------------------ safety track, likes, notes
    async def add_allergy(
        self, customer_id: str, data: AllergyInput, *, actor: str, expect_version: int | None
    ) -> Written:
        item = records.allergy_from(data, actor, self.clock())

        async def build(_pipe: Pipeline, current: CustomerRecord | None) -> Mutation:
            record = self._existing(customer_id, current)
            same = [a for a in record.allergies if a.label.casefold() == item.label.casefold()]
            record.allergies = [a for a in record.allergies if a not in same] + [item]
            record.updated_at = item.confirmed_at
            return Mutation(record, "allergy.add", ["allergies"])

        return await self._transaction(
            customer_id, build, actor=actor, expect_version=expect_version
        )

    async def add_preference(
        self, customer_id: str, data: PreferenceInput, *, actor: str, expect_version: int | None
    ) -> Written:
        item = records.preference_from(data, actor, self.clock())

        async def build(_pipe: Pipeline, current: CustomerRecord | None) -> Mutation:
            record = self._existing(customer_id, current)
            # One opinion per label: "dislikes pretzels" replaces an older "likes pretzels".
            record.preferences = [
                p for p in record.preferences if p.label.casefold() != item.label.casefold()
            ] + [item]
            record.updated_at = item.added_at
            return Mutation(record, "preference.add", ["preferences"])

        return await self._transaction(
            customer_id, build, actor=actor, expect_version=expect_version
        )

    async def add_note(
        self, customer_id: str, data: NoteInput, *, actor: str, expect_version: int | None
    ) -> Written:
        note = records.note_from(data, actor, self.clock())

        async def build(_pipe: Pipeline, current: CustomerRecord | None) -> Mutation:
            record = self._existing(customer_id, current)
            record.notes = [*record.notes, note]
            record.updated_at = note.at
            return Mutation(record, "note.add", ["notes"])

        return await self._transaction(
            customer_id, build, actor=actor, expect_version=expect_version
        )

    async def remove_item(
        self,
        customer_id: str,
        kind: str,
        item_id: str,
        *,
        actor: str,
        expect_version: int | None,
    ) -> Written:
        """Remove an allergy, preference or note by its id."""
        if kind not in ("allergies", "preferences", "notes"):
            raise InvalidInput("kind", "must be allergies, preferences or notes")

        async def build(_pipe: Pipeline, current: CustomerRecord | None) -> Mutation:
            record = self._existing(customer_id, current)
            items: list[Any] = getattr(record, kind)
            kept = [i for i in items if i.id != item_id]
            if len(kept) == len(items):
                raise NotFound(f"no {kind[:-1].replace('ie', 'y')} {item_id} on {customer_id}")
            setattr(record, kind, kept)
            record.updated_at = self.clock()
            return Mutation(record, f"{kind}.remove", [kind])

        return await self._transaction(
            customer_id, build, actor=actor, expect_version=expect_version
        )

    # ------------------------------------------------------------ events
    def _event_command(self, customer_id: str, event: Event) -> Callable[[Pipeline], Any]:
        payload, score = event_member(event)
        ev_key, ops_key = self.keys.events(customer_id), self.keys.operations(customer_id)

        def command(pipe: Pipeline) -> None:
            pipe.zadd(ev_key, {payload: score})
            pipe.sadd(ops_key, event.id)

        return command

    async def record_event(
        self,
        customer_id: str,
        data: EventInput,
        *,
        actor: str,
        operation_id: str | None = None,
    ) -> tuple[Written, Event, bool]:
        """Record an event once per operation id; returns (card, event, duplicate)."""
        op_id = data.operation_id or operation_id or f"auto:{records.new_id()}"
        event = records.event_from(data, op_id, actor, self.clock())
        ops_key = self.keys.operations(customer_id)
        duplicate = False

        async def build(pipe: Pipeline, current: CustomerRecord | None) -> Mutation | None:
            nonlocal duplicate
            record = self._existing(customer_id, current)
            await pipe.watch(ops_key)
            duplicate = bool(await pipe.sismember(ops_key, op_id))
            if duplicate:
                return None
            records.count_event(record.history, event)
            return Mutation(
                record,
                f"event.{event.type}",
                ["events"],
                [self._event_command(customer_id, event)],
            )

        written = await self._transaction(customer_id, build, actor=actor)
        if duplicate:
            # A retry: answer with what was recorded the first time, not the retry's copy.
            event = await self._stored_event(customer_id, op_id) or event
        return written, event, duplicate

    async def _stored_event(self, customer_id: str, operation_id: str) -> Event | None:
        """The recorded event with this operation id. Operation ids hold no glob characters
        (see `OperationId`), so Redis filters the set server-side; only retries pay this."""
        async with translated_errors():
            async for raw, _score in self.redis.zscan_iter(
                self.keys.events(customer_id), match=f"*{operation_id}*"
            ):
                event = decode_event(as_bytes(raw))
                if event.id == operation_id:
                    return event
        return None

    async def list_events(
        self, customer_id: str, *, limit: int = 50, cursor: str | None = None
    ) -> EventPage:
        """Events newest first. The cursor is `<score>:<skip>`, stable while new ones land."""
        limit = max(1, min(limit, MAX_EVENT_PAGE))
        top, skip = _parse_cursor(cursor)
        async with translated_errors():
            exists = await self.redis.exists(self.keys.record(customer_id))
            rows: list[tuple[bytes, float]] = await self.redis.zrevrangebyscore(  # type: ignore[assignment]
                self.keys.events(customer_id),
                top,
                "-inf",
                start=skip,
                num=limit,
                withscores=True,
            )
        if not exists:
            raise NotFound(f"no customer {customer_id}")
        events = [decode_event(raw) for raw, _score in rows]
        next_cursor = None
        if len(rows) == limit:
            last = rows[-1][1]
            same = sum(1 for _raw, score in rows if score == last)
            carried = skip if top != "+inf" and float(top) == last else 0
            next_cursor = f"{last:.0f}:{carried + same}"
        return EventPage(events=events, next_cursor=next_cursor)

    async def all_events(self, customer_id: str) -> list[Event]:
        async with translated_errors():
            rows = await self.redis.zrange(self.keys.events(customer_id), 0, -1)
        return [decode_event(as_bytes(raw)) for raw in rows]

    # ------------------------------------------------------------ access and erasure
    async def export(self, customer_id: str) -> CustomerExport:
        record = await self.get_record(customer_id)
        return CustomerExport(
            customer=record, events=await self.all_events(customer_id), exported_at=self.clock()
        )

    async def erase(self, customer_id: str, *, actor: str) -> Erased:
        """Remove every trace of the person and remember a keyed hash of their identifiers,
        so that an import does not bring them back. The audit entry holds no PII."""
        salt = await self.suppression_salt()
        rec_key = self.keys.record(customer_id)
        for _attempt in range(MAX_WRITE_ATTEMPTS):
            try:
                async with translated_errors(), self.redis.pipeline(transaction=True) as pipe:
                    await pipe.watch(rec_key)
                    raw = await pipe.get(rec_key)
                    record = self._existing(
                        customer_id, decode_record(as_bytes(raw)) if raw else None
                    )
                    identifier_keys = list(self._identifier_keys(record))
                    hashes = self._suppression_hashes(record, salt)
                    pipe.multi()  # type: ignore[no-untyped-call]
                    pipe.delete(*self.keys.customer_keys(customer_id), *identifier_keys)
                    if hashes:
                        pipe.sadd(self.keys.suppressed, *hashes)
                    self._append_change(pipe, "erase", customer_id, record.version + 1, actor, [])
                    await pipe.execute()
                    return Erased(id=customer_id, erased_at=self.clock())
            except WatchError:
                await _back_off(_attempt)
        raise Conflict(f"customer {customer_id} is being changed by others; try again")

    async def suppression_salt(self) -> bytes:
        """A per-deployment secret keying the suppression hashes (so the set cannot be
        reversed by hashing a list of known emails)."""
        if self._salt is None:
            key = self.keys.suppression_salt
            async with translated_errors():
                await self.redis.set(key, secrets.token_bytes(32), nx=True)
                salt = await self.redis.get(key)
            self._salt = as_bytes(salt)
        return self._salt

    def _suppression_hashes(self, record: CustomerRecord, salt: bytes) -> list[str]:
        return suppression_hashes(record, salt)

    async def is_suppressed(self, record: CustomerRecord) -> bool:
        hashes = self._suppression_hashes(record, await self.suppression_salt())
        if not hashes:
            return False
        async with translated_errors():
            flags = await self.redis.smismember(self.keys.suppressed, hashes)
        return any(flags)


async def _back_off(attempt: int) -> None:
    """Jittered wait after losing an optimistic race, so contenders spread out."""
    await asyncio.sleep(random.uniform(0, min(0.002 * (attempt + 1), 0.02)))


def _parse_cursor(cursor: str | None) -> tuple[str, int]:
    if not cursor:
        return "+inf", 0
    try:
        top, skip = cursor.split(":")
        return str(int(top)), int(skip)
    except ValueError:
        raise InvalidInput("cursor", "not a cursor this service returned") from None
