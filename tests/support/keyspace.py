"""Read back everything under a key prefix: to compare states, or to search for a value."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis


def is_rate_counter(key: bytes, prefix: str) -> bool:
    """Rate-limit counters (`KeySpace.rate_counter`) count requests, they are not data: every
    request changes them, so state comparisons leave them out."""
    return key.startswith(f"{prefix}rl:".encode())


async def snapshot(redis: Redis, prefix: str) -> dict[bytes, Any]:
    """Every key under the prefix with its value, comparable between runs: sets sorted,
    sorted sets with their scores, stream entries without their ids."""
    state: dict[bytes, Any] = {}
    async for key in redis.scan_iter(match=f"{prefix}*", count=1000):
        if is_rate_counter(key, prefix):
            continue
        kind = _text(await redis.type(key))
        if kind == "string":
            state[key] = await redis.get(key)
        elif kind == "hash":
            state[key] = await redis.hgetall(key)
        elif kind == "zset":
            state[key] = await redis.zrange(key, 0, -1, withscores=True)
        elif kind == "set":
            state[key] = sorted(await redis.smembers(key))
        elif kind == "list":
            state[key] = await redis.lrange(key, 0, -1)
        elif kind == "stream":
            state[key] = [fields for _id, fields in await redis.xrange(key) or []]
        elif kind != "none":  # "none": deleted between SCAN and TYPE
            raise AssertionError(f"unexpected key type {kind} at {key!r}")
    return state


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def blobs(state: dict[bytes, Any]) -> list[bytes]:
    """Every key name, field and value in a snapshot, as raw bytes (scores left out)."""
    found: list[bytes] = []

    def walk(item: Any) -> None:
        if isinstance(item, bytes):
            found.append(item)
        elif isinstance(item, dict):
            for field, value in item.items():
                walk(field)
                walk(value)
        elif isinstance(item, list | tuple):
            for part in item:
                walk(part)

    for key, value in state.items():
        found.append(key)
        walk(value)
    return found
