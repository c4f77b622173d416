"""One Redis connection that pipelines concurrent reads: the connection of the lookup path.

Why (docs/BENCHMARKS.md): on a small machine one redis-py asyncio call cost more CPU
than the whole bare HTTP request it served — a pool checkout, retry and deprecation wrappers,
a timeout timer and a `send` system call per command. Here every command issued during one
event-loop iteration goes out in a single write; hiredis parses the replies as they arrive
and each resolves the oldest waiting future (Redis answers in order on one connection). One
watchdog timer per connection replaces a timer per call.

Only for idempotent reads: commands lost with a dead connection are retried once on a fresh
one (a Redis restart costs no error), a stalled Redis fails them within `timeout`. Writes keep
redis-py's pooled connections and transactions.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable
from typing import Any, NamedTuple, cast

import hiredis
from redis import exceptions as redis_errors
from redis.asyncio.connection import Connection, ConnectionPool, UnixDomainSocketConnection

_ERRORS: dict[str, type[redis_errors.RedisError]] = {
    "NOSCRIPT": redis_errors.NoScriptError,
    "LOADING": redis_errors.BusyLoadingError,
    "TRYAGAIN": redis_errors.TryAgainError,
}


def response_error(reply: hiredis.ReplyError) -> redis_errors.RedisError:
    message = str(reply)
    return _ERRORS.get(message.split(" ", 1)[0], redis_errors.ResponseError)(message)


class Address(NamedTuple):
    """Where a plain (TCP or Unix socket) connection to the server goes, and its login."""

    host: str = "localhost"
    port: int = 6379
    path: str | None = None
    db: int = 0
    username: str | None = None
    password: str | None = None

    @classmethod
    def of_pool(cls, pool: ConnectionPool) -> Address | None:
        """The server of a redis-py pool; None for what a plain socket cannot speak (TLS,
        credential providers)."""
        kwargs = pool.connection_kwargs
        if kwargs.get("credential_provider") is not None:
            return None
        login: dict[str, Any] = {
            "db": int(kwargs.get("db") or 0),
            "username": kwargs.get("username"),
            "password": kwargs.get("password"),
        }
        if pool.connection_class is UnixDomainSocketConnection:
            return cls(path=str(kwargs["path"]), **login)
        if pool.connection_class is Connection:
            host, port = kwargs.get("host", "localhost"), int(kwargs.get("port", 6379))
            return cls(host=str(host), port=port, **login)
        return None

    def login(self) -> list[tuple[Any, ...]]:
        """The commands a new connection sends first (AUTH), before anything else."""
        if not self.password:
            return []
        if self.username:
            return [("AUTH", self.username, self.password)]
        return [("AUTH", self.password)]


class _Protocol(asyncio.Protocol):
    """Hands bytes and loss of one transport to its owner, while it is the current one."""

    def __init__(self, owner: PipelinedConnection) -> None:
        self.owner = owner
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses

    def data_received(self, data: bytes) -> None:
        if self.owner.current is self:
            self.owner.received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.owner.current is self:
            self.owner.drop(redis_errors.ConnectionError(f"connection to Redis lost: {exc}"))


class PipelinedConnection:
    def __init__(
        self,
        *,
        timeout: float,
        host: str = "localhost",
        port: int = 6379,
        path: str | None = None,
        db: int = 0,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self._timeout = timeout
        self._address = (host, port, path)
        self._handshake = Address(host, port, path, db, username, password).login()
        if db:
            self._handshake.append(("SELECT", db))
        self.current: _Protocol | None = None
        self._ready = False
        self._opening: asyncio.Future[None] | None = None
        self._reader = hiredis.Reader()
        self._waiting: deque[tuple[asyncio.Future[Any], float]] = deque()
        self._outbox: list[bytes] = []
        self._flush_due = False
        self._watchdog: asyncio.TimerHandle | None = None

    @classmethod
    def for_pool(cls, pool: ConnectionPool, timeout: float) -> PipelinedConnection | None:
        """The same server and database as a redis-py pool; None where this class does not
        speak the transport (TLS, credential providers, anything but TCP or a Unix socket)."""
        address = Address.of_pool(pool)
        if address is None:
            return None
        return cls(
            timeout=timeout,
            host=address.host,
            port=address.port,
            path=address.path,
            db=address.db,
            username=address.username,
            password=address.password,
        )

    async def execute(self, *args: Any) -> Any:
        """Send one command with whatever else is being sent now; its reply (errors raised
        as redis-py's exceptions, so callers translate them as they do redis-py's)."""
        try:
            reply = await self._send_when_ready(args)
        except redis_errors.ConnectionError:
            reply = await self._send_when_ready(args)  # once: the connection died, not Redis
        if isinstance(reply, hiredis.ReplyError):
            raise response_error(reply)
        return reply

    def submit(self, *args: Any) -> Awaitable[Any]:
        """Queue one command with this loop iteration's write and return its pending reply
        without waiting, so a caller can issue another command and then await both: one round
        trip for the two. Not retried on a lost connection (for commands not worth a second
        trip, such as a rate-limit counter); a reply error is returned, not raised."""
        if self._ready:
            return self._send(args)
        return asyncio.ensure_future(self._send_when_ready(args))

    async def close(self) -> None:
        protocol, self.current = self.current, None
        self.drop(redis_errors.ConnectionError("connection closed"))
        if protocol is not None and protocol.transport is not None:
            protocol.transport.close()

    # ------------------------------------------------------------ sending and receiving
    async def _send_when_ready(self, args: tuple[Any, ...]) -> Any:
        if not self._ready:
            await self._open_once()
        return await self._send(args)

    def _send(self, args: tuple[Any, ...]) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._waiting.append((future, loop.time()))
        self._outbox.append(hiredis.pack_command(args))
        if not self._flush_due:
            self._flush_due = True
            loop.call_soon(self._flush)
        if self._watchdog is None:
            self._watchdog = loop.call_later(self._timeout, self._check_stalled)
        return future

    def _flush(self) -> None:
        self._flush_due = False
        protocol = self.current
        if self._outbox and protocol is not None and protocol.transport is not None:
            protocol.transport.write(b"".join(self._outbox))
        self._outbox.clear()

    def received(self, data: bytes) -> None:
        reader, waiting = self._reader, self._waiting
        reader.feed(data)
        while (reply := reader.gets()) is not False:
            future, _sent = waiting.popleft()
            if not future.done():  # done: its caller was cancelled; the reply is dropped
                future.set_result(reply)

    def drop(self, error: redis_errors.RedisError) -> None:
        """Fail every waiting command and forget the connection; the next call reconnects."""
        self._ready = False
        self.current = None
        self._reader = hiredis.Reader()
        self._outbox.clear()
        waiting, self._waiting = self._waiting, deque()
        for future, _sent in waiting:
            if not future.done():
                future.set_exception(error)

    def _check_stalled(self) -> None:
        self._watchdog = None
        if not self._waiting:
            return
        loop = asyncio.get_running_loop()
        due = self._waiting[0][1] + self._timeout
        if loop.time() < due:
            self._watchdog = loop.call_at(due, self._check_stalled)
            return
        protocol = self.current
        self.drop(redis_errors.TimeoutError(f"no reply from Redis within {self._timeout} s"))
        if protocol is not None and protocol.transport is not None:
            protocol.transport.abort()

    # ------------------------------------------------------------ connecting
    async def _open_once(self) -> None:
        """Concurrent callers share one connection attempt; a failed one is not remembered."""
        if self._opening is None:
            self._opening = asyncio.ensure_future(self._open())
        opening = self._opening
        try:
            await asyncio.shield(opening)
        finally:
            if opening.done() and self._opening is opening:
                self._opening = None

    async def _open(self) -> None:
        loop = asyncio.get_running_loop()
        host, port, path = self._address
        protocol = _Protocol(self)
        try:
            async with asyncio.timeout(self._timeout):
                if path is not None:
                    await loop.create_unix_connection(lambda: protocol, path)
                else:
                    await loop.create_connection(lambda: protocol, host, port)
                self.current = protocol
                for command in self._handshake:
                    reply = await self._send(command)
                    if isinstance(reply, hiredis.ReplyError):
                        raise redis_errors.AuthenticationError(str(reply))
        except TimeoutError:
            self._abandon(protocol)
            raise redis_errors.TimeoutError("timed out connecting to Redis") from None
        except OSError as exc:
            self._abandon(protocol)
            raise redis_errors.ConnectionError(f"cannot connect to Redis: {exc}") from exc
        except BaseException:
            self._abandon(protocol)
            raise
        self._ready = True

    def _abandon(self, protocol: _Protocol) -> None:
        if self.current is protocol:
            self.drop(redis_errors.ConnectionError("connection abandoned"))
        if protocol.transport is not None:
            with contextlib.suppress(Exception):
                protocol.transport.abort()
