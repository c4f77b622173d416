"""Row conversion in worker processes, beside the event loop (`ImportOptions.workers` > 0).

Turning a row into a validated change (`rows.convert`) is pure and about half of the
importer's CPU; the other half (reading Redis, merging, encoding, the writes) needs the event
loop. Here the rows go to a process pool in chunks while the event loop writes earlier
batches, so the two halves run on two cores. Results come back in input order, so batches,
rejections and the state written are exactly those of converting in the importer's own
process. At most `AHEAD` chunks are in flight, which bounds memory.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import sys
import threading
import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import aclosing
from typing import Any

from prefstore.errors import InvalidInput
from prefstore.transfer import rows as rowmod
from prefstore.transfer.mapping import ResolvedMapping

CHUNK = 1000
"""Rows per task: large enough that pickling overhead is per chunk, not per row."""
AHEAD = 2
"""Chunks queued beyond the one being consumed."""

Parsed = tuple[int, Any, ResolvedMapping | None]
"""(line, raw row or the reader's InvalidInput, the mapping for it; None for export lines)."""
Converted = tuple[int, Any, "rowmod.Incoming | InvalidInput"]


async def converted_in_workers(
    items: AsyncIterator[Parsed], region: str, workers: int
) -> AsyncGenerator[Converted, None]:
    """(line, raw, Incoming or the InvalidInput it gave), in the order of `items`."""
    pool = ProcessPoolExecutor(
        workers,
        mp_context=forkserver_context(),
        initializer=exit_with_parent,
        initargs=(os.getpid(),),
    )
    try:
        async with aclosing(_pooled(pool, items, region)) as pooled:
            async for converted in pooled:
                yield converted
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


async def _pooled(
    pool: Executor, items: AsyncIterator[Parsed], region: str
) -> AsyncGenerator[Converted, None]:
    loop = asyncio.get_running_loop()
    inflight: deque[tuple[list[Parsed], asyncio.Future[list[Any]]]] = deque()
    chunk: list[Parsed] = []

    def submit() -> None:
        # Rows the reader already rejected stay here; only the rest are sent.
        sent = [item for item in chunk if not isinstance(item[1], InvalidInput)]
        inflight.append((chunk, loop.run_in_executor(pool, _chunk, sent, region)))

    try:
        async for item in items:
            chunk.append(item)
            if len(chunk) >= CHUNK:
                submit()
                chunk = []
                if len(inflight) > AHEAD:
                    for converted in await _collect(*inflight.popleft()):
                        yield converted
        if chunk:
            submit()
        while inflight:
            for converted in await _collect(*inflight.popleft()):
                yield converted
    finally:
        for _chunk_items, future in inflight:  # the import failed: nobody waits for these
            if not future.cancel() and not future.cancelled():
                future.exception()


def _chunk(items: list[Parsed], region: str) -> list[rowmod.Incoming | tuple[str, str]]:
    """In the worker. The raw row is not sent back (the caller has it); a rejection goes back
    as (field, reason), since InvalidInput does not survive pickling."""
    out: list[rowmod.Incoming | tuple[str, str]] = []
    for line, raw, mapping in items:
        incoming = rowmod.convert(line, raw, mapping, region)
        if isinstance(incoming, InvalidInput):
            out.append((incoming.field, incoming.reason))
            continue
        incoming.raw = None
        out.append(incoming)
    return out


async def _collect(chunk: list[Parsed], future: asyncio.Future[list[Any]]) -> list[Converted]:
    done = iter(await future)
    converted: list[Converted] = []
    for line, raw, _mapping in chunk:
        if isinstance(raw, InvalidInput):
            converted.append((line, raw, raw))
            continue
        result = next(done)
        if isinstance(result, tuple):
            converted.append((line, raw, InvalidInput(*result)))
        else:
            result.raw = raw
            converted.append((line, raw, result))
    return converted


def forkserver_context() -> multiprocessing.context.ForkServerContext:
    """The context of every process the importer starts (these workers, the HTTP import's
    child in `child.py`). Not "fork": the CLI's progress bar and the server run threads, and
    forking a threaded process can copy a held lock into the child. The forkserver imports
    the import modules once; each process it forks starts with them loaded."""
    context = multiprocessing.get_context("forkserver")
    # By name, not imported: `child` imports this module.
    preload = ["prefstore.transfer.rows", "prefstore.transfer.child", *_main_imports()]
    context.set_forkserver_preload(preload)
    return context


def _main_imports() -> list[str]:
    """The project's modules loaded here, when the main module is a script run by path.
    multiprocessing runs such a script again (as `__mp_main__`) in every process it starts,
    forkserver children included, and Python 3.11's forkserver ignores a "__main__" preload:
    `prefstore serve`'s console script would import the whole app again in each, ~250 ms.
    Preloaded, the re-run finds them imported. (`python -m …` mains are not run again.)"""
    main = sys.modules.get("__main__")
    if main is None or getattr(main.__spec__, "name", None) is not None:
        return []
    return sorted(name for name in sys.modules if name.split(".")[0] == "prefstore")


def exit_with_parent(parent: int) -> None:
    """A process whose importer was killed (SIGKILL leaves no time to shut it down) would
    otherwise wait for work forever, or outlive the server."""

    spawner = os.getppid()  # the forkserver, which exits with the importer

    def watch() -> None:
        while os.getppid() == spawner and _alive(parent):
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
