"""An HTTP import in a child process of its own: the server's event loop only passes bytes.

`run_apart` starts one process per import (from the forkserver, which has this module and
the importer preloaded: a start costs a fork, not an interpreter) and streams the request
body to it over a socket pair. The child parses, converts, merges and writes through the same
`Importer` (`Importer.run`), on its own event loop with its own Redis connection, and sends
back the summary or the error. The row work never takes the GIL of the process serving
lookups, and the child runs at a lower CPU priority (`NICE`), so on a busy machine the
scheduler prefers the lookups.

Frames both ways are a kind byte, a length and the payload. The parent sends body chunks and
then `END`; it writes only as fast as the child reads (the socket buffers and the stream's
drain bound what is in flight), so a body is never held whole. The child answers with
`SUMMARY` (msgpack of the `ImportSummary`) or `ERROR` (the error tree's class and fields,
rebuilt in the parent, so the HTTP mapping is that of an import run in the server); before
that, `PROGRESS` frames carry its running totals (rows read, rejected) for the parent's
metrics.

The child never outlives its import: a body that ends early (the client went away, or the
body was too large) closes the socket, and the child is terminated; the server dying ends it
too (`workers.exit_with_parent`). A store the child cannot reach from another process (an
in-process fakeredis in tests, a TLS connection, a test clock) is imported on a thread
beside the loop instead (`Importer.run_beside`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from typing import Any
from urllib.parse import quote

import msgspec
from redis.asyncio import Redis
from redis.asyncio.connection import Connection, UnixDomainSocketConnection
from redis.exceptions import ConnectionError as RedisConnectionError

from prefstore import errors
from prefstore.customers.names import Nicknames
from prefstore.customers.transaction import Storage, utc_now
from prefstore.errors import PrefstoreError, Unavailable
from prefstore.models.results import ImportSummary
from prefstore.redis.connection import OUTAGE_ERRORS, connect
from prefstore.redis.keyspace import KeySpace
from prefstore.transfer.importer import Importer, ImportOptions, Progress
from prefstore.transfer.workers import exit_with_parent, forkserver_context

log = logging.getLogger(__name__)

_FRAME = struct.Struct("!cI")
CHUNK, END, SUMMARY, ERROR, PROGRESS = b"C", b"E", b"S", b"X", b"P"
_TOTALS = struct.Struct("!QQ")
NICE = 10
"""How much lower the child's CPU priority is: the import is batch work, lookups are not."""
EXIT_SECONDS = 5.0
"""How long a child that answered may take to close its connection and exit."""


@dataclass(frozen=True)
class Job:
    """Everything the child needs, picklable: where the store is and what to import."""

    url: str
    timeout: float
    prefix: str
    notes_on_card: int
    region: str
    salt: bytes
    options: ImportOptions
    nicknames: Nicknames | None = None


async def run_apart(
    importer: Importer,
    chunks: AsyncIterator[bytes],
    options: ImportOptions,
    progress: Progress | None = None,
) -> ImportSummary:
    """`importer.run(chunks, options)` in a child process (see the module docstring);
    `progress` is told its running totals as they arrive."""
    url = reachable_url(importer.redis)
    if url is None or importer.storage.clock is not utc_now:
        return await importer.run_beside(chunks, options, progress)
    storage = importer.storage
    job = Job(
        url=url,
        timeout=float(importer.redis.connection_pool.connection_kwargs.get("socket_timeout") or 1),
        prefix=storage.keys.prefix,
        notes_on_card=storage.notes_on_card,
        region=importer.region,
        salt=await importer.salt_for(options.dry_run),
        options=options,
        nicknames=importer.nicknames,
    )
    ours, theirs = socket.socketpair()
    process = forkserver_context().Process(
        target=_child, args=(job, theirs, os.getpid()), name="prefstore-import", daemon=True
    )
    answered = False
    try:
        try:
            await asyncio.to_thread(process.start)
        finally:
            theirs.close()
        reader, writer = await asyncio.open_connection(sock=ours)
        try:
            summary = await _exchange(reader, writer, chunks, progress)
            answered = True
            return summary
        finally:
            writer.close()
    finally:
        ours.close()
        await _ended(process, answered)


def reachable_url(redis: Redis) -> str | None:
    """A URL another process can connect to the server of `redis` with (None: it cannot)."""
    pool = redis.connection_pool
    kw = pool.connection_kwargs
    user, password = kw.get("username"), kw.get("password")
    auth = ""
    if user is not None or password is not None:
        auth = f"{quote(user or '', safe='')}:{quote(password or '', safe='')}@"
    if pool.connection_class is Connection:
        host = str(kw.get("host", "localhost"))
        host = f"[{host}]" if ":" in host else host
        return f"redis://{auth}{host}:{kw.get('port', 6379)}/{kw.get('db', 0)}"
    if pool.connection_class is UnixDomainSocketConnection:
        return f"unix://{auth}{kw['path']}?db={kw.get('db', 0)}"
    return None


async def _exchange(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    chunks: AsyncIterator[bytes],
    progress: Progress | None,
) -> ImportSummary:
    """Send the body while waiting for the answer: a child that fails early (an unreadable
    first line, the decompressed limit) answers before the body is all sent."""
    sending = asyncio.create_task(_send(writer, chunks))
    answer = asyncio.create_task(_answer(reader, progress))
    try:
        await asyncio.wait({sending, answer}, return_when=asyncio.FIRST_COMPLETED)
        if sending.done() and not answer.done():
            sending.result()  # the body failed (too large, client gone): raised here
        return await answer
    finally:
        for task in (sending, answer):
            task.cancel()
        await asyncio.gather(sending, answer, return_exceptions=True)


async def _send(writer: asyncio.StreamWriter, chunks: AsyncIterator[bytes]) -> None:
    async for chunk in chunks:
        if chunk:
            writer.write(_FRAME.pack(CHUNK, len(chunk)))
            writer.write(chunk)
            await writer.drain()
    writer.write(_FRAME.pack(END, 0))
    await writer.drain()


async def _answer(reader: asyncio.StreamReader, progress: Progress | None) -> ImportSummary:
    try:
        kind, size = _FRAME.unpack(await reader.readexactly(_FRAME.size))
        payload = await reader.readexactly(size)
        while kind == PROGRESS:
            if progress is not None:
                progress(*_TOTALS.unpack(payload))
            kind, size = _FRAME.unpack(await reader.readexactly(_FRAME.size))
            payload = await reader.readexactly(size)
    except (asyncio.IncompleteReadError, ConnectionError) as exc:
        raise Unavailable("the import process ended without an answer") from exc
    if kind == SUMMARY:
        return msgspec.msgpack.decode(payload, type=ImportSummary)
    raise _rebuilt(msgspec.msgpack.decode(payload))


async def _ended(process: BaseProcess, answered: bool) -> None:
    """The child is gone when this returns. One that answered exits by itself; any other
    (the body failed, the request was cancelled) is terminated at once: its work is
    abandoned, and every customer it wrote was written whole."""
    if process.pid is None:
        return  # never started
    if not answered:
        process.terminate()
    if not await _exited(process):
        process.kill()
        await _exited(process)
    process.join(0)
    if process.exitcode is not None:
        process.close()


async def _exited(process: BaseProcess) -> bool:
    """Whether it exited within EXIT_SECONDS (its sentinel becomes readable when it does)."""
    if process.exitcode is not None:
        return True
    loop = asyncio.get_running_loop()
    gone = asyncio.Event()
    loop.add_reader(process.sentinel, gone.set)
    try:
        async with asyncio.timeout(EXIT_SECONDS):
            await gone.wait()
    except TimeoutError:
        return False
    finally:
        loop.remove_reader(process.sentinel)
    return True


# ------------------------------------------------------------------------ in the child


def _child(job: Job, sock: socket.socket, parent: int) -> None:
    exit_with_parent(parent)
    os.nice(NICE)
    asyncio.run(_serve(job, sock))


async def _serve(job: Job, sock: socket.socket) -> None:
    reader, writer = await asyncio.open_connection(sock=sock)
    redis = connect(job.url, job.timeout)
    try:
        storage = Storage(redis, KeySpace(job.prefix), job.notes_on_card)
        importer = Importer(
            storage, region=job.region, salt=lambda: _given(job.salt), nicknames=job.nicknames
        )

        def progress(rows: int, rejected: int) -> None:  # sent as it comes: frames are small
            writer.write(_FRAME.pack(PROGRESS, _TOTALS.size) + _TOTALS.pack(rows, rejected))

        summary = await importer.run(_received(reader), job.options, progress=progress)
        kind, payload = SUMMARY, msgspec.msgpack.encode(summary)
    except asyncio.IncompleteReadError:
        return  # the body ended early: nobody waits for an answer
    except Exception as exc:  # every failure is sent back, to be answered by the parent
        kind, payload = ERROR, msgspec.msgpack.encode(_described(exc))
    finally:
        await redis.aclose()
    writer.write(_FRAME.pack(kind, len(payload)) + payload)
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def _received(reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
    while True:
        kind, size = _FRAME.unpack(await reader.readexactly(_FRAME.size))
        if kind == END:
            return
        yield await reader.readexactly(size)


async def _given(salt: bytes) -> bytes:
    return salt


def _described(exc: Exception) -> dict[str, Any]:
    """An error as data: the error tree's own class and fields; a Redis outage as such (the
    HTTP layer answers both exactly as when the import ran in the server); anything else by
    name (a 500, logged here with its traceback)."""
    if isinstance(exc, PrefstoreError) and getattr(errors, type(exc).__name__, None) is type(exc):
        fields = {k: v for k, v in vars(exc).items() if k != "detail"}
        return {
            "kind": "domain",
            "type": type(exc).__name__,
            "detail": exc.detail,
            "fields": fields,
        }
    if isinstance(exc, OUTAGE_ERRORS):
        return {"kind": "outage", "detail": f"{type(exc).__name__}: {exc}"}
    log.error("import failed", exc_info=exc)
    return {"kind": "other", "detail": f"{type(exc).__name__}: {exc}"}


def _rebuilt(described: dict[str, Any]) -> Exception:
    if described["kind"] == "domain":
        cls = getattr(errors, described["type"])
        exc: PrefstoreError = cls.__new__(cls)
        PrefstoreError.__init__(exc, described["detail"])
        vars(exc).update(described["fields"])
        return exc
    if described["kind"] == "outage":
        return RedisConnectionError(described["detail"])
    return RuntimeError(f"the import process failed: {described['detail']}")
