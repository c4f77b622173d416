"""The embedded Redis: starts with AOF on, keeps data across restarts, stops on exit."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from prefstore.redis.embedded import EmbeddedRedis

pytestmark = pytest.mark.real_redis


@pytest.fixture
def short_dir() -> Iterator[Path]:
    # Unix socket paths are limited to ~100 bytes: pytest's tmp_path can be too long.
    with tempfile.TemporaryDirectory(prefix="ps-") as name:
        yield Path(name)


async def test_embedded_redis_persists_with_aof_and_stops(short_dir: Path) -> None:
    embedded = EmbeddedRedis(short_dir / "data")
    async with embedded as url:
        client = Redis.from_url(url)
        assert await client.config_get("appendonly") == {"appendonly": "yes"}
        await client.set("kept", "yes")
        await client.aclose()
        process = embedded._process
        assert process is not None
    assert process.returncode is not None, "redis-server still running after exit"
    assert (short_dir / "data" / "redis.log").exists()

    async with EmbeddedRedis(short_dir / "data") as url:
        client = Redis.from_url(url)
        assert await client.get("kept") == b"yes"
        await client.aclose()


async def test_second_user_shares_a_running_server(short_dir: Path) -> None:
    first = EmbeddedRedis(short_dir)
    async with first as url:
        second = EmbeddedRedis(short_dir)
        assert await second.start() == url
        await second.stop()  # not its server: must leave it running
        client = Redis.from_url(url)
        assert await client.ping()
        await client.aclose()
