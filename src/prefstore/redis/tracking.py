"""Redis's own word on which keys changed: the feed of the lookup path's near-cache.

Client-side caching in broadcasting mode (Redis ≥ 6): one connection asks Redis to report
every change to any key under a prefix (`CLIENT TRACKING on BCAST PREFIX p`), redirected to
itself, and subscribes to `__redis__:invalidate`. So it speaks plain RESP2 (Redis 6.2, the
embedded binary, and 7.x alike), reads no key itself, and what it reports does not depend
on which connection read what. A message names the keys changed, or none for a FLUSHALL /
FLUSHDB (everything changed).

Redis forgets the tracking with the connection, so losing it means changes went unreported:
`follow` returns only by raising, and its caller must then distrust everything it cached.
A connection that goes quiet is checked with PING every `heartbeat` seconds and counts as
lost when no byte comes back within `timeout` (a stalled server, a silent network).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import hiredis
from redis import exceptions as redis_errors

from prefstore.redis.pipelined import Address, response_error

INVALIDATE_CHANNEL = b"__redis__:invalidate"
_PING = hiredis.pack_command(("PING",))


class InvalidationStream:
    def __init__(self, address: Address, prefix: str, *, timeout: float, heartbeat: float) -> None:
        self._address = address
        self._prefix = prefix
        self._timeout = timeout
        self._heartbeat = heartbeat
        self._reader = hiredis.Reader()

    async def follow(
        self, ready: Callable[[], None], changed: Callable[[list[bytes] | None], None]
    ) -> None:
        """Subscribe, call `ready` once Redis tracks the prefix for us, then `changed` with
        the keys of each message (None: every key) until the connection is lost: raises
        redis-py's ConnectionError or TimeoutError (ResponseError where tracking is not
        offered), never returns."""
        self._reader = hiredis.Reader()
        stream, writer = await self._connect()
        try:
            for command in self._address.login():
                await self._call(stream, writer, command)
            client_id = await self._call(stream, writer, ("CLIENT", "ID"))
            track = ("CLIENT", "TRACKING", "on", "REDIRECT", client_id, "BCAST", "PREFIX")
            await self._call(stream, writer, (*track, self._prefix))
            await self._call(stream, writer, ("SUBSCRIBE", INVALIDATE_CHANNEL))
            ready()
            while True:
                self._reader.feed(await self._next_bytes(stream, writer))
                while (reply := self._reader.gets()) is not False:
                    if isinstance(reply, list) and reply[:2] == [b"message", INVALIDATE_CHANNEL]:
                        changed(reply[2])
        finally:
            writer.close()

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        host, port, path = self._address.host, self._address.port, self._address.path
        try:
            async with asyncio.timeout(self._timeout):
                if path is not None:
                    return await asyncio.open_unix_connection(path)
                return await asyncio.open_connection(host, port)
        except TimeoutError:
            raise redis_errors.TimeoutError("timed out connecting to Redis") from None
        except OSError as exc:
            raise redis_errors.ConnectionError(f"cannot connect to Redis: {exc}") from exc

    async def _call(
        self, stream: asyncio.StreamReader, writer: asyncio.StreamWriter, command: tuple[Any, ...]
    ) -> Any:
        """One command of the handshake and its reply (an error reply raised)."""
        writer.write(hiredis.pack_command(command))
        while (reply := self._reader.gets()) is False:
            self._reader.feed(await self._read(stream, self._timeout))
        if isinstance(reply, hiredis.ReplyError):
            raise response_error(reply)
        return reply

    async def _next_bytes(
        self, stream: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bytes:
        """The next bytes from Redis; after `heartbeat` s of silence, a PING must be answered
        within `timeout` (any byte will do: a message proves the connection as well)."""
        try:
            return await self._read(stream, self._heartbeat)
        except redis_errors.TimeoutError:
            writer.write(_PING)
            return await self._read(stream, self._timeout)

    @staticmethod
    async def _read(stream: asyncio.StreamReader, within: float) -> bytes:
        try:
            async with asyncio.timeout(within):
                data = await stream.read(65536)
        except TimeoutError:
            raise redis_errors.TimeoutError(f"no reply from Redis within {within} s") from None
        except OSError as exc:
            raise redis_errors.ConnectionError(f"connection to Redis lost: {exc}") from exc
        if not data:
            raise redis_errors.ConnectionError("connection to Redis closed")
        return data
