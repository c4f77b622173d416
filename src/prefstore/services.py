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
from prefstore.customers.reader import CardReader
from prefstore.customers.store import CustomerStore
from prefstore.redis.keyspace import KeySpace
from prefstore.search.allergens import AllergenTable, load_table
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

    @classmethod
    def build(cls, settings: Settings, redis: Redis) -> Services:
        keys = KeySpace(settings.key_prefix)
        keystore = KeyStore(redis, keys)
        store = CustomerStore(
            redis, keys, region=settings.default_region, notes_on_card=settings.notes_on_card
        )
        return cls(
            settings=settings,
            redis=redis,
            keys=keys,
            store=store,
            reader=CardReader(redis, keys, settings.default_region),
            keystore=keystore,
            key_cache=KeyCache(keystore, settings.key_cache_seconds),
            key_check=KeyCheck(keystore, settings.key_cache_seconds),
            feed=ChangeFeed(redis, keys),
            search=IndexFollower(redis, keys, SearchIndex(), block_ms=_block_ms(settings)),
            allergens=load_table(settings.allergens_file),
            sessions=RedisStore(redis, f"{settings.key_prefix}session"),
            importer=Importer(store.storage, region=store.region, salt=store.suppression_salt),
        )

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Services]:
        """Start what works in the background (the search index follower) and stop it on
        exit. Start-up waits a bounded time for the index, then serves anyway."""
        self.search.start()
        try:
            await self.search.wait_loaded(SEARCH_STARTUP_WAIT_S)
            yield self
        finally:
            await self.search.stop()


def _block_ms(settings: Settings) -> int:
    # Blocking feed reads must return before the client's socket timeout fires, and soon
    # enough that shutting down (which lets the current read finish) is quick.
    return max(20, min(FEED_BLOCK_MS, int(settings.redis_timeout * 1000 / 2)))
