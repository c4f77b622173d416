"""Writes to a customer's contact consent (email, SMS, phone, post): one optimistic
transaction through the record rule (`rules.change_consent`, `rules.put_consent`), with its
operation id, audited in the change feed with the status each channel had before.

Consent is a contact preference, kept apart from service preferences (likes): who may be
emailed or called is not what they like to eat. The card shows it to keys that see contacts
in full (`cards.py`).
"""

from __future__ import annotations

from datetime import datetime

from prefstore.customers import rules
from prefstore.customers.idempotency import Operation
from prefstore.customers.items import ItemWrites
from prefstore.customers.transaction import Mutation, Written
from prefstore.errors import Conflict
from prefstore.models.inputs import ConsentInput
from prefstore.models.records import CHANNELS, ChannelConsent, CustomerRecord

SOURCE_API = "api"
SOURCE_PAGE = "page"


def stated(data: ConsentInput, source: str, now: datetime) -> dict[str, ChannelConsent]:
    """The channels `data` names, as statements from `source` at `data.at` (default `now`:
    a person telling the desk or an app speaks now)."""
    return {
        channel: ChannelConsent(status=status, source=source, at=data.at or now)
        for channel in CHANNELS
        if (status := getattr(data, channel)) is not None
    }


class ConsentWrites:
    def __init__(self, items: ItemWrites) -> None:
        self._items = items
        self._clock = items.clock

    async def change(
        self,
        customer_id: str,
        data: ConsentInput,
        *,
        actor: str,
        expect_version: int | None,
        source: str = SOURCE_API,
        idempotency_key: str | None = None,
    ) -> Written:
        """Record what the person said about being contacted. An opt-in that the rule keeps
        out (an opt-out stated later, or undated) is refused with Conflict naming the
        channel, and nothing is written; a status already held is no write."""
        operation = Operation.of(idempotency_key, "consent.change", customer_id, data)
        now = self._clock()
        given = stated(data, source, now)

        def change(record: CustomerRecord) -> Mutation | None:
            result = rules.change_consent(record.consent, given, now)
            if result.refused:
                channel = result.refused[0]
                held = getattr(record.consent, channel)
                at = held.at.isoformat() if held.at else "an unknown time"
                raise Conflict(
                    f"{channel}: opted out at {at}; an opt-in must be stated later "
                    "(send a later `at`, or none for now)",
                    field=channel,
                )
            if not result.previous:
                return None
            record.consent = result.consent
            record.updated_at = now
            fields = sorted(result.previous)
            return Mutation(record, "consent.change", fields, previous=result.previous)

        return await self._items.edit(
            customer_id, change, actor=actor, op=operation, expect_version=expect_version
        )
