"""The embedded Redis: starts with AOF on, keeps data across restarts, stops on exit."""

from __future__ import annotations

import asyncio
import stat
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


async def test_the_data_directory_is_private_to_its_user(short_dir: Path) -> None:
    """Found item 12: the data directory was 0755 and the AOF 0644 (world-readable)."""
    data = short_dir / "data"
    data.mkdir(mode=0o755)
    (data / "left-by-an-old-start.aof").write_bytes(b"x")
    (data / "left-by-an-old-start.aof").chmod(0o644)
    async with EmbeddedRedis(data) as url:
        client = Redis.from_url(url)
        await client.set("written", "yes")
        assert await client.bgrewriteaof()  # new files: the rewrite's, the manifest (7)
        for _ in range(100):
            if not (await client.info("persistence"))["aof_rewrite_in_progress"]:
                break
            await asyncio.sleep(0.02)
        await client.aclose()
        modes = {
            str(path.relative_to(data)): stat.S_IMODE(path.stat().st_mode)
            for path in [data, *data.rglob("*")]
            if not path.is_socket()
        }
    assert any(name.endswith(".aof") for name in modes if "old" not in name), modes
    for name, mode in modes.items():
        wanted = 0o700 if (data / name).is_dir() else 0o600
        assert mode == wanted, f"{name}: {oct(mode)}"
