"""Taking erased people off Redis's disk: a batched AOF rewrite, an RDB snapshot where RDB
is configured, and a slow-log reset, within the stated bound.

Deleting keys removes a person from memory only: the append-only file still holds the
commands that wrote them (and, on Redis 7, the RDB base of the last rewrite), an RDB
snapshot holds the old dataset, and `SLOWLOG` may hold a slow command's arguments. A rewrite
(`BGREWRITEAOF`) forks and writes the current dataset afresh, then replaces the old files.

Every process runs a `DiskEraser`. Pending erasures are a sorted set in Redis (written by the
erasure's own MULTI), so a process that restarts, or another one, picks them up. A process
runs a batch once the oldest pending erasure is half the bound old (so several erasures
share one rewrite), holding a Redis lock (redis-py's `Lock`) so that exactly one process
rewrites at a time. The batch is read before the rewrite is started: every erasure in it
was committed before the fork, so the rewritten file cannot hold it.

`BGREWRITEAOF` while a rewrite is already running is refused ("already in progress", 6.2 and
7.0 alike) and that running rewrite may have forked before the erasure: we wait for it to
finish, then start our own. While an RDB save runs, the rewrite is only *scheduled*; we wait
for it too. With AOF off (`appendonly no`) there is no file to rewrite: the receipt says
"not_applicable" rather than run a rewrite that would prove nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError, RedisError, ResponseError

from prefstore.customers.erasure_receipts import ErasureReceipts, StepOutcome, now_ms
from prefstore.errors import Unavailable
from prefstore.redis.connection import as_text, translated_errors
from prefstore.redis.keyspace import KeySpace

log = logging.getLogger(__name__)

LOCK_SECONDS = 30.0
"""The batch lock's lease; renewed while a rewrite runs, so a dead holder frees it soon."""
WAIT_POLL_S = 0.05
MIN_WAIT_S = 60.0
"""However short the bound, a rewrite is given at least this long before the batch is
left pending for the next try."""

Info = dict[str, Any]


def _own_client(redis: Redis) -> Redis:
    """Its own pool: the loop runs on whatever event loop started it, and must not take
    connections the requests need."""
    pool = redis.connection_pool
    return Redis.from_pool(
        type(pool)(connection_class=pool.connection_class, **pool.connection_kwargs)
    )


class DiskEraser:
    def __init__(self, redis: Redis, keys: KeySpace, receipts: ErasureReceipts) -> None:
        self._redis = self._shared = redis
        self._keys = keys
        self.receipts = receipts
        bound = receipts.policy.rewrite_seconds
        self.batch_window_ms = int(bound * 1000 / 2)
        self.poll_s = min(5.0, max(0.05, bound / 10))
        self.wait_s = max(MIN_WAIT_S, bound / 2)
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self._stopping.clear()
        self._shared, self._redis = self._redis, _own_client(self._redis)
        self._task = asyncio.create_task(self._run(), name="erasure-disk-steps")

    async def stop(self) -> None:
        self._stopping.set()
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        with contextlib.suppress(RedisError, OSError):
            await self._redis.aclose()
        self._redis = self._shared

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.tick()
            except (Unavailable, RedisError, OSError) as exc:
                log.warning("erasure disk steps: Redis failed (%s); retrying", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.poll_s)

    # ------------------------------------------------------------ one pass
    async def tick(self) -> bool:
        """Run a batch if one is due and no other process is running one. True if ran."""
        async with translated_errors():
            oldest = await self._redis.zrange(self._keys.erasures_pending, 0, 0, withscores=True)
        if not oldest or now_ms() - float(oldest[0][1]) < self.batch_window_ms:
            return False
        lock = self._redis.lock(self._keys.erasures_lock, timeout=LOCK_SECONDS, blocking=False)
        if not await lock.acquire():
            return False
        try:
            await self.run_batch(lock)
        finally:
            with contextlib.suppress(LockError):
                await lock.release()
        return True

    async def run_batch(self, lock: Lock) -> None:
        async with translated_errors():
            members = await self._redis.zrange(self._keys.erasures_pending, 0, -1)
        batch = [as_text(m) for m in members]
        started = time.monotonic()
        outcomes = {
            "aof_rewrite": await self._rewrite(lock),
            "rdb_snapshot": await self._snapshot(lock),
            "slowlog": await self._reset_slowlog(),
        }
        await self.receipts.finish(batch, outcomes)
        log.info(
            "erasure disk steps for %d erasure(s) in %.2f s: %s",
            len(batch),
            time.monotonic() - started,
            ", ".join(f"{step} {o.status}" for step, o in outcomes.items()),
        )

    # ------------------------------------------------------------ the steps
    async def _rewrite(self, lock: Lock) -> StepOutcome:
        info = await self._persistence()
        if "aof_enabled" not in info:
            return StepOutcome("unknown", "this Redis does not report its persistence (INFO)")
        if not info["aof_enabled"]:
            return StepOutcome(
                "not_applicable", "AOF is off on this Redis: there is no append-only file"
            )
        if not await self._wait(lock, _rewrite_idle):
            return StepOutcome("pending", "a rewrite already running has not finished yet")
        before = (await self._persistence()).get("aof_rewrites")
        try:
            async with translated_errors():
                await self._redis.bgrewriteaof()
        except ResponseError as exc:  # another rewrite started meanwhile: next pass
            return StepOutcome("pending", f"BGREWRITEAOF refused: {exc}")

        def ours_done(now: Info) -> bool:
            counted = before is None or int(now.get("aof_rewrites", 0)) > int(before)
            return _rewrite_idle(now) and counted

        if not await self._wait(lock, ours_done):
            return StepOutcome("pending", "the rewrite is still running")
        status = (await self._persistence()).get("aof_last_bgrewrite_status")
        if status != "ok":
            return StepOutcome("pending", f"the rewrite failed ({status}); it is retried")
        return StepOutcome("done")

    async def _snapshot(self, lock: Lock) -> StepOutcome:
        try:
            async with translated_errors():
                save = await self._redis.config_get("save")
        except ResponseError:
            return StepOutcome(
                "unknown",
                "CONFIG GET is not allowed: whether RDB snapshots are written is unknown",
            )
        if not any(as_text(value) for value in save.values()):
            return StepOutcome("not_applicable", 'RDB snapshots are off (save ""): none written')
        if not await self._wait(lock, _save_idle):
            return StepOutcome("pending", "an RDB save already running has not finished yet")
        before = await self._persistence()
        try:
            async with translated_errors():
                await self._redis.bgsave()
        except ResponseError as exc:
            return StepOutcome("pending", f"BGSAVE refused: {exc}")

        def ours_done(now: Info) -> bool:
            if "rdb_saves" in before:
                return _save_idle(now) and int(now["rdb_saves"]) > int(before["rdb_saves"])
            return _save_idle(now)

        if not await self._wait(lock, ours_done):
            return StepOutcome("pending", "the RDB save is still running")
        status = (await self._persistence()).get("rdb_last_bgsave_status")
        if status != "ok":
            return StepOutcome("pending", f"the RDB save failed ({status}); it is retried")
        return StepOutcome("done")

    async def _reset_slowlog(self) -> StepOutcome:
        try:
            async with translated_errors():
                await self._redis.slowlog_reset()
        except ResponseError as exc:
            return StepOutcome("unknown", f"SLOWLOG RESET refused: {exc}")
        return StepOutcome("done")

    # ------------------------------------------------------------ helpers
    async def _persistence(self) -> Info:
        try:
            async with translated_errors():
                info: Info = await self._redis.info("persistence")
        except ResponseError:
            return {}
        return info

    async def _wait(self, lock: Lock, ready: Callable[[Info], bool]) -> bool:
        """Poll INFO until `ready`, renewing the lock; False after `wait_s`."""
        deadline = time.monotonic() + self.wait_s
        while True:
            if ready(await self._persistence()):
                return True
            if time.monotonic() > deadline:
                return False
            await lock.reacquire()
            await asyncio.sleep(WAIT_POLL_S)


def _rewrite_idle(info: Info) -> bool:
    return not int(info.get("aof_rewrite_in_progress", 0)) and not int(
        info.get("aof_rewrite_scheduled", 0)
    )


def _save_idle(info: Info) -> bool:
    return not int(info.get("rdb_bgsave_in_progress", 0)) and _rewrite_idle(info)
