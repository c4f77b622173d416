"""Connection to Redis: timeouts, error translation, the server-side script helper.

Everything that talks to Redis goes through a client made here, so every call has a short
socket/connect timeout and a Redis failure surfaces as `Unavailable`, never as a hang. The
Lua scripts live with their only users (`customers/reader.py`, `transfer/writer.py`,
`customers/idempotency.py`).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from redis import exceptions as redis_errors
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from prefstore.errors import Unavailable
from prefstore.redis.pipelined import PipelinedConnection

Timed = Callable[[bool, float], None]
"""Told (whether it was a MULTI/EXEC transaction, seconds) after each pipeline's round trip."""


class WatchingPipeline(Pipeline):
    """redis-py's pipeline, minus one wasted round trip on an outage.

    When a command times out or the connection drops while keys are watched, redis-py closes
    the connection and raises, and then `reset` reconnects just to send `UNWATCH` — to a
    server that may still be stalled, costing a second full timeout before the caller hears
    of the outage. A closed connection holds no WATCH, so there is nothing to undo.

    With `timed` set, each `execute` (one round trip: a write's MULTI/EXEC, or a batch)
    reports its duration and whether it was a transaction (the Redis latency metric)."""

    timed: Timed | None = None

    async def reset(self) -> None:  # type: ignore[override]
        if self.watching and self.connection is not None and not self.connection.is_connected:
            self.watching = False
        await super().reset()  # type: ignore[no-untyped-call]

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        timed = self.timed
        if timed is None:
            return await super().execute(raise_on_error)
        transaction = self.is_transaction or self.explicit_transaction
        started = time.perf_counter()
        try:
            return await super().execute(raise_on_error)
        finally:
            timed(transaction, time.perf_counter() - started)


class RedisClient(Redis):
    """redis-py's client plus `reads`: one pipelined connection for the idempotent reads of
    the lookup path (see `pipelined.py`), opened on first use and closed with the client.
    None where it cannot speak the transport; readers then use the pool like everyone else.
    Its pipelines are `WatchingPipeline`s, timed by `timed` when it is set."""

    reads: PipelinedConnection | None = None
    timed: Timed | None = None

    def pipeline(self, transaction: bool = True, shard_hint: str | None = None) -> Pipeline:
        pipe = WatchingPipeline(
            self.connection_pool, self.response_callbacks, transaction, shard_hint
        )
        pipe.timed = self.timed
        return pipe

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        if self.reads is not None:
            await self.reads.close()
        await super().aclose(close_connection_pool)


def pipelined_reads(client: Redis) -> PipelinedConnection | None:
    return client.reads if isinstance(client, RedisClient) else None


def as_bytes(value: object) -> bytes:
    """redis-py types replies as `bytes | str`; with decode_responses off they are bytes."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    raise TypeError(f"expected a bulk string reply, got {type(value).__name__}")


def as_text(value: object) -> str:
    return as_bytes(value).decode()


def bytes_dict(value: object) -> dict[bytes, bytes]:
    assert isinstance(value, dict)
    return {as_bytes(k): as_bytes(v) for k, v in value.items()}


# Connection-level failures: the server is down, restarting, loading, or too slow.
OUTAGE_ERRORS: tuple[type[Exception], ...] = (
    redis_errors.ConnectionError,
    redis_errors.TimeoutError,
    redis_errors.BusyLoadingError,
    redis_errors.TryAgainError,
    OSError,
)


def connect(url: str, timeout: float, max_connections: int = 256) -> Redis:
    """A client whose every call fails within about `timeout` seconds when Redis is gone.

    One retry (no backoff) lets a pooled connection that died with a restarted Redis be
    replaced transparently; more would multiply the time a caller waits on an outage.
    """
    client = RedisClient.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 1),
        max_connections=max_connections,
        health_check_interval=0,
        decode_responses=False,
    )
    assert isinstance(client, RedisClient)
    client.reads = PipelinedConnection.for_pool(client.connection_pool, timeout)
    return client


def lost_to_outage(exc: redis_errors.WatchError) -> bool:
    """Whether a `WatchError` reports an outage rather than a watched key that changed.

    redis-py raises `WatchError` for both. A timeout or a dropped connection while keys are
    watched (during WATCH-time reads or while waiting for EXEC's reply) closes the
    connection and raises `WatchError("A TimeoutError occurred while watching …")` from
    inside the handler of that error, so the outage is its `__context__`. A real conflict
    (EXEC answered nil) is raised `from None`, with no outage behind it. Retrying the first
    as if it were the second hides an outage behind tens of seconds of retries and, when
    the EXEC did land, applies the write twice."""
    if exc.__suppress_context__:
        return False
    return isinstance(exc.__context__, OUTAGE_ERRORS)


@asynccontextmanager
async def translated_errors() -> AsyncIterator[None]:
    """Turn Redis outages into the domain's `Unavailable`."""
    try:
        yield
    except OUTAGE_ERRORS as exc:
        raise Unavailable(f"store unavailable: {type(exc).__name__}") from exc


@dataclass(frozen=True)
class Script:
    """A server-side (Lua) script, run by its digest (EVALSHA)."""

    source: str
    sha: str
    load_command: tuple[bytes, bytes, str]
    """SCRIPT LOAD of the source: sent first on a connection that runs the script by
    digest, since a Redis that restarted has no script cache. Built once, with the digest."""

    @classmethod
    def of(cls, source: str) -> Script:
        # The digest Redis caches a script under (what redis-py's register_script computes).
        sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()
        return cls(source, sha, (b"SCRIPT", b"LOAD", source))


async def server_info(client: Redis) -> dict[str, Any]:
    """Version and persistence of the server (empty answers where INFO is not offered)."""
    try:
        async with translated_errors():
            info: dict[str, Any] = await client.info("server")
            persistence: dict[str, Any] = await client.info("persistence")
    except redis_errors.ResponseError:
        info, persistence = {}, {}
    return {
        "redis_version": info.get("redis_version"),
        "aof_enabled": bool(persistence.get("aof_enabled")),
    }
