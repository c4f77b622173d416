"""The lookup path's near-cache: card bytes kept in this process, dropped when Redis says
the card changed.

Keyed by (card key, view), holding the exact (version, body) bytes a read returned; bounded
in entries and in bytes, least recently used first out. What bounds a card's age (the
figures and the tests: docs/ARCHITECTURE.md, tests/customers/test_nearcache.py):

* Redis reports every change to a customer's keys (`redis/tracking.py`); the message drops
  that card's views here. In normal operation a card is stale for the time that message
  takes to arrive.
* Whatever happens to those messages, an entry is served only until `seconds` after the read
  that filled it was sent: no card older than that is ever served.
* Losing the tracking connection (Redis restarted, the connection killed, no answer to a
  PING within the timeout) empties the cache, and nothing is cached or served from it until
  Redis tracks for us again.
* A write or erasure made by this process drops the card as soon as it returns (the store's
  `written` hook), before its caller can ask for the card again.
* A read that raced a change is not kept: a fill counts only if no message for its key (and
  no flush) arrived since its read was sent (`begin` / `fill`).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import NamedTuple

from redis import exceptions as redis_errors

from prefstore.redis.tracking import InvalidationStream

log = logging.getLogger(__name__)

RECONNECT_DELAY_S = 0.5


class CardBytes(NamedTuple):
    version: bytes
    body: bytes


class Fill(NamedTuple):
    """A read under way whose answer may be cached: its key, view, token and start."""

    card_key: str
    view: str
    token: int
    started: float


class NearCache:
    def __init__(
        self,
        *,
        entries: int,
        max_bytes: int,
        seconds: float,
        views: Iterable[str],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds = seconds
        self._max_entries = entries
        self._max_bytes = max_bytes
        self._views = tuple(views)
        self._clock = clock
        self._entries: OrderedDict[tuple[str, str], tuple[float, CardBytes]] = OrderedDict()
        self._bytes = 0
        self._pending: dict[tuple[str, str], int] = {}
        self._tokens = itertools.count()
        self.live = False
        """True while Redis tracks changes for us: only then is anything cached or served."""

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, card_key: str, view: str) -> CardBytes | None:
        entry = self._entries.get((card_key, view))
        if entry is None:
            return None
        if self._clock() >= entry[0]:
            self._drop((card_key, view))
            return None
        self._entries.move_to_end((card_key, view))
        return entry[1]

    def begin(self, card_key: str, view: str) -> Fill | None:
        """Note a read about to be sent; None when its answer must not be cached."""
        if not self.live:
            return None
        if len(self._pending) >= 4 * self._max_entries:  # reads that never came back
            self._pending.clear()
        token = next(self._tokens)
        self._pending[(card_key, view)] = token
        return Fill(card_key, view, token, self._clock())

    def fill(self, fill: Fill, found: CardBytes) -> None:
        """Keep what the read `fill` found, unless its key changed since it was sent."""
        key = (fill.card_key, fill.view)
        if self._pending.get(key) != fill.token:
            return  # changed, flushed, or overtaken by a later read of the same view
        del self._pending[key]
        size = len(found.body) + len(found.version)
        if size > self._max_bytes:
            return
        self._drop(key)
        self._entries[key] = (fill.started + self.seconds, found)
        self._bytes += size
        while len(self._entries) > self._max_entries or self._bytes > self._max_bytes:
            self._drop(next(iter(self._entries)))

    def invalidate(self, card_key: str) -> None:
        for view in self._views:
            self._pending.pop((card_key, view), None)
            self._drop((card_key, view))

    def changed(self, keys: list[bytes] | None) -> None:
        """A message from Redis: these keys changed (None: all of them). Every key of a
        customer is reported, the card's own among them; other keys are not cached, so
        dropping their name finds nothing."""
        if keys is None:
            self.flush(live=self.live)
            return
        for key in keys:
            self.invalidate(key.decode())

    def flush(self, *, live: bool) -> None:
        self._entries.clear()
        self._pending.clear()
        self._bytes = 0
        self.live = live

    def _drop(self, key: tuple[str, str]) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= len(entry[1].body) + len(entry[1].version)


class NearCacheFollower:
    """Keeps a `NearCache` honest: follows Redis's invalidation messages in the background,
    reconnecting after a loss (the cache stays empty and unused meanwhile)."""

    def __init__(self, cache: NearCache, stream: InvalidationStream) -> None:
        self.cache = cache
        self._stream = stream
        self._task: asyncio.Task[None] | None = None
        self._warned = False

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="near-cache invalidations")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self.cache.flush(live=False)

    async def _run(self) -> None:
        while True:
            try:
                await self._stream.follow(self._ready, self.cache.changed)
            except redis_errors.RedisError as exc:
                self.cache.flush(live=False)
                if not self._warned:  # once per outage, not once a reconnect attempt
                    log.warning("near-cache off until Redis tracks changes again: %s", exc)
                self._warned = True
            except BaseException:
                self.cache.flush(live=False)
                raise
            await asyncio.sleep(RECONNECT_DELAY_S)

    def _ready(self) -> None:
        self.cache.flush(live=True)
        self._warned = False
        log.info("near-cache on: Redis reports changes to cached cards")
