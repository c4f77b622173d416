"""The change feed: a Redis stream every write appends to, in the same transaction.

It is the audit trail (who, what, when; field names, never PII values) and the way other
processes keep in-memory state (the search index) current.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from prefstore.models.records import ChangeEntry
from prefstore.models.views import AuditTrail
from prefstore.redis.connection import translated_errors
from prefstore.redis.keyspace import KeySpace, decode_entries

FEED_MAXLEN = 5_000_000
"""Approximate cap on the stream; older audit entries are trimmed past it."""


class ChangeFeed:
    """Reads the change feed: for audit and for processes that follow the writes."""

    def __init__(self, redis: Redis, keys: KeySpace) -> None:
        self._redis = redis
        self._keys = keys

    async def latest_id(self) -> str:
        async with translated_errors():
            info: Any = await self._redis.xinfo_stream(self._keys.changes)
        last = info.get("last-generated-id") or info.get(b"last-generated-id") or b"0-0"
        return last.decode() if isinstance(last, bytes) else str(last)

    async def read_after(
        self, after: str, count: int = 1000, block_ms: int | None = None
    ) -> list[tuple[str, ChangeEntry]]:
        async with translated_errors():
            result: Any = await self._redis.xread(
                {self._keys.changes: after}, count=count, block=block_ms
            )
        if not result:
            return []
        _stream, entries = result[0]
        return decode_entries(entries)

    async def history(
        self, customer_id: str, limit: int = 100, max_scan: int = 200_000
    ) -> AuditTrail:
        """The audit entries of one customer, newest first.

        The feed is one stream for all customers, so this scans backwards; `max_scan` bounds
        the work (an admin tool, not a hot path) and the answer says whether it was complete.
        """
        found: list[ChangeEntry] = []
        last, scanned, exhausted = "+", 0, False
        while len(found) < limit and scanned < max_scan:
            count = min(1000, max_scan - scanned)
            async with translated_errors():
                batch: Any = await self._redis.xrevrange(self._keys.changes, last, "-", count=count)
            for entry_id, entry in decode_entries(batch):
                if entry.customer_id == customer_id:
                    found.append(entry)
                last = f"({entry_id}"
            scanned += len(batch)
            if len(batch) < count:
                exhausted = True
                break
        return AuditTrail(
            customer_id=customer_id,
            entries=found[:limit],
            scanned=scanned,
            complete=exhausted or len(found) >= limit,
        )
