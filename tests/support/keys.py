"""API keys for tests: mint one with the scopes a request needs."""

from __future__ import annotations

from redis.asyncio import Redis

from prefstore.customers.apikeys import KeyStore
from prefstore.redis.keyspace import KeySpace


class KeyMaker:
    def __init__(self, redis: Redis, keys: KeySpace) -> None:
        self._store = KeyStore(redis, keys)

    async def headers(
        self, *scopes: str, name: str = "tester", venue: str | None = None
    ) -> dict[str, str]:
        """A new key's headers; `venue` binds the key to that venue."""
        made = await self._store.create(name, list(scopes), venue)
        return {"Authorization": f"Bearer {made.key}"}
