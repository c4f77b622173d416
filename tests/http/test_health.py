"""Readiness reports what serves the process: `prefstore serve` really runs on uvloop."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

import httpx
import pytest
from litestar.testing import AsyncTestClient

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
