"""Writes to a customer's follow-ups (actions owed to them): add and resolve, each one
optimistic transaction through the record rules (`rules.add_follow_up`,
`rules.resolve_follow_up`), each with its operation id. The store hands these calls on.

A follow-up is on every card (staff-only ones on staff cards) from when it is added until it
is resolved or expires; then it stays in the record, the export and the audit trail.
"""

from __future__ import annotations

from datetime import datetime

from prefstore.customers import rules
from prefstore.customers.idempotency import Operation
from prefstore.customers.items import ItemWrites
from prefstore.customers.transaction import Mutation, Written
from prefstore.errors import NotFound
from prefstore.models.inputs import FollowUpInput, FollowUpResolve
from prefstore.models.records import CustomerRecord, FollowUp, Resolution


class FollowUpWrites:
    def __init__(self, items: ItemWrites) -> None:
        self._items = items
        self._clock = items.clock

    async def add(
        self,
        customer_id: str,
        data: FollowUpInput,
        *,
        actor: str,
        expect_version: int | None,
        idempotency_key: str | None = None,
    ) -> Written:
        """Add an open follow-up, written by the caller."""
        operation = Operation.of(idempotency_key, "follow_up.add", customer_id, data)
        now = self._clock()
        given = rules.follow_up_from(data, actor, now)

        def change(record: CustomerRecord) -> Mutation:
            record.follow_ups = rules.add_follow_up(record.follow_ups, given, now).items
            record.updated_at = now
            return Mutation(record, "follow_up.add", ["follow_ups"])

        return await self._items.edit(
            customer_id, change, actor=actor, op=operation, expect_version=expect_version
        )

    async def resolve(
        self,
        customer_id: str,
        follow_up_id: str,
        data: FollowUpResolve,
        *,
        actor: str,
        expect_version: int | None,
        venue: str | None = None,
        idempotency_key: str | None = None,
    ) -> Written:
        """Resolve one follow-up: the caller, now, `venue` (None until a deployment has
        venues) and what was done. One already resolved is no write (the first resolution
        stands). NotFound for an unknown customer or follow-up."""
        operation = Operation.of(
            idempotency_key, "follow_up.resolve", customer_id, follow_up_id, data
        )
        now = self._clock()
        resolution = Resolution(by=actor, at=now, venue=venue, note=data.note)

        def change(record: CustomerRecord) -> Mutation | None:
            try:
                placed = rules.resolve_follow_up(record.follow_ups, follow_up_id, resolution)
            except NotFound:
                raise NotFound(f"no follow-up {follow_up_id} on {customer_id}") from None
            if placed.outcome == "unchanged":
                return None
            record.follow_ups = placed.items
            record.updated_at = now
            return Mutation(record, "follow_up.resolve", ["follow_ups"])

        return await self._items.edit(
            customer_id, change, actor=actor, op=operation, expect_version=expect_version
        )


def visible(follow_ups: list[FollowUp], *, staff: bool) -> list[FollowUp]:
    """Every follow-up (open and closed) a caller may see: staff-only ones only to staff."""
    return [f for f in follow_ups if staff or f.visibility == "all"]


def open_now(record: CustomerRecord, now: datetime) -> list[FollowUp]:
    """The follow-ups open at `now` (what a search cue counts; staff-only ones included)."""
    return [f for f in record.follow_ups if rules.is_open(f, now)]
