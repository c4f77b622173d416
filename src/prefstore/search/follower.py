"""Keeps a process's search index equal to Redis: a full load at start-up, then the change
feed, and a full rebuild whenever the feed can no longer be trusted to hold every change.

The feed position is taken *before* the load scans the records, so a write that lands during
the scan is applied again afterwards (re-indexing a customer is idempotent). For each batch
of feed entries the follower re-reads the records of the customers they name — the feed
carries no PII, the record is the truth — and drops those whose record is gone (erased).

Following only works while every entry after our position is still in the stream. It is not
when the stream was trimmed past us (MAXLEN), or Redis was flushed, restored or replaced (the
stream is gone, starts after us, ends before us, or the server's run_id changed). The
follower checks for these after every batch it reads, after every reconnect and every
`check_every_s`, and then rebuilds: it scans the records into a new index while searches go
on using the old one, and swaps the new one in when it is complete.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any, Literal

from redis.asyncio import Redis
from redis.backoff import EqualJitterBackoff
from redis.exceptions import ResponseError

from prefstore.customers.changes import ChangeFeed
from prefstore.errors import Unavailable
from prefstore.redis.connection import as_bytes, as_text, translated_errors
from prefstore.redis.keyspace import KeySpace, decode_record
from prefstore.search.index import SearchIndex

log = logging.getLogger(__name__)

SCAN_BATCH = 1000
FEED_BATCH = 1000
INDEX_SLICE = 100
"""Customers re-indexed between yields to the event loop: a feed batch of 1000 (an import
writes them back to back) takes ~20 ms to index, which a lookup must not wait behind."""
PROGRESS_EVERY_S = 5.0
CHECK_EVERY_S = 10.0
"""How often an idle follower checks that the feed still covers its position (a flushed or
restored Redis sends no entries to notice it by)."""
RETRY_FIRST_S = 0.1
RETRY_CAP_S = 5.0
START = "0-0"

StreamId = tuple[int, int]


def stream_id(value: object) -> StreamId:
    ms, _, seq = as_text(value).partition("-")
    return int(ms), int(seq or 0)


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
        check_every_s: float = CHECK_EVERY_S,
        retry_cap_s: float = RETRY_CAP_S,
    ) -> None:
        """`block_ms` must stay below the client's socket timeout, or an idle blocking read
        would look like a dead Redis."""
        self._redis = own_client(redis)
        self._keys = keys
        self._feed = ChangeFeed(self._redis, keys)
        self.index = index
        """The index searches use; replaced whole (one assignment) by a rebuild."""
        self._block_ms = block_ms
        self._check_every_s = check_every_s
        self._backoff = EqualJitterBackoff(cap=retry_cap_s, base=RETRY_FIRST_S)
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.loaded = asyncio.Event()
        self.position = START
        """The last feed entry applied."""
        self.rebuilds = 0
        self._run_id: str | None = None
        self._next_check = 0.0
        self._rebuild_reason: str | None = None

    @property
    def state(self) -> Literal["ready", "loading"]:
        """For readiness: "loading" until the first load is complete, then "ready" (a
        rebuild keeps serving the previous index, so it stays "ready")."""
        return "ready" if self.loaded.is_set() else "loading"

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
        self._stopping.set()
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
        failures = 0
        while not self._stopping.is_set():
            try:
                await self.step()
                failures = 0
            except Exception as exc:  # the follower must outlive any failure, and retry
                failures += 1
                delay = self._backoff.compute(failures)
                if isinstance(exc, Unavailable):
                    log.warning("search index follower: %s; retry in %.1f s", exc.detail, delay)
                else:
                    log.exception("search index follower failed; retry in %.1f s", delay)
                # Whatever happened, Redis may not be the one we knew: check on reconnect.
                self._next_check = 0.0
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)

    async def step(self) -> None:
        """One turn of the loop: the first load, a pending rebuild, a due check, or the next
        batch of the feed."""
        if not self.loaded.is_set():
            await self._first_load()
        elif self._rebuild_reason is not None:
            await self.rebuild(self._rebuild_reason)
        else:
            if time.monotonic() >= self._next_check:
                self._next_check = time.monotonic() + self._check_every_s
                self._rebuild_reason = await self.find_gap()
                if self._rebuild_reason is not None:
                    return
            before = self.position
            if await self.follow_once() and before != START:
                # Trimming only ever moves the stream's start forward, so a start beyond
                # `before` now means entries after it were gone when we read.
                self._rebuild_reason = await self.feed_gap(before)

    async def _first_load(self) -> None:
        self._run_id = await self._server_run_id()
        self.position = await self._feed_head()
        await self.load()
        # The first search pays numpy's and rapidfuzz's lazy imports; not a customer.
        self.index.rank("warm up 0000", 1)
        self._next_check = time.monotonic() + self._check_every_s
        self.loaded.set()

    async def _feed_head(self) -> str:
        try:
            return await self._feed.latest_id()
        except ResponseError:
            return START  # no stream yet: every write from now on is in it

    # ------------------------------------------------------------ noticing a gap
    async def find_gap(self) -> str | None:
        """Why the index may have missed changes, or None: the full check (two round trips)."""
        run_id = await self._server_run_id()
        known, self._run_id = self._run_id, run_id or self._run_id
        if run_id is not None and known is not None and run_id != known:
            return "the Redis server restarted or was replaced (run_id changed)"
        return await self.feed_gap(self.position)

    async def feed_gap(self, position: str) -> str | None:
        """Why the feed may lack entries after `position`, or None (one XINFO STREAM)."""
        ours = stream_id(position)
        try:
            async with translated_errors():
                info: Any = await self._redis.xinfo_stream(self._keys.changes)
        except ResponseError as exc:
            if "no such key" not in str(exc).lower():
                raise
            return None if position == START else "the change feed is gone (Redis flushed?)"
        last = stream_id(info["last-generated-id"])
        if last < ours:
            return "the change feed ends before our position (Redis restored or replaced?)"
        # The stream starting after us is a gap unless only entries up to ours were trimmed;
        # telling those apart needs Redis 7's max-deleted-entry-id, and the rare needless
        # rebuild is cheaper than the doubt.
        first = info.get("first-entry")
        if first and position != START and stream_id(first[0]) > ours:
            return "the change feed no longer holds our position (trimmed, or Redis flushed?)"
        return None

    async def _server_run_id(self) -> str | None:
        """The server's run_id: new with every start of redis-server. None where INFO is not
        offered (fakeredis, some managed services)."""
        try:
            async with translated_errors():
                info: dict[str, Any] = await self._redis.info("server")
        except ResponseError:
            return None
        run_id = info.get("run_id")
        return str(run_id) if run_id else None

    async def rebuild(self, reason: str) -> int:
        """Load a new index from the records and swap it in; returns how many customers.
        Searches use the current index until the new one is complete."""
        log.warning("search index: rebuilding from the records: %s", reason)
        started = time.monotonic()
        position = await self._feed_head()
        fresh = self.index.empty_copy()
        count = await self.load(fresh)
        if self._stopping.is_set():
            return count
        fresh.rank("warm up 0000", 1)
        self.index, self.position = fresh, position
        self._rebuild_reason = None
        self.rebuilds += 1
        log.info(
            "search index: rebuilt with %d customers in %.1f s", count, time.monotonic() - started
        )
        return count

    # ------------------------------------------------------------ loading the records
    async def load(self, index: SearchIndex | None = None) -> int:
        """Index every customer record in Redis (into our index by default); returns how
        many."""
        into = self.index if index is None else index
        started = last_report = time.monotonic()
        count = 0
        batch: list[Any] = []
        async with translated_errors():
            async for key in self._redis.scan_iter(
                match=self._keys.record_pattern(), count=SCAN_BATCH
            ):
                if self._stopping.is_set():
                    return count
                batch.append(key)
                if len(batch) >= SCAN_BATCH:
                    count += await self._load_batch(into, batch)
                    batch = []
                    if time.monotonic() - last_report >= PROGRESS_EVERY_S:
                        last_report = time.monotonic()
                        log.info("search index: %d customers loaded", count)
            count += await self._load_batch(into, batch)
        into.settle()
        log.info("search index: %d customers loaded in %.1f s", count, time.monotonic() - started)
        return count

    async def _load_batch(self, index: SearchIndex, keys: list[Any]) -> int:
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
                index.upsert(decode_record(as_bytes(value)))
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
        for done, (customer_id, value) in enumerate(zip(customer_ids, values, strict=True), 1):
            if value is None:
                self.index.remove(customer_id)
            else:
                self.index.upsert(decode_record(as_bytes(value)))
            if done % INDEX_SLICE == 0:
                await asyncio.sleep(0)
        log.debug("search index: refreshed %d customers", len(customer_ids))
