"""The CLI side of import: files, progress bar, summary table."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from prefstore.models.results import ImportSummary
from prefstore.transfer.importer import Importer, ImportOptions
from prefstore.transfer.readers import Format, file_chunks, sniffed
from prefstore.transfer.rejects import RejectsFile, rejects_path

CLI_WORKERS = 0
"""Row-conversion processes for a CLI import. Off: one worker gained ~10% at 100k rows but
lost ~10% at 1M on this 2-core machine (docs/BENCHMARKS.md, Import); measure before turning
it on."""


def format_of(path: Path) -> Format | None:
    """The format a file's name promises, if any; it overrides what the bytes suggest."""
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".ndjson", ".jsonl", ".json")):
        return "ndjson"
    if name.endswith((".csv", ".tsv", ".txt")):
        return "csv"
    return None


async def import_file(
    importer: Importer,
    path: Path,
    options: ImportOptions,
    rejects: Path | None,
    console: Console,
    show_progress: bool,
) -> tuple[ImportSummary, RejectsFile]:
    read = [0]
    chunks = file_chunks(path, read)
    fmt = options.format or format_of(path)
    if fmt is None:  # the rejects file needs the format before the import starts
        fmt, chunks = await sniffed(chunks)
    options.format = fmt
    options.workers = options.workers or CLI_WORKERS
    sink = RejectsFile(rejects or rejects_path(path, fmt), fmt)
    size = (await asyncio.to_thread(path.stat)).st_size
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[rows]:,} rows  {task.fields[rate]:,.0f} rows/s"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        disable=not show_progress,
    )
    with progress:
        task = progress.add_task(path.name, total=size, rows=0, rate=0.0)
        state = {"rows": 0}

        def on_rows(count: int) -> None:
            state["rows"] += count
            elapsed = progress.tasks[0].elapsed or 0.0
            rate = state["rows"] / elapsed if elapsed else 0.0
            progress.update(task, completed=read[0], rows=state["rows"], rate=rate)

        try:
            summary = await importer.run(chunks, options, rejects=sink, on_rows=on_rows)
        finally:
            sink.close()
        progress.update(task, completed=size)
    return summary, sink


def summary_table(path: Path, summary: ImportSummary, sink: RejectsFile) -> Table:
    title = f"{path.name}: {'dry run — nothing written' if summary.dry_run else 'imported'}"
    table = Table("", "rows", title=title, title_justify="left")
    table.add_row("preset", summary.preset)
    table.add_row("encoding", summary.encoding)
    for name in ("rows", "created", "updated", "unchanged", "suppressed", "rejected"):
        table.add_row(name, f"{getattr(summary, name):,}")
    table.add_row("time", f"{summary.seconds:.1f} s ({summary.rows_per_second:,.0f} rows/s)")
    if summary.unknown_columns:
        table.add_row("unknown columns", ", ".join(summary.unknown_columns))
    if sink.count:
        table.add_row("rejects file", str(sink.path))
    for dup in summary.duplicates:
        table.add_row(
            f"possible duplicate (line {dup.line})",
            f"{dup.name} ~ {dup.existing_name} [{dup.customer_id}] "
            f"score {dup.score:.0f}, {dup.matched_on}",
        )
    return table
