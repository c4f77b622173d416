"""API-key authentication and scope guards.

Verified keys are cached in-process for `key_cache_seconds`, so the lookup path does not
pay a Redis round trip for the key: a revoked key stops working within that time.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import ASGIApp

from prefstore.customers.apikeys import KeyStore, effective_scopes
from prefstore.customers.reader import View
from prefstore.errors import Forbidden, Unauthenticated

CACHE_SIZE = 10_000
PUBLIC_PATHS = ["^/healthz$", "^/readyz$", "^/schema", "^/$", "^/ui/"]
"""`/` and `/ui/` are the staff page: it has its own session guard (prefstore.http.web)."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the key's name is the author of what they write."""

    key_id: str
    name: str
    scopes: frozenset[str]

    @property
    def view(self) -> View:
        return "staff" if "write" in self.scopes else "touchpoint"


class KeyCache:
    def __init__(self, keystore: KeyStore, ttl: float) -> None:
        self._keystore = keystore
        self._ttl = ttl
        self._entries: OrderedDict[str, tuple[float, Principal]] = OrderedDict()

    async def principal(self, key: str) -> Principal:
        now = time.monotonic()
        hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        info = await self._keystore.verify(key)
        principal = Principal(info.id, info.name, effective_scopes(info.scopes))
        self._entries[key] = (now + self._ttl, principal)
        self._entries.move_to_end(key)
        while len(self._entries) > CACHE_SIZE:
            self._entries.popitem(last=False)
        return principal


def presented_key(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    headers = connection.headers
    authorization = headers.get("authorization")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    return headers.get("x-api-key")


class ApiKeyMiddleware(AbstractAuthenticationMiddleware):
    """Every path but the public ones needs a valid key. The key cache lives on app.state
    (it is built by the lifespan, once Redis is connected)."""

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(app, exclude=PUBLIC_PATHS)

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        key = presented_key(connection)
        if key is None:
            raise Unauthenticated("an API key is required (Authorization: Bearer <key>)")
        cache: KeyCache = connection.app.state.key_cache
        principal = await cache.principal(key)
        return AuthenticationResult(user=principal, auth=principal)


async def require_scope(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Guard: the route's `opt["scope"]` must be among the caller's scopes.

    Async on purpose: Litestar runs a *sync* guard in a worker thread (`sync_to_thread`),
    which cost about a fifth of the CPU of every API request (docs/BENCHMARKS.md).
    """
    needed = handler.opt.get("scope")
    principal = connection.scope.get("auth")
    if not isinstance(principal, Principal):
        raise Unauthenticated("an API key is required")
    if needed is None or needed not in principal.scopes:
        raise Forbidden(f"this key lacks the '{needed}' scope")


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    principal = connection.scope.get("auth")
    assert isinstance(principal, Principal), "route reached without authentication"
    return principal
