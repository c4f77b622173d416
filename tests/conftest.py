"""Shared fixtures: the store contract runs on fakeredis and on real redis-servers.

The helpers these fixtures hand out live in `tests/support/` (backends.py says which
backends there are); test modules import helpers from there, never from this file.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import fakeredis
import pytest
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from prefstore.config import Settings
from prefstore.customers.store import CustomerStore
from prefstore.redis.connection import connect
from prefstore.redis.keyspace import KeySpace
from prefstore.services import Services
from tests.support.backends import (
    BACKENDS,
    EXTERNAL_URL,
    Backend,
    app_for,
    delete_prefix,
    new_prefix,
)
from tests.support.keys import KeyMaker
from tests.support.redis_server import RedisServer


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server (AOF on) for one test alone: fault tests kill, stall and restart it."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=BACKENDS)
async def redis_backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    prefix = new_prefix()
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
    await delete_prefix(client, prefix)
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
def services(redis_client: Redis, settings: Settings) -> Services:
    """Built by the app's own factory: the store, reader, key store … tests use are
    configured exactly as the service configures them."""
    return Services.build(settings, redis_client)


@pytest.fixture
def keyspace(services: Services) -> KeySpace:
    return services.keys


@pytest.fixture
def store(services: Services) -> CustomerStore:
    return services.store


@pytest.fixture
async def client(redis_backend: Backend, settings: Settings) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    async with AsyncTestClient(app_for(redis_backend, settings)) as test_client:
        yield test_client


@pytest.fixture
def keymaker(redis_client: Redis, keyspace: KeySpace) -> KeyMaker:
    return KeyMaker(redis_client, keyspace)
