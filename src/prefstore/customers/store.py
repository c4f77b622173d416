"""The customer store: every write to a customer, each as one optimistic transaction.

The parts live beside it: the write engine (`transaction.py`), events (`events.py`),
erasure and suppression (`erasure.py`). What a write does to the record's allergies,
preferences and notes is decided by the record rules (`rules.py`), the same for every path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from prefstore.customers import records, rules
from prefstore.customers.erasure import Erasure
from prefstore.customers.events import EventLog
from prefstore.customers.transaction import (
    Clock,
    Mutation,
    Storage,
    Transactions,
    Written,
    existing,
    utc_now,
)
from prefstore.errors import Conflict, InvalidInput, NotFound, Suppressed
from prefstore.models.inputs import (
    AllergyChange,
    AllergyInput,
    CustomerCreate,
    CustomerPatch,
    NoteInput,
    PreferenceInput,
)
from prefstore.models.records import Allergy, CustomerRecord
from prefstore.models.views import CustomerExport
from prefstore.redis.connection import as_bytes, translated_errors
from prefstore.redis.keyspace import KeySpace, decode_record

__all__ = ["Clock", "CustomerStore", "Written", "utc_now"]

_REMOVABLE = ("allergies", "preferences", "notes")


def _previous(allergy: Allergy | None) -> dict[str, str]:
    """What the audit entry keeps of an allergy a write replaced: its severity, no PII."""
    return {"severity": allergy.severity} if allergy is not None else {}


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
        self.storage = Storage(redis, keys, notes_on_card, clock)
        self._tx = Transactions(self.storage)
        self._events = EventLog(self._tx)
        self._erasure = Erasure(self._tx)
        # Events and erasure have modules of their own; the store hands their calls on as
        # they are (their docstrings are there).
        self.record_event = self._events.record
        self.list_events = self._events.page
        self.all_events = self._events.all
        self.erase = self._erasure.erase
        self.suppression_salt = self._erasure.suppression_salt
        self.is_suppressed = self._erasure.is_suppressed

    async def _edit(
        self,
        customer_id: str,
        change: Callable[[CustomerRecord], Mutation | None],
        *,
        actor: str,
        expect_version: int | None,
    ) -> Written:
        """A write that needs only the customer's current record (NotFound if none)."""

        async def build(_pipe: Pipeline, current: CustomerRecord | None) -> Mutation | None:
            return change(existing(customer_id, current))

        return await self._tx.run(customer_id, build, actor=actor, expect_version=expect_version)

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

        return await self._tx.run(record.id, build, actor=actor)

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
        def change(record: CustomerRecord) -> Mutation | None:
            changed = records.apply_patch(record, patch, self.region)
            if not changed:
                return None
            record.updated_at = self.clock()
            return Mutation(record, "update", changed)

        return await self._edit(customer_id, change, actor=actor, expect_version=expect_version)

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

        def mutation(record: CustomerRecord) -> Mutation | None:
            changed = change(record)
            if not changed:
                return None
            record.updated_at = self.clock()
            return Mutation(record, op, changed)

        return await self._edit(customer_id, mutation, actor=actor, expect_version=expect_version)

    # ------------------------------------------------------------ safety track, likes, notes
    async def add_allergy(
        self, customer_id: str, data: AllergyInput, *, actor: str, expect_version: int | None
    ) -> Written:
        """Add an allergy, or fold it into the known one of that label: never weaker (see
        `rules.put_allergy`). Nothing to change is no write at all."""
        given = rules.allergy_from(data, actor, self.clock())

        def change(record: CustomerRecord) -> Mutation | None:
            placed = rules.put_allergy(record.allergies, given)
            if placed.outcome == "unchanged":
                return None
            record.allergies = placed.items
            record.updated_at = given.confirmed_at
            previous = _previous(placed.before)
            return Mutation(record, "allergy.add", ["allergies"], previous=previous)

        return await self._edit(customer_id, change, actor=actor, expect_version=expect_version)

    async def change_allergy(
        self,
        customer_id: str,
        allergy_id: str,
        data: AllergyChange,
        *,
        actor: str,
        expect_version: int | None,
    ) -> Written:
        """Set the severity and/or note of one allergy: the one write that may lower it.
        The caller is recorded as having confirmed it; the audit entry keeps the severity
        it had. NotFound for an unknown customer or allergy id."""
        now = self.clock()

        def change(record: CustomerRecord) -> Mutation | None:
            try:
                placed = rules.change_allergy(record.allergies, allergy_id, data, actor, now)
            except NotFound:
                raise NotFound(f"no allergy {allergy_id} on {customer_id}") from None
            if placed.outcome == "unchanged":
                return None
            record.allergies = placed.items
            record.updated_at = now
            previous = _previous(placed.before)
            return Mutation(record, "allergy.change", ["allergies"], previous=previous)

        return await self._edit(customer_id, change, actor=actor, expect_version=expect_version)

    async def add_preference(
        self, customer_id: str, data: PreferenceInput, *, actor: str, expect_version: int | None
    ) -> Written:
        """Add a like or dislike: one opinion per label, the newer wins (`rules`)."""
        given = rules.preference_from(data, actor, self.clock())

        def change(record: CustomerRecord) -> Mutation | None:
            placed = rules.put_preference(record.preferences, given)
            if placed.outcome == "unchanged":
                return None
            record.preferences = placed.items
            record.updated_at = given.added_at
            return Mutation(record, "preference.add", ["preferences"])

        return await self._edit(customer_id, change, actor=actor, expect_version=expect_version)

    async def add_note(
        self, customer_id: str, data: NoteInput, *, actor: str, expect_version: int | None
    ) -> Written:
        note = rules.note_from(data, actor, self.clock())

        def change(record: CustomerRecord) -> Mutation:
            record.notes = rules.append_note(record.notes, note).items
            record.updated_at = note.at
            return Mutation(record, "note.add", ["notes"])

        return await self._edit(customer_id, change, actor=actor, expect_version=expect_version)

    async def remove_item(
        self,
        customer_id: str,
        kind: str,
        item_id: str,
        *,
        actor: str,
        expect_version: int | None,
    ) -> Written:
        """Remove an allergy, preference or note by its id. Removing an allergy keeps its
        severity in the audit entry."""
        if kind not in _REMOVABLE:
            raise InvalidInput("kind", "must be allergies, preferences or notes")

        def change(record: CustomerRecord) -> Mutation:
            items: list[Any] = getattr(record, kind)
            gone = [i for i in items if i.id == item_id]
            if not gone:
                raise NotFound(f"no {kind[:-1].replace('ie', 'y')} {item_id} on {customer_id}")
            setattr(record, kind, [i for i in items if i.id != item_id])
            record.updated_at = self.clock()
            previous = _previous(gone[0]) if kind == "allergies" else {}
            return Mutation(record, f"{kind}.remove", [kind], previous=previous)

        return await self._edit(customer_id, change, actor=actor, expect_version=expect_version)

    # ------------------------------------------------------------ access and erasure
    async def export(self, customer_id: str) -> CustomerExport:
        record = await self.get_record(customer_id)
        return CustomerExport(
            customer=record, events=await self.all_events(customer_id), exported_at=self.clock()
        )
