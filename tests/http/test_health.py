"""Readiness reports what serves the process (`prefstore serve` really runs on uvloop), its
Redis checks are timed, and a scrape answers whatever state Redis is in."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time

import httpx
import pytest
from litestar.testing import AsyncTestClient
from prometheus_client import REGISTRY

from prefstore.config import Settings
from prefstore.customers.apikeys import KeyStore
from prefstore.http.app import create_app
from prefstore.redis.connection import connect
from prefstore.redis.keyspace import KeySpace
from tests.support.backends import new_prefix
from tests.support.redis_server import RedisServer, free_port


async def test_readyz_names_the_running_event_loop(client: AsyncTestClient) -> None:  # type: ignore[type-arg]
    ready = (await client.get("/readyz")).json()
    loop = type(asyncio.get_running_loop())
    assert ready["event_loop"] == f"{loop.__module__}.{loop.__qualname__}"


@pytest.mark.real_redis
def test_prefstore_serve_runs_on_uvloop(redis_server: RedisServer) -> None:
    port = free_port()
    env = {
        **os.environ,
        "PREFSTORE_REDIS_URL": redis_server.url,
        "PREFSTORE_KEY_PREFIX": new_prefix("serve"),
        "PREFSTORE_PORT": str(port),
        "PREFSTORE_LOG_LEVEL": "warning",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "prefstore.cli", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        ready = None
        deadline = time.monotonic() + 30
        while ready is None and time.monotonic() < deadline:
            assert process.poll() is None, "prefstore serve exited"
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
                ready = response.json() if response.status_code == 200 else None
            except httpx.TransportError:
                time.sleep(0.1)
        assert ready is not None, "prefstore serve did not become ready"
        assert ready["event_loop"] == "uvloop.Loop"
    finally:
        process.terminate()
        process.wait(timeout=20)


async def test_readiness_checks_are_timed_round_trips(client: AsyncTestClient) -> None:  # type: ignore[type-arg]
    def pings() -> float:
        return REGISTRY.get_sample_value("prefstore_redis_seconds_count", {"op": "ping"}) or 0.0

    before = pings()
    assert (await client.get("/readyz")).status_code == 200
    assert pings() > before


@pytest.mark.real_redis
async def test_a_scrape_answers_while_redis_is_down(own_server: RedisServer) -> None:
    settings = Settings(
        redis_url=own_server.url, key_prefix=new_prefix(), redis_timeout=0.3, rate_limit_per_key=0
    )
    redis = connect(own_server.url, 2.0)
    made = await KeyStore(redis, KeySpace(settings.key_prefix)).create("prometheus", ["metrics"])
    await redis.aclose()
    scraper = {"Authorization": f"Bearer {made.key}"}
    async with AsyncTestClient(create_app(settings)) as client:
        up = await client.get("/metrics", headers=scraper)  # the key is now verified and cached
        assert re.search(r"^prefstore_redis_up 1\.0$", up.text, re.M)
        own_server.kill()
        down = await client.get("/metrics", headers=scraper)
        assert down.status_code == 200
        assert re.search(r"^prefstore_redis_up 0\.0$", down.text, re.M)
        assert re.search(r"^prefstore_search_lag_seconds NaN$", down.text, re.M)
