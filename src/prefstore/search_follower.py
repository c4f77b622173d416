"""Keeps a process's search index equal to Redis: a full load at start-up, then the change
feed.

The feed position is taken *before* the load scans the records, so a write that lands during
the scan is applied again afterwards (re-indexing a customer is idempotent). For each batch
of feed entries the follower re-reads the records of the customers they name — the feed
carries no PII, the record is the truth — and drops those whose record is gone (erased).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from prefstore.changes import ChangeFeed
from prefstore.errors import Unavailable
from prefstore.keys import KeySpace
from prefstore.redis_adapter import as_bytes, translated_errors
from prefstore.search import SearchIndex
from prefstore.store import decode_record

log = logging.getLogger(__name__)

SCAN_BATCH = 1000
FEED_BATCH = 1000
PROGRESS_EVERY_S = 5.0
RETRY_S = 0.5


def own_client(redis: Redis) -> Redis:
    """A client with its own connection pool, to the same server with the same settings.

    The follower holds a connection in a blocking read most of the time; with its own pool
    it never takes one from the requests, and its connections belong to the event loop it
    runs on (which, under a test client, is not the loop serving requests)."""
    pool = redis.connection_pool
    return Redis.from_pool(
        type(pool)(connection_class=pool.connection_class, **pool.connection_kwargs)
    )


class IndexFollower:
    def __init__(
        self,
        redis: Redis,
        keys: KeySpace,
        index: SearchIndex,
        *,
        block_ms: int = 250,
    ) -> None:
        """`block_ms` must stay below the client's socket timeout, or an idle blocking read
        would look like a dead Redis."""
        self._redis = own_client(redis)
        self._keys = keys
        self._feed = ChangeFeed(self._redis, keys)
        self.index = index
        self._block_ms = block_ms
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.loaded = asyncio.Event()
        self.position = "0-0"
        """The last feed entry applied."""

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="search-index-follower")

    async def wait_loaded(self, within: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.loaded.wait(), within)
        return self.loaded.is_set()

    async def stop(self) -> None:
        """Let the loop finish its current read (at most `block_ms`) rather than cancel it:
        cancelling a blocking read inside redis-py can leave the task hanging."""
        self._stopping = True
        task, self._task = self._task, None
        if task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(task), self._block_ms / 1000 * 4 + 1)
            except TimeoutError:
                task.cancel()
                await asyncio.wait({task}, timeout=1.0)
            except (asyncio.CancelledError, Unavailable):
                pass
        await self._redis.aclose()

    async def _run(self) -> None:
        while not self.loaded.is_set() and not self._stopping:
            try:
                self.position = await self._feed_head()
                await self.load()
                # The first search pays numpy's and rapidfuzz's lazy imports; not a customer.
                self.index.search("warm up 0000", 1, "staff")
                self.loaded.set()
            except Unavailable as exc:
                log.warning("search index load failed (%s); retrying", exc.detail)
                await asyncio.sleep(RETRY_S)
        while not self._stopping:
            try:
                await self.follow_once()
            except Unavailable as exc:
                log.warning("search index follower: %s; retrying", exc.detail)
                await asyncio.sleep(RETRY_S)

    async def _feed_head(self) -> str:
        try:
            return await self._feed.latest_id()
        except ResponseError:
            return "0-0"  # no stream yet: every write from now on is in it

    # ------------------------------------------------------------ the initial load
    async def load(self) -> int:
        """Index every customer record in Redis; returns how many."""
        started = last_report = time.monotonic()
        count = 0
        batch: list[Any] = []
        async with translated_errors():
            async for key in self._redis.scan_iter(
                match=self._keys.record_pattern(), count=SCAN_BATCH
            ):
                if self._stopping:
                    return count
                batch.append(key)
                if len(batch) >= SCAN_BATCH:
                    count += await self._load_batch(batch)
                    batch = []
                    if time.monotonic() - last_report >= PROGRESS_EVERY_S:
                        last_report = time.monotonic()
                        log.info("search index: %d customers loaded", count)
            count += await self._load_batch(batch)
        log.info("search index: %d customers loaded in %.1f s", count, time.monotonic() - started)
        return count

    async def _load_batch(self, keys: list[Any]) -> int:
        if not keys:
            return 0
        # One GET per key in a pipeline (not MGET): the keys live in different slots.
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.get(key)
            values = await pipe.execute()
        loaded = 0
        for value in values:
            if value is not None:
                self.index.upsert(decode_record(as_bytes(value)))
                loaded += 1
        return loaded

    # ------------------------------------------------------------ following the feed
    async def follow_once(self) -> int:
        """Apply the next batch of feed entries (waiting up to `block_ms` for one)."""
        entries = await self._feed.read_after(self.position, FEED_BATCH, self._block_ms)
        if not entries:
            return 0
        customers = list(dict.fromkeys(entry.customer_id for _id, entry in entries))
        await self.refresh(customers)
        self.position = entries[-1][0]
        return len(entries)

    async def refresh(self, customer_ids: list[str]) -> None:
        """Re-index these customers from their records; forget the ones that are gone."""
        async with translated_errors(), self._redis.pipeline(transaction=False) as pipe:
            for customer_id in customer_ids:
                pipe.get(self._keys.record(customer_id))
            values = await pipe.execute()
        for customer_id, value in zip(customer_ids, values, strict=True):
            if value is None:
                self.index.remove(customer_id)
            else:
                self.index.upsert(decode_record(as_bytes(value)))
        log.debug("search index: refreshed %d customers", len(customer_ids))
