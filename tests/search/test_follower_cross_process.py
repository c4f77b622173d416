"""Two app instances sharing one real redis-server, each with its own client (as two API
processes would): a write through one shows in the other's search index within a second."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from prefstore.config import Settings
from prefstore.customers.apikeys import KeyStore
from prefstore.http.app import create_app
from prefstore.redis.connection import connect
from prefstore.redis.keyspace import KeySpace
from tests.support.backends import delete_prefix, two_app_instances
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.real_redis
WITHIN_S = 1.0

Client = AsyncTestClient  # type: ignore[type-arg]


@pytest.fixture
async def two_apps(
    redis_server: RedisServer,
) -> AsyncIterator[tuple[Client, Client, dict[str, str]]]:
    prefix = f"x{uuid.uuid4().hex[:10]}:"
    settings = Settings(key_prefix=prefix, redis_url=redis_server.url, redis_timeout=2.0)
    # Each app opens a client of its own on the test client's event loop (a thread of its
    # own) and closes it at shutdown; keys and clean-up go through a third.
    async with two_app_instances(settings) as apps:
        yield apps


async def ids_for(client: Client, headers: dict[str, str], q: str) -> list[str]:
    response = await client.get("/v1/search", params={"q": q}, headers=headers)
    assert response.status_code == 200, response.text
    return [h["id"] for h in response.json()["hits"]]


async def within(
    client: Client, headers: dict[str, str], q: str, customer: str, present: bool
) -> float:
    started = time.monotonic()
    while (customer in await ids_for(client, headers, q)) != present:
        elapsed = time.monotonic() - started
        assert elapsed < WITHIN_S, f"{q!r}: {customer} {'not found' if present else 'still found'}"
        await asyncio.sleep(0.01)
    return time.monotonic() - started


async def test_create_rename_erase_through_one_seen_by_the_other(
    two_apps: tuple[Client, Client, dict[str, str]],
) -> None:
    a, b, headers = two_apps
    body: dict[str, Any] = {"id": "xp1", "name": "Katherine Johnson", "phones": ["+1 212 555 4471"]}
    assert (await a.post("/v1/customers", json=body, headers=headers)).status_code == 201
    await within(b, headers, "katherine jonson", "xp1", present=True)
    await within(b, headers, "johnson 4471", "xp1", present=True)

    renamed = await a.patch("/v1/customers/xp1", json={"name": "Katherine Goble"}, headers=headers)
    assert renamed.status_code == 200
    await within(b, headers, "katherine goble", "xp1", present=True)
    await within(b, headers, "katherine johnson", "xp1", present=False)

    assert (await a.delete("/v1/customers/xp1", headers=headers)).status_code == 200
    await within(b, headers, "katherine goble", "xp1", present=False)
    await within(b, headers, "4471", "xp1", present=False)


async def test_second_app_loads_existing_customers_at_start(redis_server: RedisServer) -> None:
    """A process that starts after the writes builds its index from the records."""
    prefix = f"x{uuid.uuid4().hex[:10]}:"
    settings = Settings(key_prefix=prefix, redis_url=redis_server.url, redis_timeout=2.0)
    client = connect(redis_server.url, 2.0)
    made = await KeyStore(client, KeySpace(prefix)).create("late", ["admin"])
    headers = {"Authorization": f"Bearer {made.key}"}
    try:
        async with AsyncTestClient(create_app(settings)) as early:
            for i, name in enumerate(["Mary Jackson", "Dorothy Vaughan", "Christine Darden"]):
                body = {"id": f"late{i}", "name": name}
                assert (
                    await early.post("/v1/customers", json=body, headers=headers)
                ).status_code == 201
        async with AsyncTestClient(create_app(settings)) as late:
            assert await ids_for(late, headers, "dorothy vaugan") == ["late1"]
            assert "late2" in await ids_for(late, headers, "darden")
    finally:
        await delete_prefix(client, prefix)
        await client.aclose()
