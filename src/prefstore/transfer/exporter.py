"""`prefstore export`: every customer as NDJSON, in the format `prefstore import` restores.

One line per customer: `{"customer": <record without its version>, "events": [...]}`. The
version is the store's own concurrency counter, not data. Lines come sorted by customer id
so two stores holding the same customers export identical bytes. Memory stays bounded: the
ids from SCAN are sorted in runs spilled to temporary files and merged, and records are
fetched a batch at a time. `export_file` writes a file whole or not at all.
"""

from __future__ import annotations

import gzip
import heapq
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, Any, Protocol

import msgspec
from redis.asyncio import Redis

from prefstore.redis.connection import as_bytes, as_text, translated_errors
from prefstore.redis.keyspace import KeySpace, decode_record

SCAN_COUNT = 1000
FETCH_BATCH = 500
RUN_SIZE = 200_000
"""Ids sorted in memory at a time (~15 MB); more spill to another temporary run."""

_encoder = msgspec.json.Encoder()


async def _sorted_ids(redis: Redis, keys: KeySpace, stack: ExitStack) -> Iterator[str]:
    runs: list[IO[str]] = []
    ids: list[str] = []

    def spill() -> None:
        run = stack.enter_context(tempfile.TemporaryFile("w+", encoding="utf-8"))  # noqa: SIM115
        run.writelines(f"{i}\n" for i in sorted(ids))
        run.seek(0)
        runs.append(run)
        ids.clear()

    async with translated_errors():
        async for key in redis.scan_iter(match=keys.record_pattern(), count=SCAN_COUNT):
            ids.append(keys.customer_id_from_record_key(as_text(key)))
            if len(ids) >= RUN_SIZE:
                spill()
    if not runs:
        return iter(sorted(ids))
    if ids:
        spill()
    merged = heapq.merge(*[(line.rstrip("\n") for line in run) for run in runs])
    # SCAN may return a key twice (rehashing): drop repeats, which sort next to each other.
    return _distinct(merged)


def _distinct(ids: Iterator[str]) -> Iterator[str]:
    last = None
    for i in ids:
        if i != last:
            yield i
        last = i


def export_line(record_raw: bytes, events_raw: list[Any]) -> bytes:
    record = msgspec.to_builtins(decode_record(record_raw))
    del record["version"]
    events = [msgspec.msgpack.decode(as_bytes(e)) for e in events_raw]
    return _encoder.encode({"customer": record, "events": events}) + b"\n"


async def export_lines(redis: Redis, keys: KeySpace) -> AsyncIterator[bytes]:
    """Every customer, one NDJSON line each, in customer-id order."""
    with ExitStack() as stack:
        ids = await _sorted_ids(redis, keys, stack)
        while batch := [i for _, i in zip(range(FETCH_BATCH), ids, strict=False)]:
            async with translated_errors():
                pipe = redis.pipeline(transaction=False)
                pipe.mget([keys.record(i) for i in batch])
                for i in batch:
                    pipe.zrange(keys.events(i), 0, -1)
                replies = await pipe.execute()
            for raw, events in zip(replies[0], replies[1:], strict=True):
                if raw is not None:  # erased since the scan
                    yield export_line(as_bytes(raw), events)


class Writable(Protocol):
    def write(self, data: bytes, /) -> object: ...


async def export_to(redis: Redis, keys: KeySpace, out: Writable) -> int:
    """`prefstore export`: every line written to `out`; returns how many customers."""
    count = 0
    async for line in export_lines(redis, keys):
        out.write(line)
        count += 1
    return count


async def export_file(redis: Redis, keys: KeySpace, path: Path) -> int:
    """`export_to` a file (gzipped when its name ends in `.gz`), whole or not at all: a failed
    export (Redis gone, disk full, interrupted) leaves `path` as it was, missing or the
    previous export, and no partial file (`_whole_or_nothing`)."""
    with _whole_or_nothing(path) as out:
        return await export_to(redis, keys, out)


@contextmanager
def _whole_or_nothing(path: Path) -> Iterator[Writable]:
    """A file written under a temporary name beside `path` and renamed over it once the
    block ends without an error (else removed). Readable by its owner only: it holds every
    customer."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with open(handle, "wb") as raw:
            if path.suffix == ".gz":
                # The name the gzip header records is the final one, not the temporary one.
                with gzip.GzipFile(filename=path.name, mode="wb", fileobj=raw) as packed:
                    yield packed
            else:
                yield raw
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
