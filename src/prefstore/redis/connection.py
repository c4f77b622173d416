"""Connection to Redis: timeouts, error translation, the server-side script helper.

Everything that talks to Redis goes through a client made here, so every call has a short
socket/connect timeout and a Redis failure surfaces as `Unavailable`, never as a hang. The
two Lua scripts live with their only users (`customers/reader.py`, `transfer/writer.py`).
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from redis import exceptions as redis_errors
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from prefstore.errors import Unavailable
from prefstore.redis.pipelined import PipelinedConnection


class RedisClient(Redis):
    """redis-py's client plus `reads`: one pipelined connection for the idempotent reads of
    the lookup path (see `pipelined.py`), opened on first use and closed with the client.
    None where it cannot speak the transport; readers then use the pool like everyone else."""

    reads: PipelinedConnection | None = None

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
