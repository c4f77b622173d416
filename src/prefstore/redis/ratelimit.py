"""Rate limits, counted in Redis so that every process serving one Redis shares them.

Fixed windows: a counter per policy, subject (an API key's id, a client address) and window,
created with an expiry (`SET … PX … NX`) and incremented (`INCRBY`) in the same write, so a
counter never outlives its window by more than one more window.

Per key, the count is batched: a process's first request of a key in a window is counted in
Redis before it is answered (on the lookup path in the same write as the card read: one
round trip), and every later one only in-process, its count sent in the background with
whatever else that process counted meanwhile — at most one flush in flight, so under load one
`INCRBY` per key per round trip rather than two commands per request (which cost ~40 % of a
lookup's CPU, docs/BENCHMARKS.md). The reply carries every process's total. Within one
process the quota is exact; across processes a key can go over it by what the other
processes admitted during one flush round trip.

A subject found over its limit is remembered in-process until its window ends, so a flood of
refused requests costs no Redis command at all.

Why not Litestar's `RateLimitMiddleware` or the `limits` package: the middleware reads and
then writes a store entry (two round trips, and two processes can both read N and both write
N+1), and both go through redis-py's pool, whose per-call cost on this machine exceeded a
whole bare request (docs/BENCHMARKS.md); here a count costs no extra round trip.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

from redis.asyncio import Redis

from prefstore.errors import RateLimited, Unavailable
from prefstore.redis.connection import OUTAGE_ERRORS, pipelined_reads
from prefstore.redis.keyspace import KeySpace

MEMO_SIZE = 10_000


class Policy(NamedTuple):
    name: str
    """Named in the `RateLimit` headers and in the counter's key."""
    limit: int
    """Requests (or failures) per window; 0 turns the policy off."""
    window: int
    """Seconds."""


class Charge:
    """One counted request whose verdict is read after the work it was sent with."""

    __slots__ = ("_limiter", "_policy", "_replies", "_subject", "_tally", "_until")

    def __init__(
        self,
        limiter: RateLimiter,
        policy: Policy,
        subject: str,
        until: float,
        replies: tuple[Awaitable[Any], ...],
        tally: _Tally | None = None,
    ) -> None:
        self._limiter = limiter
        self._policy = policy
        self._subject = subject
        self._until = until
        self._replies = replies
        self._tally = tally

    async def count(self) -> int:
        """The subject's count in this window, this request included (Unavailable when
        Redis could not count it)."""
        count: Any = 0
        lost: BaseException | None = None
        for reply in self._replies:  # every reply awaited: none left with an unread error
            try:
                count = await reply
            except OUTAGE_ERRORS as exc:
                lost = exc
        tally = self._tally
        if tally is not None:
            tally.sending -= 1
        if lost is not None:
            raise Unavailable(f"store unavailable: {type(lost).__name__}") from lost
        if isinstance(count, Exception):
            raise Unavailable(f"rate counter refused: {count}")
        if tally is not None:
            tally.shared = max(tally.shared, int(count))
        return int(count)

    async def settle(self) -> None:
        """Raise RateLimited when this request went over the limit."""
        if await self.count() > self._policy.limit:
            self._limiter.remember(self._policy, self._subject, self._until)
            raise self._limiter.refusal(self._policy, self._until)


class _Tally:
    """One key's count in one window, as this process knows it."""

    __slots__ = ("local", "sending", "shared", "window")

    def __init__(self, window: int) -> None:
        self.window = window
        self.shared = 0
        """Every process's total, as Redis last answered it."""
        self.sending = 0
        """Counted here, on its way to Redis."""
        self.local = 0
        """Counted here, not sent yet."""


class RateLimiter:
    def __init__(
        self,
        redis: Redis,
        keys: KeySpace,
        per_key: Policy,
        auth_failures: Policy,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = redis
        self._reads = pipelined_reads(redis)
        self._keys = keys
        self.per_key = per_key
        self.auth_failures = auth_failures
        self._clock = clock  # wall clock: processes on several machines share the windows
        self._over: dict[tuple[str, str], float] = {}
        self._tallies: dict[str, _Tally] = {}
        self._flushing: asyncio.Future[None] | None = None

    # ------------------------------------------------------------ per API key
    def charge_key(self, key_id: str) -> Charge | None:
        """Count one request of this key. RateLimited at once when this process knows the
        key is over its quota; a Charge (to settle after the work it was sent with) for the
        key's first request in this window here; else None (counted in-process, sent later)."""
        policy = self.per_key
        if not policy.limit:
            return None
        now = self._clock()
        window = int(now // policy.window)
        tally = self._tallies.get(key_id)
        if tally is None or tally.window != window:
            if len(self._tallies) >= MEMO_SIZE:
                self._tallies.clear()
            tally = self._tallies[key_id] = _Tally(window)
            tally.sending = 1
            key = self._keys.rate_counter(policy.name, key_id, window)
            until = (window + 1) * policy.window
            replies = self._count(key, policy.window)
            return Charge(self, policy, key_id, until, replies, tally)
        if tally.shared + tally.sending + tally.local >= policy.limit:
            raise self.refusal(policy, (window + 1) * policy.window)
        tally.local += 1
        if self._flushing is None:
            self._flushing = asyncio.ensure_future(self._flush())
        return None

    async def _flush(self) -> None:
        """Send what was counted in-process, key by key, until nothing is left to send; a
        count Redis could not take is kept for the next flush."""
        try:
            while batch := [(k, t) for k, t in self._tallies.items() if t.local]:
                sent = []
                for key_id, tally in batch:
                    key = self._keys.rate_counter(self.per_key.name, key_id, tally.window)
                    count, tally.sending, tally.local = tally.local, tally.sending + tally.local, 0
                    sent.append((tally, count, self._count(key, self.per_key.window, count)))
                lost = False
                for tally, count, replies in sent:  # every reply awaited, even after a loss
                    charge = Charge(self, self.per_key, "", 0.0, replies, tally)
                    tally.sending -= count - 1  # `count()` takes the last one off
                    try:
                        await charge.count()
                    except Unavailable:
                        tally.local += count  # Redis is away: sent with the next flush
                        lost = True
                if lost:
                    return
        finally:
            self._flushing = None

    # ------------------------------------------------------------ failed authentication
    async def refuse_failing(self, address: str) -> None:
        """Before a key is checked against Redis: RateLimited if this address has failed
        authentication too often in this window."""
        policy = self.auth_failures
        if not policy.limit:
            return
        key, until = self._window(policy, address)
        try:
            if self._reads is not None:
                count = await self._reads.execute("GET", key)
            else:
                count = await self._redis.get(key)
        except OUTAGE_ERRORS as exc:
            raise Unavailable(f"store unavailable: {type(exc).__name__}") from exc
        if count is not None and int(count) >= policy.limit:
            self.remember(policy, address, until)
            raise self.refusal(policy, until)

    async def record_failure(self, address: str) -> None:
        policy = self.auth_failures
        if not policy.limit:
            return
        key, until = self._window(policy, address)
        charge = Charge(self, policy, address, until, self._count(key, policy.window))
        # The failure that reaches the limit is still answered 401; the next one gets 429.
        if await charge.count() >= policy.limit:
            self.remember(policy, address, until)

    # ------------------------------------------------------------ shared
    def _window(self, policy: Policy, subject: str) -> tuple[str, float]:
        now = self._clock()
        over = self._over.get((policy.name, subject))
        if over is not None and now < over:
            raise self.refusal(policy, over)
        window = int(now // policy.window)
        return self._keys.rate_counter(policy.name, subject, window), (window + 1) * policy.window

    def _count(self, key: str, window: int, amount: int = 1) -> tuple[Awaitable[Any], ...]:
        expiry_ms = window * 2000  # expires one window after its own has ended
        if self._reads is not None:
            reads = self._reads
            created = reads.submit("SET", key, 0, "PX", expiry_ms, "NX")
            return created, reads.submit("INCRBY", key, amount)
        pipe = self._redis.pipeline(transaction=False)
        pipe.set(key, 0, px=expiry_ms, nx=True)
        pipe.incrby(key, amount)
        return (_last(pipe.execute()),)

    def remember(self, policy: Policy, subject: str, until: float) -> None:
        if len(self._over) >= MEMO_SIZE:
            self._over.clear()
        self._over[(policy.name, subject)] = until

    def refusal(self, policy: Policy, until: float) -> RateLimited:
        reset = max(1, math.ceil(until - self._clock()))
        return RateLimited(policy.name, policy.limit, policy.window, reset)


async def _last(replies: Awaitable[list[Any]]) -> Any:
    return (await replies)[-1]
