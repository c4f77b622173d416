"""The one wiring point: every collaborator, built from `Settings` and a Redis client.

The app (its lifespan), the CLI, the benchmarks and the tests all build through
`Services.build`, so the store, the reader, the key caches, the search index and the
allergen table are configured the same way wherever they run. Routes never reach for
these themselves: `http/deps.py` hands each route what it names, by dependency injection.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from litestar.stores.redis import RedisStore
from redis.asyncio import Redis

from prefstore.config import Settings
from prefstore.customers.access import KeyCache, KeyCheck
from prefstore.customers.apikeys import KeyStore
from prefstore.customers.changes import ChangeFeed
from prefstore.customers.desk import Desk
from prefstore.customers.disk_erasure import DiskEraser
from prefstore.customers.erasure_receipts import ErasurePolicy, ErasureReceipts
from prefstore.customers.names import Nicknames
from prefstore.customers.nearcache import NearCache, NearCacheFollower
from prefstore.customers.reader import VIEWS, CardReader
from prefstore.customers.store import CustomerStore
from prefstore.redis.keyspace import KeySpace
from prefstore.redis.pipelined import Address
from prefstore.redis.ratelimit import Policy, RateLimiter
from prefstore.redis.tracking import InvalidationStream
from prefstore.search.allergens import AllergenTable, load_table
from prefstore.search.cues import CardCues
from prefstore.search.follower import IndexFollower
from prefstore.search.index import SearchIndex
from prefstore.transfer.importer import Importer

FEED_BLOCK_MS = 200
SEARCH_STARTUP_WAIT_S = 10.0
"""How long start-up waits for the search index to load before serving anyway (searches
answer 503 with Retry-After until it is loaded; lookups never wait for it)."""


@dataclass(frozen=True)
class Services:
    settings: Settings
    redis: Redis
    keys: KeySpace
    store: CustomerStore
    reader: CardReader
    keystore: KeyStore
    key_cache: KeyCache
    """API key -> Principal, for the API-key middleware."""
    key_check: KeyCheck
    """Key id -> still valid, for staff sessions on the page."""
    feed: ChangeFeed
    search: IndexFollower
    """Owns the in-process search index; started by `running()`."""
    allergens: AllergenTable
    sessions: RedisStore
    """Staff sessions of the quick-entry page, in Redis under the deployment's prefix."""
    importer: Importer
    """The batch import engine (CLI and HTTP), writing what the store writes."""
    desk: Desk
    """The staff page's entries and their undo (kept in the customer's keys)."""
    erasures: ErasureReceipts
    """Erasure receipts: when each step of an erasure finished (no PII)."""
    disk_erasure: DiskEraser
    """Runs erasures' disk steps (batched AOF rewrite, …); started by `running()`."""
    limiter: RateLimiter
    """Per-key and failed-authentication rate limits, counted in Redis (shared by processes)."""
    near_cache: NearCacheFollower | None = None
    """Keeps the reader's near-cache told of changes; started by `running()`. None: off."""

    @classmethod
    def build(cls, settings: Settings, redis: Redis) -> Services:
        keys = KeySpace(settings.key_prefix)
        keystore = KeyStore(redis, keys, settings.venues)
        erasure = ErasurePolicy(
            rewrite_seconds=settings.erasure_rewrite_seconds,
            receipt_seconds=settings.erasure_receipt_days * 24 * 3600,
        )
        near = _near_cache(settings, redis, keys)
        nicknames = _nicknames(settings)
        reader = CardReader(redis, keys, settings.default_region, near.cache if near else None)
        store = CustomerStore(
            redis,
            keys,
            region=settings.default_region,
            notes_on_card=settings.notes_on_card,
            erasure_policy=erasure,
            written=reader.forget,
        )
        receipts = ErasureReceipts(redis, keys, erasure)
        return cls(
            settings=settings,
            redis=redis,
            keys=keys,
            store=store,
            reader=reader,
            keystore=keystore,
            key_cache=KeyCache(keystore, settings.key_cache_seconds),
            key_check=KeyCheck(keystore, settings.key_cache_seconds),
            feed=ChangeFeed(redis, keys),
            search=IndexFollower(
                redis,
                keys,
                SearchIndex(CardCues(redis, keys), nicknames),
                block_ms=_block_ms(settings),
            ),
            allergens=load_table(settings.allergens_file),
            sessions=RedisStore(redis, f"{settings.key_prefix}session"),
            importer=Importer(
                store.storage, region=store.region, salt=store.suppression_salt, nicknames=nicknames
            ),
            desk=Desk(store, undo_seconds=settings.session_seconds),
            erasures=receipts,
            disk_erasure=DiskEraser(redis, keys, receipts),
            limiter=_limiter(settings, redis, keys),
            near_cache=near,
        )

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Services]:
        """Start what works in the background (the search index follower, the erasures'
        disk steps) and stop it on exit. Start-up waits a bounded time for the index, then
        serves anyway."""
        self.search.start()
        self.disk_erasure.start()
        if self.near_cache is not None:
            self.near_cache.start()
        try:
            await self.search.wait_loaded(SEARCH_STARTUP_WAIT_S)
            yield self
        finally:
            if self.near_cache is not None:
                await self.near_cache.stop()
            await self.disk_erasure.stop()
            await self.search.stop()


def _nicknames(settings: Settings) -> Nicknames | None:
    """The deployment's added nicknames, if it has a list: search and the import's duplicate
    hints read the same table."""
    return Nicknames.load(settings.nicknames_file) if settings.nicknames_file else None


def _limiter(settings: Settings, redis: Redis, keys: KeySpace) -> RateLimiter:
    window = settings.rate_limit_window
    return RateLimiter(
        redis,
        keys,
        per_key=Policy("key", settings.rate_limit_per_key, window),
        auth_failures=Policy("auth-failures", settings.auth_failures_per_address, window),
    )


def _near_cache(settings: Settings, redis: Redis, keys: KeySpace) -> NearCacheFollower | None:
    """The near-cache and what keeps it honest; None when off, or where Redis cannot be
    asked to track changes over a plain connection (fakeredis, TLS)."""
    address = Address.of_pool(redis.connection_pool)
    if settings.near_cache <= 0 or address is None:
        return None
    cache = NearCache(
        entries=settings.near_cache,
        max_bytes=settings.near_cache_mb * 1024 * 1024,
        seconds=settings.near_cache_seconds,
        views=VIEWS,
    )
    head, _tail = keys.card_key_around_id()  # every key of every customer starts so
    timeout = settings.redis_timeout
    stream = InvalidationStream(address, head, timeout=timeout, heartbeat=max(1.0, 2 * timeout))
    return NearCacheFollower(cache, stream)


def _block_ms(settings: Settings) -> int:
    # Blocking feed reads must return before the client's socket timeout fires, and soon
    # enough that shutting down (which lets the current read finish) is quick.
    return max(20, min(FEED_BLOCK_MS, int(settings.redis_timeout * 1000 / 2)))
