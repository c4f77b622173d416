"""Erasure (the right to be forgotten) and the suppression list that keeps it so.

Erasing a customer deletes every key of theirs and remembers a keyed hash of each of their
identifiers, so that an import does not bring the person back. The audit entry holds no PII.
The same MULTI writes the erasure's receipt and schedules its disk steps (an AOF rewrite,
an RDB snapshot where one is configured, a slow-log reset: `customers/disk_erasure.py`),
so that what was deleted from memory also leaves Redis's files within the stated bound.
"""

from __future__ import annotations

import secrets

from redis.asyncio.client import Pipeline

from prefstore.customers.erasure_receipts import ErasurePolicy, ErasureReceipts, now_ms
from prefstore.customers.transaction import (
    Transactions,
    existing,
)
from prefstore.models.records import ChangeEntry, CustomerRecord
from prefstore.models.views import Erased
from prefstore.redis.connection import as_bytes, as_text, translated_errors
from prefstore.redis.keyspace import decode_record, identifier_keys, suppression_hashes


class Erasure:
    def __init__(self, transactions: Transactions, policy: ErasurePolicy | None = None) -> None:
        self._tx = transactions
        self._redis = transactions.redis
        self._keys = transactions.keys
        self._salt: bytes | None = None
        self.receipts = ErasureReceipts(self._redis, self._keys, policy or ErasurePolicy())

    async def erase(self, customer_id: str, *, actor: str) -> Erased:
        """Remove every trace of the person and suppress their identifiers."""
        salt = await self.suppression_salt()
        # Random, so the receipt's id says nothing about whom it was for.
        erasure_id = f"er_{secrets.token_hex(12)}"

        async def attempt(pipe: Pipeline, raw: bytes | None) -> tuple[Erased, str]:
            record = existing(customer_id, decode_record(raw) if raw else None)
            index_keys = list(identifier_keys(self._keys, record))
            hashes = suppression_hashes(record, salt)
            pipe.multi()  # type: ignore[no-untyped-call]
            pipe.delete(*self._keys.customer_keys(customer_id), *index_keys)
            if hashes:
                pipe.sadd(self._keys.suppressed, *hashes)
            entry = ChangeEntry(
                op="erase",
                customer_id=customer_id,
                version=record.version + 1,
                actor=actor,
                at=self._tx.storage.clock(),
            )
            self.receipts.queue(pipe, erasure_id, now_ms())
            self._tx.append_change(pipe, entry)
            replies = await pipe.execute()
            erased = Erased(
                id=customer_id,
                erased_at=self._tx.storage.clock(),
                erasure_id=erasure_id,
                receipt=f"/v1/erasures/{erasure_id}",
            )
            return erased, as_text(replies[-1])  # the change-feed entry's id (XADD)

        erased, feed_entry = await self._tx.optimistic(customer_id, attempt)
        await self.receipts.note_feed_entry(erasure_id, feed_entry)
        return erased

    async def suppression_salt(self) -> bytes:
        """A per-deployment secret keying the suppression hashes (so the set cannot be
        reversed by hashing a list of known emails)."""
        if self._salt is None:
            key = self._keys.suppression_salt
            async with translated_errors():
                await self._redis.set(key, secrets.token_bytes(32), nx=True)
                salt = await self._redis.get(key)
            self._salt = as_bytes(salt)
        return self._salt

    async def is_suppressed(self, record: CustomerRecord) -> bool:
        hashes = suppression_hashes(record, await self.suppression_salt())
        if not hashes:
            return False
        async with translated_errors():
            flags = await self._redis.smismember(self._keys.suppressed, hashes)
        return any(flags)
