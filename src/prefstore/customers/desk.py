"""The staff page's writes: a shorthand entry, and its undo bound to what it undoes.

An entry's undo (`quick_entry.Undo`: the ids it added, the items it replaced) is what the
entry wrote about the person — an allergy, a note. It is kept in the customer's own keys
(`KeySpace.undo`, one field per staff key, written in the entry's own MULTI), so an erasure
deletes it with the rest of the person; the staff session holds only a pointer (customer id
and the entry's random id). Undo is refused (409) when the entry is not the one that staff
key last made on that customer, when the customer was erased, or when the id now names a
re-created record — never applied to someone else.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

import msgspec
from redis.asyncio.client import Pipeline

from prefstore.customers import quick_entry, shorthand
from prefstore.customers.store import CustomerStore
from prefstore.customers.transaction import Written
from prefstore.errors import Conflict
from prefstore.models.records import CustomerRecord
from prefstore.redis.connection import as_bytes, translated_errors

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(quick_entry.Undo)


class UndoPointer(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """All a staff session keeps of an entry: no label, no note, nothing about the person."""

    customer_id: str
    entry_id: str


@dataclass(frozen=True)
class Saved:
    written: Written
    effects: list[quick_entry.Effect]
    pointer: UndoPointer | None
    """None when the entry changed nothing (nothing to undo)."""


class Desk:
    def __init__(self, store: CustomerStore, undo_seconds: int) -> None:
        self._store = store
        self._redis = store.redis
        self._keys = store.keys
        self._undo_seconds = undo_seconds
        """How long an undo is kept: a staff session's lifetime."""

    async def add(
        self,
        customer_id: str,
        entry: shorthand.Entry,
        *,
        key_id: str,
        actor: str,
        created_at: datetime | None = None,
        venue: str | None = None,
    ) -> Saved:
        """Apply `entry` in one transaction, with its undo beside it in the same MULTI.
        `created_at`: the creation time of the record the entry was typed against (the
        card staff saw); another one under the same id (re-created) is refused, unchanged.
        `venue`: the staff member's, recorded on the note and follow-ups it adds."""
        entry_id = secrets.token_hex(8)
        done: dict[str, quick_entry.Undo] = {}
        effects: list[quick_entry.Effect] = []

        def change(record: CustomerRecord) -> list[str]:
            if created_at is not None and record.created_at != created_at:
                raise Conflict(
                    "this guest's record was re-created since the card was shown: open the "
                    "card again (nothing was saved)",
                    field="created_at",
                )
            effects[:] = quick_entry.effects(record, entry)
            now = self._store.clock()
            fields, undo = quick_entry.apply(record, entry, actor, now, venue=venue)
            undo.entry_id = entry_id
            done["undo"] = undo
            return fields

        def keep_undo(pipe: Pipeline) -> None:
            key = self._keys.undo(customer_id)
            pipe.hset(key, key_id, _encoder.encode(done["undo"]))
            pipe.expire(key, self._undo_seconds)

        written = await self._store.update(
            customer_id, change, op="quick_entry", actor=actor, also=keep_undo
        )
        pointer = UndoPointer(customer_id=customer_id, entry_id=entry_id)
        return Saved(written, effects, pointer if written.changed else None)

    async def undo(self, pointer: UndoPointer, *, key_id: str, actor: str) -> Written:
        """Take back the entry `pointer` names, if it is still this staff key's last entry
        on that very record; else Conflict, and nothing changes."""
        key = self._keys.undo(pointer.customer_id)
        async with translated_errors():
            raw = await self._redis.hget(key, key_id)
        undo = _decoder.decode(as_bytes(raw)) if raw is not None else None
        if undo is None or undo.entry_id != pointer.entry_id:
            raise Conflict(
                "this entry can no longer be undone (the customer was erased or changed "
                "since, or a later entry replaced it)"
            )

        def revert(record: CustomerRecord) -> list[str]:
            if not undo.undoes_on(record):
                raise Conflict("this entry was made on a record that no longer exists")
            return quick_entry.revert(record, undo)

        def forget(pipe: Pipeline) -> None:
            pipe.hdel(key, key_id)

        written = await self._store.update(
            pointer.customer_id, revert, op="quick_entry.undo", actor=actor, also=forget
        )
        if not written.changed:  # nothing to take back: still, the undo is spent
            async with translated_errors():
                await self._redis.hdel(key, key_id)
        return written
