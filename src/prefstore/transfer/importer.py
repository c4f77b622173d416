"""The importer: stream rows in, write them in batches, report. One engine for the CLI and
the HTTP endpoint; neither holds the whole input.

A row's way: `readers.read_rows` (bytes -> parsed rows), `rows.convert` (-> a validated
change; in worker processes with `workers` > 0), `writer.BatchWriter` (-> Redis).

The HTTP endpoint runs an import in a child process (`child.run_apart`), so the row work
never competes with lookups for the server's GIL. `run_beside` is its fallback for a store
another process cannot reach (fakeredis in tests): a thread of its own, with its own event
loop and Redis connection, which holds the loop serving lookups for no longer than the
interpreter's switch interval at a time.

Bounded on any input: the decompressed bytes (`max_bytes`), the rejections listed in the
summary (`max_listed`; `rejected` counts all of them, the CLI's rejects file has each one).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, Protocol

from redis.asyncio import ConnectionPool, Redis

from prefstore.customers.names import Nicknames
from prefstore.customers.transaction import Storage
from prefstore.errors import InvalidInput, Unavailable
from prefstore.models.results import ImportSummary, RowRejection
from prefstore.redis.connection import as_bytes, translated_errors
from prefstore.transfer import rows as rowmod
from prefstore.transfer.duplicates import DuplicateFinder
from prefstore.transfer.mapping import Mapping, ResolvedMapping
from prefstore.transfer.merge import RowResult
from prefstore.transfer.readers import Format, read_rows
from prefstore.transfer.workers import Converted, Parsed, converted_in_workers
from prefstore.transfer.writer import BatchWriter

DEFAULT_BATCH = 1000
MAX_BATCH = 5000
MAX_LISTED_REJECTIONS = 1000
"""Rejections an HTTP response lists: a file of a million bad lines answers with the first
thousand and the count, not a response larger than the file."""
_MAPPING_CACHE = 256

PROGRESS_ROWS = 1000
"""An import reports its running totals every this many rows read, and once at the end."""

SaltSource = Callable[[], Awaitable[bytes]]
"""The deployment's suppression salt, created when missing (`CustomerStore.suppression_salt`)."""


Progress = Callable[[int, int], None]
"""Told an import's running totals: rows read, rows rejected (the HTTP layer's metrics)."""


class RejectSink(Protocol):
    def reject(self, line: int, raw: Any, header: list[str] | None, why: RowRejection) -> None: ...


@dataclass
class ImportOptions:
    mapping: Mapping = field(default_factory=Mapping)
    format: Format | None = None
    """None: recognised from the first bytes (`readers.sniffed`)."""
    dry_run: bool = False
    batch_size: int = DEFAULT_BATCH
    actor: str = "import"
    keep_rejections: bool = False
    """Also list every rejection in the summary (the HTTP response); the CLI writes a file."""
    retry_seconds: float = 60.0
    """How long a batch is retried while Redis is unavailable before the import gives up."""
    workers: int = 0
    """Processes turning rows into changes beside the event loop (0: in this process)."""
    max_bytes: int | None = None
    """Decompressed input bytes accepted (None: no limit, the CLI's own files)."""
    max_listed: int = MAX_LISTED_REJECTIONS
    """Rejections listed in the summary when `keep_rejections` (the rest are counted)."""


class Importer:
    """Imports into the store's `storage` (the same client, keys, card rendering and clock),
    phones read in `region`. Each `run` imports one stream."""

    def __init__(
        self,
        storage: Storage,
        *,
        region: str,
        salt: SaltSource,
        nicknames: Nicknames | None = None,
    ) -> None:
        self.storage = storage
        self.redis, self.keys = storage.redis, storage.keys
        self.region = region
        self.salt = salt
        # The deployment's added nicknames, for the dry run's duplicate hints (as in search).
        self.nicknames = nicknames

    async def run(
        self,
        chunks: AsyncIterator[bytes],
        options: ImportOptions,
        rejects: RejectSink | None = None,
        on_rows: Callable[[int], None] | None = None,
        progress: Progress | None = None,
    ) -> ImportSummary:
        started = time.perf_counter()
        summary = ImportSummary(dry_run=options.dry_run, preset=options.mapping.preset)
        writer = BatchWriter(
            self.storage,
            actor=options.actor,
            salt=await self.salt_for(options.dry_run),
            dry_run=options.dry_run,
        )
        duplicates = None
        if options.dry_run:
            duplicates = await DuplicateFinder.load(self.redis, self.keys, self.nicknames)
        listed = options.max_listed if options.keep_rejections else 0
        report = _Report(summary, rejects, listed, duplicates)
        columns = _Columns(options.mapping)
        batch_size = max(1, min(options.batch_size, MAX_BATCH))
        batch: list[rowmod.Incoming] = []
        # aclosing: a failed import shuts a worker pool down at once, not at loop exit.
        async with aclosing(self._converted(chunks, options, columns, report)) as converted:
            async for line, raw, result in converted:
                summary.rows += 1
                if progress is not None and summary.rows % PROGRESS_ROWS == 0:
                    progress(summary.rows, summary.rejected)
                if isinstance(result, InvalidInput):
                    report.rejected(line, None if isinstance(raw, InvalidInput) else raw, result)
                    continue
                batch.append(result)
                if len(batch) >= batch_size:
                    await self._flush(writer, batch, report, options.retry_seconds, on_rows)
                    batch = []
        if batch:
            await self._flush(writer, batch, report, options.retry_seconds, on_rows)
        if progress is not None:
            progress(summary.rows, summary.rejected)
        summary.unknown_columns = list(columns.unknown)
        if summary.preset == "auto" and columns.resolved:
            summary.preset = next(iter(columns.resolved.values())).preset
        summary.seconds = round(time.perf_counter() - started, 3)
        summary.rows_per_second = round(summary.rows / summary.seconds, 1) if summary.seconds else 0
        return summary

    async def run_beside(
        self, chunks: AsyncIterator[bytes], options: ImportOptions, progress: Progress | None = None
    ) -> ImportSummary:
        """`run` on a thread with its own event loop and Redis connection (see the module
        docstring); `chunks` are still read on the calling loop."""
        salt = await self.salt_for(options.dry_run)
        caller = asyncio.get_running_loop()

        async def own_loop() -> ImportSummary:
            redis = _same_server(self.redis)
            try:
                storage = dataclasses.replace(self.storage, redis=redis)
                importer = Importer(
                    storage, region=self.region, salt=lambda: _given(salt), nicknames=self.nicknames
                )
                return await importer.run(_bridged(chunks, caller), options, progress=progress)
            finally:
                await redis.aclose()

        return await asyncio.to_thread(asyncio.run, own_loop())

    async def salt_for(self, dry_run: bool) -> bytes:
        """The suppression salt this import checks erased people with."""
        if not dry_run:
            return await self.salt()
        # A dry run must not even create the salt; without one nobody was ever erased.
        async with translated_errors():
            salt = await self.redis.get(self.keys.suppression_salt)
        return as_bytes(salt) if salt is not None else b""

    async def _converted(
        self,
        chunks: AsyncIterator[bytes],
        options: ImportOptions,
        columns: _Columns,
        report: _Report,
    ) -> AsyncGenerator[Converted, None]:
        """(line, raw row, its change or the InvalidInput naming the column), in input order."""
        parsed = _parsed(chunks, options, columns, report)
        if options.workers > 0:
            pooled = converted_in_workers(parsed, self.region, options.workers)
            async with aclosing(pooled) as results:
                async for item in results:
                    yield item
            return
        region = self.region
        async for line, raw, mapping in parsed:
            yield line, raw, rowmod.convert(line, raw, mapping, region)

    async def _flush(
        self,
        writer: BatchWriter,
        batch: list[rowmod.Incoming],
        report: _Report,
        retry_seconds: float,
        on_rows: Callable[[int], None] | None,
    ) -> None:
        results = await _write_retrying(writer, batch, retry_seconds)
        for incoming, result in zip(batch, results, strict=True):
            report.result(incoming, result)
        if on_rows is not None:
            on_rows(len(batch))


def _same_server(redis: Redis) -> Redis:
    """A new client for the server `redis` talks to, for another event loop."""
    pool = redis.connection_pool
    # from_pool: the client owns the pool, so closing it closes the connections too.
    return Redis.from_pool(
        ConnectionPool(connection_class=pool.connection_class, **pool.connection_kwargs)
    )


async def _given(salt: bytes) -> bytes:
    return salt


async def _bridged(
    chunks: AsyncIterator[bytes], loop: asyncio.AbstractEventLoop
) -> AsyncIterator[bytes]:
    """`chunks` (read on `loop`) for a coroutine running on another loop."""

    async def following() -> bytes | None:
        return await anext(chunks, None)

    while True:
        chunk = await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(following(), loop))
        if chunk is None:
            return
        yield chunk


async def _parsed(
    chunks: AsyncIterator[bytes], options: ImportOptions, columns: _Columns, report: _Report
) -> AsyncIterator[Parsed]:
    async for header, rows, encoding in read_rows(chunks, options.format, options.max_bytes):
        report.header = header
        report.summary.encoding = encoding
        for line, raw in rows:
            yield line, raw, columns.mapping_for(raw, header)


async def _write_retrying(
    writer: BatchWriter, batch: list[rowmod.Incoming], retry_seconds: float
) -> list[RowResult]:
    """Redis restarting mid-file: the batch is redone (it is idempotent) until Redis is back
    or `retry_seconds` pass."""
    deadline = time.monotonic() + retry_seconds
    pause = 0.05
    while True:
        try:
            return await writer.write(batch)
        except Unavailable:
            if time.monotonic() + pause > deadline:
                raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, 1.0)


class _Columns:
    """The mapping resolved for each header seen, in input order, so unknown columns are
    listed as they appear."""

    def __init__(self, mapping: Mapping) -> None:
        self.mapping = mapping
        self.resolved: dict[tuple[str, ...], ResolvedMapping] = {}
        self.unknown: dict[str, None] = {}

    def mapping_for(self, raw: Any, header: list[str] | None) -> ResolvedMapping | None:
        """None for a row the reader rejected and for an export line (restored whole)."""
        if isinstance(raw, InvalidInput):
            return None
        if isinstance(raw, dict):
            if isinstance(raw.get("customer"), dict):
                return None
            return self._resolve(list(raw))
        assert header is not None
        return self._resolve(header)

    def _resolve(self, header: list[str]) -> ResolvedMapping:
        key = tuple(header)
        found = self.resolved.get(key)
        if found is None:
            if len(self.resolved) >= _MAPPING_CACHE:
                self.resolved.clear()
            found = self.mapping.resolve(header)
            self.resolved[key] = found
            self.unknown.update(dict.fromkeys(found.unknown))
        return found


class _Report:
    def __init__(
        self,
        summary: ImportSummary,
        sink: RejectSink | None,
        listed: int,
        duplicates: DuplicateFinder | None,
    ) -> None:
        self.summary = summary
        self.sink = sink
        self.listed = listed
        self.duplicates = duplicates
        self.header: list[str] | None = None

    def rejected(self, line: int, raw: Any, exc: InvalidInput) -> None:
        why = RowRejection(line=line, field=exc.field, reason=exc.reason)
        self.summary.rejected += 1
        if len(self.summary.rejections) < self.listed:
            self.summary.rejections.append(why)
        elif self.listed:
            self.summary.rejections_truncated = True
        if self.sink is not None:
            self.sink.reject(line, raw, self.header, why)

    def result(self, incoming: rowmod.Incoming, result: RowResult) -> None:
        if result.outcome == "rejected":
            assert result.rejection is not None
            self.rejected(incoming.line, incoming.raw, result.rejection)
            return
        summary = self.summary
        setattr(summary, result.outcome, getattr(summary, result.outcome) + 1)
        if self.duplicates is not None and result.outcome == "created":
            found = self.duplicates.check(incoming)
            if found is not None:
                summary.duplicates.append(found)
