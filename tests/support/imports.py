"""Helpers shared by the import/export tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import Redis

from prefstore.customers.store import CustomerStore
from prefstore.models.results import ImportSummary, RowRejection
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


def importer_for(store: CustomerStore) -> Importer:
    """An importer writing where `store` writes, as `Services.build` wires it."""
    return Importer(store.storage, region=store.region, salt=store.suppression_salt)


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
    return await importer_for(store).run(
        chunks(raw), ImportOptions(mapping=mapping, **options), rejects=sink
    )


async def export_bytes(redis: Redis, store: CustomerStore) -> bytes:
    return b"".join([line async for line in export_lines(redis, store.keys)])
