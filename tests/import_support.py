"""Helpers shared by the import/export tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import Redis

from prefstore.customers.store import CustomerStore
from prefstore.models import ImportSummary, RowRejection
from prefstore.transfer import Importer, ImportOptions, Mapping
from prefstore.transfer.exporter import export_lines


async def chunks(data: bytes, size: int = 97) -> AsyncIterator[bytes]:
    """Odd-sized chunks, so rows straddle chunk boundaries."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


class Sink:
    def __init__(self) -> None:
        self.rows: list[tuple[int, Any, RowRejection]] = []

    def reject(self, line: int, raw: Any, header: list[str] | None, why: RowRejection) -> None:
        self.rows.append((line, raw, why))


async def run_import(
    store: CustomerStore,
    data: str | bytes,
    sink: Sink | None = None,
    **options: Any,
) -> ImportSummary:
    mapping = options.pop("mapping", None) or Mapping.build(
        options.pop("preset", "auto"), options.pop("map_file", None), options.pop("columns", ())
    )
    options.setdefault("keep_rejections", True)
    raw = data.encode() if isinstance(data, str) else data
    return await Importer(store, ImportOptions(mapping=mapping, **options)).run(
        chunks(raw), rejects=sink
    )


async def export_bytes(redis: Redis, store: CustomerStore) -> bytes:
    return b"".join([line async for line in export_lines(redis, store.keys)])


async def snapshot(redis: Redis, prefix: str) -> dict[bytes, Any]:
    """Every key under the prefix with its value; stream entries without their ids."""
    state: dict[bytes, Any] = {}
    async for key in redis.scan_iter(match=f"{prefix}*", count=1000):
        kind = (await redis.type(key)).decode()
        if kind == "string":
            state[key] = await redis.get(key)
        elif kind == "hash":
            state[key] = await redis.hgetall(key)
        elif kind == "zset":
            state[key] = await redis.zrange(key, 0, -1, withscores=True)
        elif kind == "set":
            state[key] = sorted(await redis.smembers(key))
        elif kind == "stream":
            state[key] = [fields for _id, fields in await redis.xrange(key)]
    return state
