"""The customer store: every write to a customer, each as one optimistic transaction.

The parts live beside it: the write engine (`transaction.py`), allergies, preferences and
notes (`items.py`), follow-ups (`followups.py`), consent (`consent.py`), events
(`events.py`), erasure and suppression (`erasure.py`). What a write does to the record's
items is decided by the record rules (`rules/`), the same for every path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from prefstore.customers import records
from prefstore.customers.consent import ConsentWrites
from prefstore.customers.erasure import Erasure
from prefstore.customers.erasure_receipts import ErasurePolicy
from prefstore.customers.events import EventLog
from prefstore.customers.followups import FollowUpWrites
from prefstore.customers.idempotency import Operation, derived_id
from prefstore.customers.items import ItemWrites
from prefstore.customers.transaction import (
    Clock,
    Mutation,
    Storage,
    Transactions,
    Written,
    utc_now,
)
from prefstore.errors import Conflict, NotFound, Suppressed
from prefstore.models.inputs import (
    CustomerCreate,
    CustomerPatch,
)
from prefstore.models.records import CustomerRecord
from prefstore.models.views import CustomerExport
from prefstore.redis.connection import as_bytes, translated_errors
from prefstore.redis.keyspace import KeySpace, decode_record

__all__ = ["Clock", "CustomerStore", "Written", "utc_now"]


class CustomerStore:
    def __init__(
        self,
        redis: Redis,
        keys: KeySpace,
        *,
        region: str = "US",
        notes_on_card: int = 10,
        clock: Clock = utc_now,
        erasure_policy: ErasurePolicy | None = None,
        written: Callable[[str], None] | None = None,
    ) -> None:
        self.redis = redis
        self.keys = keys
        self.region = region
        self.notes_on_card = notes_on_card
        self.clock = clock
        self.storage = Storage(redis, keys, notes_on_card, clock, written)
        self._tx = Transactions(self.storage)
        self._events = EventLog(self._tx)
        self._items = ItemWrites(self._tx)
        self._erasure = Erasure(self._tx, erasure_policy)
        follow_ups, consent = FollowUpWrites(self._items), ConsentWrites(self._items)
        # Items, follow-ups, consent, events and erasure have modules of their own; the
        # store hands their calls on as they are (their docstrings are there).
        self._edit = self._items.edit
        self.add_allergy = self._items.add_allergy
        self.change_allergy = self._items.change_allergy
        self.add_preference = self._items.add_preference
        self.add_note = self._items.add_note
        self.remove_item = self._items.remove_item
        self.add_follow_up = follow_ups.add
        self.resolve_follow_up = follow_ups.resolve
        self.change_consent = consent.change
        self.record_event = self._events.record
        self.list_events = self._events.page
        self.all_events = self._events.all
        self.erase = self._erasure.erase
        self.suppression_salt = self._erasure.suppression_salt
        self.is_suppressed = self._erasure.is_suppressed

    # ------------------------------------------------------------ customers
    async def create(
        self,
        data: CustomerCreate,
        *,
        actor: str,
        respect_suppression: bool = False,
        idempotency_key: str | None = None,
    ) -> Written:
        """Create a customer. `respect_suppression` refuses people who were erased
        (imports use it; a person re-registering at the desk is new consent). Without an
        id in `data` the id derives from the operation id, so a retried create finds the
        customer it made (and its outcome) rather than making a second one."""
        op = Operation.of(idempotency_key, "create", data.id or "", data)
        if data.id is None:
            data = msgspec.structs.replace(data, id=derived_id(op.id))
        record = records.record_from_create(data, self.region, actor, self.clock())
        if respect_suppression and await self.is_suppressed(record):
            raise Suppressed("this person was erased and may not be re-created by import")

        async def build(_pipe: Pipeline, current: CustomerRecord | None) -> Mutation:
            if current is not None:
                raise Conflict(f"customer {record.id} already exists", field="id")
            return Mutation(record, "create", ["*"])

        return await self._tx.run(record.id, build, actor=actor, op=op)

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
        idempotency_key: str | None = None,
    ) -> Written:
        operation = Operation.of(idempotency_key, "update", customer_id, patch)

        def change(record: CustomerRecord) -> Mutation | None:
            changed = records.apply_patch(record, patch, self.region)
            if not changed:
                return None
            record.updated_at = self.clock()
            return Mutation(record, "update", changed)

        return await self._edit(
            customer_id, change, actor=actor, op=operation, expect_version=expect_version
        )

    async def update(
        self,
        customer_id: str,
        change: Callable[[CustomerRecord], list[str]],
        *,
        op: str,
        actor: str,
        expect_version: int | None = None,
        also: Callable[[Pipeline], Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Written:
        """Apply `change` (edits the record in place, returns the fields it changed) in one
        transaction, so several edits land together or not at all (the quick-entry page).
        `change` may run again on a retry: it must depend only on the record it is given.
        `also` queues more commands in the same MULTI (called after `change`)."""

        def mutation(record: CustomerRecord) -> Mutation | None:
            changed = change(record)
            if not changed:
                return None
            record.updated_at = self.clock()
            return Mutation(record, op, changed, extra=[also] if also else [])

        operation = Operation.of(idempotency_key, f"update:{op}", customer_id)
        return await self._edit(
            customer_id, mutation, actor=actor, op=operation, expect_version=expect_version
        )

    # ------------------------------------------------------------ access and erasure
    async def export(self, customer_id: str) -> CustomerExport:
        record = await self.get_record(customer_id)
        return CustomerExport(
            customer=record, events=await self.all_events(customer_id), exported_at=self.clock()
        )
