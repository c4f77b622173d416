"""The search index notices when the change feed can no longer be trusted (trimmed, flushed,
restored, a new Redis) and rebuilds from the records, serving the old index meanwhile; the
follower outlives a Redis outage.

Most tests drive the follower one `step()` at a time (no background task), so they are
deterministic on fakeredis and on a real redis-server alike."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from prefstore.config import Settings
from prefstore.customers.store import CustomerStore
from prefstore.http.app import create_app
from prefstore.models.inputs import CustomerCreate
from prefstore.redis.connection import connect
from prefstore.redis.keyspace import KeySpace
from prefstore.search.follower import IndexFollower
from prefstore.search.index import SearchIndex
from tests.support.backends import Backend, delete_prefix
from tests.support.redis_server import RedisServer

WITHIN_S = 5.0


@pytest.fixture
async def follower(redis_client: Redis, keyspace: KeySpace) -> AsyncIterator[IndexFollower]:
    """Loaded, not running: the test turns the wheel. No periodic check unless asked."""
    made = IndexFollower(redis_client, keyspace, SearchIndex(), block_ms=20, check_every_s=3600)
    await made.step()
    assert made.loaded.is_set()
    yield made
    await made.stop()


async def _create(store: CustomerStore, customer_id: str, name: str) -> None:
    await store.create(CustomerCreate(id=customer_id, name=name), actor="test")


async def _steps_until(follower: IndexFollower, done: object, steps: int = 20) -> None:
    for _ in range(steps):
        if done():  # type: ignore[operator]
            return
        await follower.step()
    assert done(), "condition not met"  # type: ignore[operator]


def _found(follower: IndexFollower, q: str) -> list[str]:
    return [hit.id for hit in follower.index.rank(q, 5)]


async def test_trimmed_feed_rebuild_finds_customer_written_in_trimmed_range(
    follower: IndexFollower,
    store: CustomerStore,
    redis_client: Redis,
    keyspace: KeySpace,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await _create(store, "a1", "Ada Lovelace")
    await _steps_until(follower, lambda: "a1" in follower.index)
    before = follower.index
    # Two writes the follower never reads: the stream is trimmed to the last one.
    await _create(store, "b1", "Barbara Liskov")
    await _create(store, "c1", "Claude Shannon")
    await redis_client.xtrim(keyspace.changes, maxlen=1, approximate=False)

    with caplog.at_level(logging.WARNING, logger="prefstore.search.follower"):
        await follower.step()  # reads c1, then sees the stream starts after its old position
        assert "c1" in follower.index and "b1" not in follower.index
        await _steps_until(follower, lambda: "b1" in follower.index)
    assert follower.index is not before and follower.rebuilds == 1
    assert _found(follower, "barbara liskov") == ["b1"]
    assert {"a1", "c1"} <= {*_found(follower, "ada lovelace"), *_found(follower, "shannon")}
    assert any("trimmed" in r.getMessage() for r in caplog.records)
    # Following goes on from the new position.
    await _create(store, "d1", "Donald Knuth")
    await _steps_until(follower, lambda: "d1" in follower.index)
    assert follower.rebuilds == 1


async def test_flushed_redis_forgets_customers_after_rebuild(
    follower: IndexFollower, store: CustomerStore, redis_backend: Backend
) -> None:
    for customer_id, name in [("e1", "Edsger Dijkstra"), ("e2", "Tony Hoare")]:
        await _create(store, customer_id, name)
    await _steps_until(follower, lambda: "e1" in follower.index and "e2" in follower.index)
    # A flush of our keyspace (the shared test server's other keys are not ours to flush).
    await delete_prefix(redis_backend.client, redis_backend.prefix)
    await _create(store, "e3", "Edsger Wybe")  # a new stream, starting after our position

    await _steps_until(follower, lambda: follower.rebuilds == 1)
    assert "e1" not in follower.index and "e2" not in follower.index
    assert "e1" not in _found(follower, "edsger dijkstra")
    assert _found(follower, "tony hoare") == []
    assert _found(follower, "edsger wybe") == ["e3"]


async def test_idle_follower_notices_a_flush_on_its_periodic_check(
    redis_client: Redis, keyspace: KeySpace, store: CustomerStore, redis_backend: Backend
) -> None:
    follower = IndexFollower(redis_client, keyspace, SearchIndex(), block_ms=20, check_every_s=0)
    try:
        await follower.step()
        await _create(store, "f1", "Frances Allen")
        await _steps_until(follower, lambda: "f1" in follower.index)
        await delete_prefix(redis_backend.client, redis_backend.prefix)  # and no writes after
        assert await follower.find_gap() == "the change feed is gone (Redis flushed?)"
        await _steps_until(follower, lambda: "f1" not in follower.index)
        assert follower.rebuilds == 1
    finally:
        await follower.stop()


async def test_feed_behind_our_position_is_a_gap(
    follower: IndexFollower, store: CustomerStore, redis_client: Redis, keyspace: KeySpace
) -> None:
    await _create(store, "g1", "Grace Hopper")
    await _steps_until(follower, lambda: "g1" in follower.index)
    assert await follower.find_gap() is None
    # A restored backup: the stream's last id is older than what we applied.
    await redis_client.delete(keyspace.changes)
    await redis_client.xadd(keyspace.changes, {"e": b"old"}, id="1-1")
    assert await follower.find_gap() == (
        "the change feed ends before our position (Redis restored or replaced?)"
    )


async def test_rebuild_keeps_serving_the_old_index_until_the_new_one_is_complete(
    follower: IndexFollower, store: CustomerStore, redis_client: Redis, keyspace: KeySpace
) -> None:
    await _create(store, "h1", "Hedy Lamarr")
    await _steps_until(follower, lambda: "h1" in follower.index)
    old = follower.index
    seen: list[bool] = []
    real_load_batch = follower._load_batch

    async def watching(index: SearchIndex, keys: list[object]) -> int:
        # While the new index fills, searches still get the old one, whole.
        seen.append(follower.index is old and _found(follower, "hedy lamarr") == ["h1"])
        return await real_load_batch(index, keys)

    follower._load_batch = watching  # type: ignore[method-assign]
    await follower.rebuild("test")
    assert seen and all(seen)
    assert follower.index is not old and _found(follower, "hedy lamarr") == ["h1"]


# ---------------------------------------------------------------- a real outage


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[RedisServer]:
    # No persistence: a restart is a new, empty Redis (and a new run_id).
    server = RedisServer(tmp_path / "redis", appendonly=False)
    server.start()
    yield server
    server.stop()


async def _until(condition: object, within: float = WITHIN_S) -> None:
    deadline = time.monotonic() + within
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


@pytest.mark.real_redis
async def test_follower_survives_redis_restart_and_rebuilds(own_server: RedisServer) -> None:
    keys = KeySpace("r:")
    client = connect(own_server.url, 0.5)
    store = CustomerStore(client, keys, region="US")
    follower = IndexFollower(client, keys, SearchIndex(), block_ms=50, retry_cap_s=0.5)
    follower.start()
    try:
        assert await follower.wait_loaded(WITHIN_S)
        await _create(store, "k1", "Katherine Johnson")
        await _until(lambda: "k1" in follower.index)

        own_server.kill()
        await asyncio.sleep(0.5)  # the follower fails a few times meanwhile
        own_server.start()  # same port, empty: k1 is gone
        await _create(store, "k2", "Mary Jackson")

        await _until(lambda: "k2" in follower.index and "k1" not in follower.index)
        assert follower.rebuilds >= 1
        await _create(store, "k3", "Dorothy Vaughan")  # and it still follows
        await _until(lambda: "k3" in follower.index)
    finally:
        await follower.stop()
        await client.aclose()


async def test_readyz_reports_the_search_index(own_server: RedisServer) -> None:
    settings = Settings(redis_url=own_server.url, key_prefix="z:", redis_timeout=0.5)
    async with AsyncTestClient(create_app(settings)) as client:
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["search_index"] == "ready"


@pytest.mark.real_redis
async def test_restarted_redis_is_noticed_by_its_run_id(tmp_path: Path) -> None:
    """Data intact (AOF), feed intact: only the new run_id says this may be another Redis."""
    server = RedisServer(tmp_path / "aof", appendonly=True)
    server.start()
    keys = KeySpace("i:")
    client = connect(server.url, 0.5)
    follower = IndexFollower(client, keys, SearchIndex(), block_ms=20, check_every_s=3600)
    try:
        await follower.step()
        await _create(CustomerStore(client, keys, region="US"), "m1", "Margaret Hamilton")
        await _steps_until(follower, lambda: "m1" in follower.index)
        assert await follower.find_gap() is None
        server.kill()
        server.start()
        assert await follower.find_gap() == (
            "the Redis server restarted or was replaced (run_id changed)"
        )
    finally:
        await follower.stop()
        await client.aclose()
        server.stop()
