"""The pipelined read connection of the lookup path, against real redis-servers.

It batches the commands of concurrent callers on one connection, so these tests check what
could go wrong with that: replies reaching the wrong caller (concurrency, cancellation,
errors), and outages (restart, stall, down) — fast failures and recovery on their own.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis import exceptions as redis_errors
from redis.asyncio import Redis

from prefstore.redis.connection import RedisClient, connect, pipelined_reads
from prefstore.redis.pipelined import PipelinedConnection
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.real_redis
TIMEOUT = 0.5


@pytest.fixture
async def shared(redis_server: RedisServer) -> AsyncIterator[tuple[Redis, PipelinedConnection]]:
    client = connect(redis_server.url, TIMEOUT)
    reads = pipelined_reads(client)
    assert reads is not None
    yield client, reads
    await client.aclose()


async def test_concurrent_reads_each_get_their_own_reply(
    shared: tuple[Redis, PipelinedConnection],
) -> None:
    client, reads = shared
    keys = [f"pipelined:{n}" for n in range(300)]
    await client.mset({key: f"value-{n}".encode() for n, key in enumerate(keys)})
    replies = await asyncio.gather(*(reads.execute("GET", key) for key in keys))
    assert replies == [f"value-{n}".encode() for n in range(300)]
    assert await reads.execute("HMGET", "pipelined:none", "a", "b") == [None, None]
    await client.delete(*keys)


async def test_cancelled_callers_do_not_shift_replies(
    shared: tuple[Redis, PipelinedConnection],
) -> None:
    client, reads = shared
    await client.mset({f"cancel:{n}": str(n) for n in range(100)})
    tasks = [asyncio.create_task(reads.execute("GET", f"cancel:{n}")) for n in range(100)]
    await asyncio.sleep(0)  # every command is queued
    for task in tasks[::3]:
        task.cancel()
    for n, task in enumerate(tasks):
        if n % 3:
            assert await task == str(n).encode()
    assert await reads.execute("GET", "cancel:42") == b"42"
    await client.delete(*(f"cancel:{n}" for n in range(100)))


async def test_an_error_reply_is_raised_to_its_caller_only(
    shared: tuple[Redis, PipelinedConnection],
) -> None:
    client, reads = shared
    await client.set("err:string", "x")
    wrong, right = await asyncio.gather(
        reads.execute("HGET", "err:string", "f"), reads.execute("GET", "err:string"),
        return_exceptions=True,
    )  # fmt: skip
    assert isinstance(wrong, redis_errors.ResponseError)
    assert "WRONGTYPE" in str(wrong)
    assert right == b"x"
    with pytest.raises(redis_errors.NoScriptError):
        await reads.execute("EVALSHA", "0" * 40, 0)
    await client.delete("err:string")


async def test_database_number_and_password_from_the_url(own_server: RedisServer) -> None:
    admin = connect(own_server.url, TIMEOUT)
    await admin.config_set("requirepass", "s3cret")
    await admin.aclose()
    url = f"redis://:s3cret@127.0.0.1:{own_server.port}/3"
    client = connect(url, TIMEOUT)
    await client.set("in-db-3", "yes")
    reads = pipelined_reads(client)
    assert reads is not None
    assert await reads.execute("GET", "in-db-3") == b"yes"
    assert await reads.execute("CLIENT", "INFO") is not None
    await client.aclose()

    wrong = connect(f"redis://:nope@127.0.0.1:{own_server.port}/3", TIMEOUT)
    with pytest.raises(redis_errors.AuthenticationError):
        await pipelined_reads(wrong).execute("GET", "in-db-3")  # type: ignore[union-attr]
    await wrong.aclose()


async def test_a_restarted_redis_costs_no_error(own_server: RedisServer) -> None:
    client = connect(own_server.url, TIMEOUT)
    await client.set("survives", "1")
    reads = pipelined_reads(client)
    assert reads is not None
    assert await reads.execute("GET", "survives") == b"1"
    own_server.stop()  # clean shutdown: the AOF keeps the key
    own_server.start()
    assert await reads.execute("GET", "survives") == b"1"  # the dead connection is replaced
    await client.aclose()


async def test_redis_down_fails_fast_then_recovers(own_server: RedisServer) -> None:
    client = connect(own_server.url, TIMEOUT)
    reads = pipelined_reads(client)
    assert reads is not None
    await client.set("k", "v")
    assert await reads.execute("GET", "k") == b"v"
    own_server.kill()
    started = time.monotonic()
    with pytest.raises(redis_errors.ConnectionError):
        await reads.execute("GET", "k")
    assert time.monotonic() - started < TIMEOUT * 3
    own_server.start()
    assert await reads.execute("GET", "k") == b"v"
    await client.aclose()


async def test_a_stalled_redis_fails_within_the_timeout(own_server: RedisServer) -> None:
    client = connect(own_server.url, TIMEOUT)
    reads = pipelined_reads(client)
    assert reads is not None and own_server.process is not None
    await client.set("k", "v")
    assert await reads.execute("GET", "k") == b"v"
    os.kill(own_server.process.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        async with asyncio.timeout(5):  # a missing watchdog fails here, not by hanging
            results = await asyncio.gather(
                *(reads.execute("GET", "k") for _ in range(5)), return_exceptions=True
            )
        elapsed = time.monotonic() - started
    finally:
        os.kill(own_server.process.pid, signal.SIGCONT)
    assert all(isinstance(r, redis_errors.TimeoutError) for r in results), results
    assert TIMEOUT * 0.9 <= elapsed < TIMEOUT * 2.5
    assert await reads.execute("GET", "k") == b"v"  # a fresh connection once Redis answers
    await client.aclose()


async def test_unix_socket_url_gets_a_pipelined_connection(tmp_path: Path) -> None:
    from prefstore.redis.embedded import EmbeddedRedis

    async with EmbeddedRedis(tmp_path / "data") as url:
        client = connect(url, TIMEOUT)
        await client.set("over-unix", "1")
        reads = pipelined_reads(client)
        assert reads is not None
        assert await reads.execute("GET", "over-unix") == b"1"
        await client.aclose()


def test_only_transports_it_speaks_get_one() -> None:
    assert isinstance(connect("redis://127.0.0.1:1/0", TIMEOUT), RedisClient)
    assert pipelined_reads(connect("rediss://127.0.0.1:1/0", TIMEOUT)) is None
    assert pipelined_reads(Redis()) is None  # a plain redis-py client: the pool is used
