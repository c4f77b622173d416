"""The importer: stream rows in, write them in batches, report. One engine for the CLI and
the HTTP endpoint; neither holds the whole input.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, Protocol

from prefstore.customers.store import CustomerStore
from prefstore.errors import InvalidInput, Unavailable
from prefstore.models import ImportSummary, RowRejection
from prefstore.redis.connection import as_bytes, translated_errors
from prefstore.transfer import rows as rowmod
from prefstore.transfer.convert import Converter, Parsed, convert_one
from prefstore.transfer.duplicates import DuplicateFinder
from prefstore.transfer.mapping import Mapping, ResolvedMapping
from prefstore.transfer.readers import (
    CsvParser,
    Format,
    NdjsonParser,
    decompressed,
    lines,
    sniff_format,
)
from prefstore.transfer.writer import BatchWriter, RowResult

DEFAULT_BATCH = 1000
MAX_BATCH = 5000
_MAPPING_CACHE = 256


class RejectSink(Protocol):
    def reject(self, line: int, raw: Any, header: list[str] | None, why: RowRejection) -> None: ...


@dataclass
class ImportOptions:
    mapping: Mapping = field(default_factory=Mapping)
    format: Format | None = None
    """None: recognised from the first bytes (`{` starts NDJSON)."""
    dry_run: bool = False
    batch_size: int = DEFAULT_BATCH
    actor: str = "import"
    keep_rejections: bool = False
    """Also list every rejection in the summary (the HTTP response); the CLI writes a file."""
    retry_seconds: float = 60.0
    """How long a batch is retried while Redis is unavailable before the import gives up."""
    workers: int = 0
    """Processes turning rows into changes beside the event loop (0: in this process). The
    CLI uses one; the HTTP endpoint converts in the server process."""


class Importer:
    def __init__(self, store: CustomerStore, options: ImportOptions) -> None:
        self.store = store
        self.options = options
        self.options.batch_size = max(1, min(options.batch_size, MAX_BATCH))
        self._mappings: dict[tuple[str, ...], ResolvedMapping] = {}
        self._unknown: dict[str, None] = {}
        self._duplicates: DuplicateFinder | None = None

    async def run(
        self,
        chunks: AsyncIterator[bytes],
        rejects: RejectSink | None = None,
        on_rows: Callable[[int], None] | None = None,
    ) -> ImportSummary:
        started = time.perf_counter()
        opts = self.options
        summary = ImportSummary(dry_run=opts.dry_run, preset=opts.mapping.preset)
        writer = BatchWriter(
            self.store.redis,
            self.store.keys,
            actor=opts.actor,
            notes_on_card=self.store.notes_on_card,
            clock=self.store.clock,
            salt=await self._salt(),
            dry_run=opts.dry_run,
        )
        if opts.dry_run:
            self._duplicates = await DuplicateFinder.load(self.store.redis, self.store.keys)
        report = _Report(summary, rejects, opts.keep_rejections)
        stream = _peeked(decompressed(chunks))
        fmt = opts.format or await stream.sniff()
        parser: CsvParser | NdjsonParser = CsvParser() if fmt == "csv" else NdjsonParser()
        batch: list[rowmod.Incoming] = []
        converter = Converter(self.store.region, opts.workers)
        # aclosing: a failed import shuts the worker pool down at once, not at loop exit.
        async with aclosing(converter.results(self._parsed(stream, parser, report))) as results:
            async for line, raw, result in results:
                summary.rows += 1
                if isinstance(result, InvalidInput):
                    report.rejected(line, None if isinstance(raw, InvalidInput) else raw, result)
                else:
                    batch.append(result)
                if len(batch) >= opts.batch_size:
                    await self._flush(writer, batch, report, on_rows)
                    batch = []
        for line, raw in parser.finish():
            summary.rows += 1
            result = convert_one(line, raw, self._mapping_for(raw, parser), self.store.region)
            if isinstance(result, InvalidInput):
                report.rejected(line, None if isinstance(raw, InvalidInput) else raw, result)
        if batch:
            await self._flush(writer, batch, report, on_rows)
        summary.unknown_columns = list(self._unknown)
        if summary.preset == "auto" and self._mappings:
            summary.preset = next(iter(self._mappings.values())).preset
        summary.seconds = round(time.perf_counter() - started, 3)
        summary.rows_per_second = round(summary.rows / summary.seconds, 1) if summary.seconds else 0
        return summary

    async def _salt(self) -> bytes:
        if not self.options.dry_run:
            return await self.store.suppression_salt()
        # A dry run must not even create the salt; without one nobody was ever erased.
        async with translated_errors():
            salt = await self.store.redis.get(self.store.keys.suppression_salt)
        return as_bytes(salt) if salt is not None else b""

    async def _parsed(
        self, stream: AsyncIterable[bytes], parser: CsvParser | NdjsonParser, report: _Report
    ) -> AsyncIterator[Parsed]:
        async for line_batch in lines(stream):
            for line, raw in [*parser.feed(line_batch)]:
                report.header = parser.header
                yield line, raw, self._mapping_for(raw, parser)

    def _mapping_for(self, raw: Any, parser: CsvParser | NdjsonParser) -> ResolvedMapping | None:
        """Resolved here, in input order, so unknown columns are listed as they appear."""
        if isinstance(raw, InvalidInput):
            return None
        if isinstance(raw, dict):
            if isinstance(raw.get("customer"), dict):
                return None  # an export line: restored whole
            return self._mapping(list(raw))
        assert parser.header is not None
        return self._mapping(parser.header)

    def _mapping(self, header: list[str]) -> ResolvedMapping:
        key = tuple(header)
        found = self._mappings.get(key)
        if found is None:
            if len(self._mappings) >= _MAPPING_CACHE:
                self._mappings.clear()
            found = self.options.mapping.resolve(header)
            self._mappings[key] = found
            self._unknown.update(dict.fromkeys(found.unknown))
        return found

    async def _flush(
        self,
        writer: BatchWriter,
        batch: list[rowmod.Incoming],
        report: _Report,
        on_rows: Callable[[int], None] | None,
    ) -> None:
        results = await self._write_retrying(writer, batch)
        for incoming, result in zip(batch, results, strict=True):
            report.result(incoming, result)
            if self._duplicates is not None and result.outcome == "created":
                found = self._duplicates.check(incoming)
                if found is not None:
                    report.summary.duplicates.append(found)
        if on_rows is not None:
            on_rows(len(batch))

    async def _write_retrying(
        self, writer: BatchWriter, batch: list[rowmod.Incoming]
    ) -> list[RowResult]:
        """Redis restarting mid-file: the batch is redone (it is idempotent) until Redis is
        back or `retry_seconds` pass."""
        deadline = time.monotonic() + self.options.retry_seconds
        pause = 0.05
        while True:
            try:
                return await writer.write(batch)
            except Unavailable:
                if time.monotonic() + pause > deadline:
                    raise
                await asyncio.sleep(pause)
                pause = min(pause * 2, 1.0)


class _Report:
    def __init__(self, summary: ImportSummary, sink: RejectSink | None, keep: bool) -> None:
        self.summary = summary
        self.sink = sink
        self.keep = keep
        self.header: list[str] | None = None

    def rejected(self, line: int, raw: Any, exc: InvalidInput) -> None:
        why = RowRejection(line=line, field=exc.field, reason=exc.reason)
        self.summary.rejected += 1
        if self.keep:
            self.summary.rejections.append(why)
        if self.sink is not None:
            self.sink.reject(line, raw, self.header, why)

    def result(self, incoming: rowmod.Incoming, result: RowResult) -> None:
        if result.outcome == "rejected":
            assert result.rejection is not None
            self.rejected(incoming.line, incoming.raw, result.rejection)
            return
        summary = self.summary
        setattr(summary, result.outcome, getattr(summary, result.outcome) + 1)


class _peeked:
    """An async byte stream whose first bytes can be looked at before it is consumed."""

    def __init__(self, source: AsyncIterator[bytes]) -> None:
        self._source = source
        self._head: list[bytes] = []

    async def sniff(self) -> Format:
        async for chunk in self._source:
            if chunk:
                self._head.append(chunk)
                break
        return sniff_format(self._head[0] if self._head else b"")

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[bytes]:
        while self._head:
            yield self._head.pop(0)
        async for chunk in self._source:
            yield chunk
