"""The lookup routes' serving path: a thin ASGI layer in front of Litestar's router.

`GET /v1/customers/{id}` and `GET /v1/lookup?…` are the reason prefstore exists, and through
Litestar's middleware stack (Prometheus, authentication, CSRF, exception handling, routing,
dependency injection) most of each request's CPU went outside the work (docs/BENCHMARKS.md).
Here a request does only the work: authenticate from the in-process key cache
(`http/auth.authenticate`), check the scope, count it against the key's rate limit and read
the card — the counter and the read leave in one write, one round trip — then write the
stored bytes with their ETag. What the skipped layers would add, it adds itself: the request
id (`http/requestid.py`), Litestar's CORS headers (`http/cors.py`), the access log line.

One implementation: the lookup itself (`card_by_id`, `card_by_identifier`), the scope each
route needs (its handler's `opt`), authentication and the error mapping (`http/errors.py`)
are the Litestar handlers' own; those handlers stay the documented routes and serve what
this layer passes on (any other method or path).
Metrics go into the Prometheus families Litestar's middleware uses, children pre-bound.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from litestar import Litestar, Request, Response
from litestar.config.cors import CORSConfig
from litestar.types import ASGIApp, Receive, Scope, Send

from prefstore.customers.access import Principal
from prefstore.customers.reader import CardBytes
from prefstore.errors import PrefstoreError
from prefstore.http.auth import authenticate, check_scope, client_address, key_from
from prefstore.http.cors import simple_headers
from prefstore.http.deps import services_of
from prefstore.http.errors import domain_error, outage_error, unexpected_error
from prefstore.http.logs import REQUEST_ID, AccessLog
from prefstore.http.lookup import card, card_by_id, card_by_identifier, lookup
from prefstore.http.metrics import RouteMetrics
from prefstore.http.requestid import HEADER, RequestIds
from prefstore.redis.connection import OUTAGE_ERRORS

CARD_PREFIX = "/v1/customers/"
LOOKUP_PATH = "/v1/lookup"
_JSON = (b"content-type", b"application/json")
_Send = Callable[[dict[str, Any]], Awaitable[None]]


class FastLookup:
    """ASGI: the two lookup routes served here, everything else passed to `fallback`."""

    def __init__(
        self,
        app: Litestar,
        fallback: ASGIApp,
        metrics: RouteMetrics,
        ids: RequestIds,
        access: AccessLog | None = None,
    ) -> None:
        self._app = app
        self._fallback = fallback
        self._metrics = metrics
        self._ids = ids
        self._access = access
        self._cors: CORSConfig | None = app.cors_config
        self._card_scope = card.opt["scope"]
        self._lookup_scope = lookup.opt["scope"]
        # The route's path format, as Litestar's Prometheus middleware labels it.
        self._card_path = re.sub(r"\{(\w+):\w+\}", r"{\1}", next(iter(card.paths)))
        self._lookup_path = LOOKUP_PATH

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        http: dict[str, Any] = scope  # type: ignore[assignment]
        out: _Send = send  # type: ignore[assignment]
        if http["type"] == "http" and http["method"] == "GET" and not http.get("root_path"):
            path: str = http["path"]
            if path.startswith(CARD_PREFIX):
                customer_id = path[len(CARD_PREFIX) :]
                if customer_id and "/" not in customer_id:
                    await self._serve(http, receive, out, customer_id, None)
                    return
            elif path == LOOKUP_PATH:
                # Read as Litestar reads `request.query_params`.
                raw = http["query_string"].decode("latin-1")
                query = parse_qsl(raw, keep_blank_values=True, separator="&")
                await self._serve(http, receive, out, None, query)
                return
        await self._fallback(scope, receive, send)

    async def _serve(
        self,
        scope: dict[str, Any],
        receive: Receive,
        send: _Send,
        customer_id: str | None,
        query: list[tuple[str, str]] | None,
    ) -> None:
        started = time.perf_counter()
        authorization = api_key = request_id = origin = None
        cookie = False
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"x-api-key":
                api_key = value.decode("latin-1")
            elif name == HEADER:
                request_id = value
            elif name == b"origin":
                origin = value
            elif name == b"cookie":
                cookie = True
        request_id = self._ids.accept(request_id)
        token = REQUEST_ID.set(request_id)  # log records of this request carry it
        extra = [(HEADER, request_id)]
        if origin is not None and self._cors is not None:  # as Litestar's CORS middleware
            extra += simple_headers(self._cors, origin.decode("latin-1"), cookie)
        template = self._card_path if customer_id is not None else self._lookup_path
        try:
            found = await self._find(scope, customer_id, query, key_from(authorization, api_key))
        except Exception as exc:  # every error is answered by the one mapping
            status = await _send_error(scope, receive, send, exc, extra)
        else:
            status = 200
            headers = [_JSON, (b"etag", b'"' + found.version + b'"'), *extra]
            headers.append((b"content-length", str(len(found.body)).encode()))
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": found.body})
        seconds = time.perf_counter() - started
        self._metrics.record(template, status, seconds)
        if self._access is not None:
            who = scope.get("auth")
            key_id = who.key_id if isinstance(who, Principal) else None
            self._access.record("GET", template, status, seconds, key_id)
        REQUEST_ID.reset(token)

    async def _find(
        self,
        scope: dict[str, Any],
        customer_id: str | None,
        query: list[tuple[str, str]] | None,
        key: str | None,
    ) -> CardBytes:
        services = services_of(self._app.state)
        who = await authenticate(services, key, client_address(scope))
        scope["auth"] = who  # as Litestar's authentication leaves it (the access log's key id)
        check_scope(who, self._card_scope if customer_id is not None else self._lookup_scope)
        charge = services.limiter.charge_key(who.key_id)  # sent with the read: one round trip
        try:
            if customer_id is not None:
                found = await card_by_id(services.reader, who, customer_id)
            else:
                found = await card_by_identifier(services.reader, who, query or [])
        finally:
            if charge is not None:
                await charge.settle()  # a refusal wins over the card, or over its 404
        return found


async def _send_error(
    scope: dict[str, Any],
    receive: Receive,
    send: _Send,
    exc: Exception,
    extra: list[tuple[bytes, bytes]],
) -> int:
    """The response `http/errors.py` maps this error to, as Litestar would send it (with
    the request id and CORS headers, `extra`)."""
    request: Request[Any, Any, Any] = Request(scope, receive)  # type: ignore[arg-type]
    response: Response[Any]
    if isinstance(exc, PrefstoreError):
        response = domain_error(request, exc)
    elif isinstance(exc, OUTAGE_ERRORS):
        response = outage_error(request, exc)
    else:
        response = unexpected_error(request, exc)
    body = msgspec.json.encode(response.content)
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()]
    media_type = str(response.media_type).encode("latin-1")  # application/problem+json
    headers += [(b"content-type", media_type), (b"content-length", str(len(body)).encode())]
    headers += extra
    status = int(response.status_code or 500)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
    return status


def install_fast_lookup(
    app: Litestar, metrics: RouteMetrics, ids: RequestIds, access: AccessLog | None = None
) -> None:
    """Put the fast path in front of the app's router (inside Litestar's own entry point,
    so `app` stays the Litestar app that servers, tests and the OpenAPI document see)."""
    app.asgi_handler = FastLookup(app, app.asgi_handler, metrics, ids, access)
