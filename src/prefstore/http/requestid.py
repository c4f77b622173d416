"""Request ids: `X-Request-ID` taken from the caller when well-formed, else made here; echoed
on every response and carried by every log record of the request (`http/logs.py`).

The id lives in a context variable for the duration of the request: each request runs in a
task of its own, so log lines written anywhere below the route (the store, the error
mapping) name it without it being passed down. The lookup's fast path (`http/fast.py`)
does the same in its own header loop; every other request passes `RequestContext`, which
also writes the access log line (`http/logs.AccessLog`).

A made id is this process's random prefix and a counter — unique across processes and
restarts without a `uuid4` (a system call and ~1 µs) per request.
"""

from __future__ import annotations

import itertools
import re
import secrets
import time
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from prefstore.http.logs import REQUEST_ID, AccessLog

HEADER = b"x-request-id"
MAX_LENGTH = 128
_WELL_FORMED = re.compile(rb"[A-Za-z0-9._:+/=-]{1,%d}" % MAX_LENGTH)
"""What is taken from a caller: UUIDs, hex, base64, W3C trace ids and the like. Anything
else (too long, spaces, quotes, control characters) is replaced, never echoed or logged."""


class RequestIds:
    """Makes this process's request ids: a random prefix, then a counter (hexadecimal)."""

    def __init__(self) -> None:
        self._prefix = secrets.token_hex(8).encode() + b"-"
        self._counter = itertools.count(1)

    def new(self) -> bytes:
        return b"%s%x" % (self._prefix, next(self._counter))

    def accept(self, given: bytes | None) -> bytes:
        """The caller's id if it is well-formed, else a new one."""
        if given is not None and _WELL_FORMED.fullmatch(given):
            return given
        return self.new()


class RequestContext:
    """ASGI: the request id (and the access log) for every request Litestar serves."""

    def __init__(self, app: ASGIApp, ids: RequestIds, access: AccessLog | None) -> None:
        self._app = app
        self._ids = ids
        self._access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        http: dict[str, Any] = scope  # type: ignore[assignment]
        if http["type"] != "http":
            await self._app(scope, receive, send)
            return
        given = next((v for k, v in http["headers"] if k == HEADER), None)
        request_id = self._ids.accept(given)
        token = REQUEST_ID.set(request_id)
        status = 500  # if the app ends without answering, the server answers 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (HEADER, request_id)]
            await send(message)

        started = time.perf_counter()
        try:
            await self._app(scope, receive, send_with_id)
        finally:
            if self._access is not None:
                route = http.get("path_template")  # set by Litestar's router; None: no route
                key_id = getattr(http.get("auth"), "key_id", None)
                seconds = time.perf_counter() - started
                self._access.record(http["method"], route, status, seconds, key_id)
            REQUEST_ID.reset(token)
