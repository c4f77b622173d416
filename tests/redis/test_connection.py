"""Redis down or stalled: a fast 503 with Retry-After, never a hang; recovery on its own."""

from __future__ import annotations

import time

import pytest
import redis
from litestar.testing import AsyncTestClient

from prefstore.config import Settings
from prefstore.customers.apikeys import KeyStore
from prefstore.http.app import create_app
from prefstore.redis.connection import connect
from prefstore.redis.keyspace import KeySpace
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.real_redis
FAST = 1.5
"""Seconds within which an outage must be answered (timeout 0.5 s, one retry)."""


async def _key(url: str, prefix: str) -> dict[str, str]:
    client = connect(url, 2.0)
    made = await KeyStore(client, KeySpace(prefix)).create("till", ["write"])
    await client.aclose()
    return {"Authorization": f"Bearer {made.key}"}


async def _timed_get(
    client: AsyncTestClient, path: str, headers: dict[str, str]
) -> tuple[int, float, dict[str, str]]:  # type: ignore[type-arg]
    start = time.monotonic()
    response = await client.get(path, headers=headers)
    return response.status_code, time.monotonic() - start, dict(response.headers)


async def test_redis_down_gives_fast_503_then_recovers(own_server: RedisServer) -> None:
    settings = Settings(redis_url=own_server.url, key_prefix="o:", redis_timeout=0.5)
    headers = await _key(own_server.url, "o:")
    async with AsyncTestClient(create_app(settings)) as client:
        created = await client.post(
            "/v1/customers", json={"id": "ada", "name": "Ada"}, headers=headers
        )
        assert created.status_code == 201

        own_server.kill()
        for path in ("/v1/customers/ada", "/v1/lookup?email=a%40example.com", "/readyz"):
            status, elapsed, response_headers = await _timed_get(client, path, headers)
            assert status == 503, path
            assert elapsed < FAST, (path, elapsed)
            assert response_headers["retry-after"] == "1"
        write = await client.post("/v1/customers/ada/notes", json={"text": "hi"}, headers=headers)
        assert write.status_code == 503
        assert (await client.get("/healthz")).status_code == 200

        own_server.start()  # same port, same AOF directory: the data comes back
        deadline = time.monotonic() + 5
        status = 0
        while time.monotonic() < deadline and status != 200:
            status, _elapsed, _h = await _timed_get(client, "/v1/customers/ada", headers)
        assert status == 200
        assert (await client.get("/readyz")).status_code == 200


async def test_stalled_redis_gives_fast_503(own_server: RedisServer) -> None:
    settings = Settings(
        redis_url=own_server.url, key_prefix="s:", redis_timeout=0.5, key_cache_seconds=60
    )
    headers = await _key(own_server.url, "s:")
    async with AsyncTestClient(create_app(settings)) as client:
        await client.post("/v1/customers", json={"id": "ada", "name": "Ada"}, headers=headers)
        # CLIENT PAUSE stalls every client's commands: the server is up but does not answer.
        admin = redis.Redis(port=own_server.port)
        admin.execute_command("CLIENT", "PAUSE", "3000", "ALL")
        try:
            status, elapsed, response_headers = await _timed_get(
                client, "/v1/customers/ada", headers
            )
        finally:
            admin.execute_command("CLIENT", "UNPAUSE")
            admin.close()
        assert status == 503
        assert elapsed < FAST, elapsed
        assert response_headers["retry-after"] == "1"
        status, _elapsed, _h = await _timed_get(client, "/v1/customers/ada", headers)
        assert status == 200
