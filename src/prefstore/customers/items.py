"""Writes to a customer's safety track, likes and notes: add, change and remove, each one
optimistic transaction (`transaction.py`) through the record rules (`rules/`), each with its
operation id (`idempotency.py`). The store hands these calls on as they are."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redis.asyncio.client import Pipeline

from prefstore.customers import rules
from prefstore.customers.idempotency import Operation
from prefstore.customers.transaction import Mutation, Transactions, Written, existing
from prefstore.errors import InvalidInput, NotFound
from prefstore.models.inputs import AllergyChange, AllergyInput, NoteInput, PreferenceInput
from prefstore.models.records import Allergy, CustomerRecord

_REMOVABLE = ("allergies", "preferences", "notes")


def _previous(allergy: Allergy | None) -> dict[str, str]:
    """What the audit entry keeps of an allergy a write replaced: its severity, no PII."""
    return {"severity": allergy.severity} if allergy is not None else {}


class ItemWrites:
    def __init__(self, transactions: Transactions) -> None:
        self._tx = transactions
        self._clock = self.clock = transactions.storage.clock

    async def edit(
        self,
        customer_id: str,
        change: Callable[[CustomerRecord], Mutation | None],
        *,
        actor: str,
        op: Operation,
        expect_version: int | None,
    ) -> Written:
        """A write that needs only the customer's current record (NotFound if none)."""

        async def build(_pipe: Pipeline, current: CustomerRecord | None) -> Mutation | None:
            return change(existing(customer_id, current))

        return await self._tx.run(
            customer_id, build, actor=actor, op=op, expect_version=expect_version
        )

    async def add_allergy(
        self,
        customer_id: str,
        data: AllergyInput,
        *,
        actor: str,
        expect_version: int | None,
        idempotency_key: str | None = None,
    ) -> Written:
        """Add an allergy, or fold it into the known one of that label: never weaker (see
        `rules.put_allergy`). Nothing to change is no write at all."""
        operation = Operation.of(idempotency_key, "allergy.add", customer_id, data)
        given = rules.allergy_from(data, actor, self._clock())

        def change(record: CustomerRecord) -> Mutation | None:
            placed = rules.put_allergy(record.allergies, given)
            if placed.outcome == "unchanged":
                return None
            record.allergies = placed.items
            record.updated_at = given.confirmed_at
            previous = _previous(placed.before)
            return Mutation(record, "allergy.add", ["allergies"], previous=previous)

        return await self.edit(
            customer_id, change, actor=actor, op=operation, expect_version=expect_version
        )

    async def change_allergy(
        self,
        customer_id: str,
        allergy_id: str,
        data: AllergyChange,
        *,
        actor: str,
        expect_version: int | None,
        idempotency_key: str | None = None,
    ) -> Written:
        """Set the severity and/or note of one allergy: the one write that may lower it.
        The caller is recorded as having confirmed it; the audit entry keeps the severity
        it had. NotFound for an unknown customer or allergy id."""
        now = self._clock()
        operation = Operation.of(idempotency_key, "allergy.change", customer_id, allergy_id, data)

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

        return await self.edit(
            customer_id, change, actor=actor, op=operation, expect_version=expect_version
        )

    async def add_preference(
        self,
        customer_id: str,
        data: PreferenceInput,
        *,
        actor: str,
        expect_version: int | None,
        idempotency_key: str | None = None,
    ) -> Written:
        """Add a like or dislike: one opinion per label, the newer wins (`rules`)."""
        operation = Operation.of(idempotency_key, "preference.add", customer_id, data)
        given = rules.preference_from(data, actor, self._clock())

        def change(record: CustomerRecord) -> Mutation | None:
            placed = rules.put_preference(record.preferences, given)
            if placed.outcome == "unchanged":
                return None
            record.preferences = placed.items
            record.updated_at = given.added_at
            return Mutation(record, "preference.add", ["preferences"])

        return await self.edit(
            customer_id, change, actor=actor, op=operation, expect_version=expect_version
        )

    async def add_note(
        self,
        customer_id: str,
        data: NoteInput,
        *,
        actor: str,
        expect_version: int | None,
        idempotency_key: str | None = None,
    ) -> Written:
        operation = Operation.of(idempotency_key, "note.add", customer_id, data)
        note = rules.note_from(data, actor, self._clock())

        def change(record: CustomerRecord) -> Mutation:
            record.notes = rules.append_note(record.notes, note).items
            record.updated_at = note.at
            return Mutation(record, "note.add", ["notes"])

        return await self.edit(
            customer_id, change, actor=actor, op=operation, expect_version=expect_version
        )

    async def remove_item(
        self,
        customer_id: str,
        kind: str,
        item_id: str,
        *,
        actor: str,
        expect_version: int | None,
        idempotency_key: str | None = None,
    ) -> Written:
        """Remove an allergy, preference or note by its id. Removing an allergy keeps its
        severity in the audit entry."""
        if kind not in _REMOVABLE:
            raise InvalidInput("kind", "must be allergies, preferences or notes")
        operation = Operation.of(idempotency_key, f"{kind}.remove", customer_id, item_id)

        def change(record: CustomerRecord) -> Mutation:
            items: list[Any] = getattr(record, kind)
            gone = [i for i in items if i.id == item_id]
            if not gone:
                raise NotFound(f"no {kind[:-1].replace('ie', 'y')} {item_id} on {customer_id}")
            setattr(record, kind, [i for i in items if i.id != item_id])
            record.updated_at = self._clock()
            previous = _previous(gone[0]) if kind == "allergies" else {}
            return Mutation(record, f"{kind}.remove", [kind], previous=previous)

        return await self.edit(
            customer_id, change, actor=actor, op=operation, expect_version=expect_version
        )
