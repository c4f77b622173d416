"""API-key authentication, rate limits and scope guards.

Verified keys are cached in-process for `key_cache_seconds`, so the lookup path does not
pay a Redis round trip for the key: a revoked key stops working within that time. The same
`authenticate` serves Litestar's middleware (every API route) and the lookup routes' fast
path (`http/fast.py`): failed authentications are limited per client address, and every
request of a key counts against its per-key limit (`redis/ratelimit.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import ASGIApp

from prefstore.customers.access import Principal
from prefstore.errors import Forbidden, Unauthenticated
from prefstore.http.deps import services_of
from prefstore.services import Services

PUBLIC_PATHS = ["^/healthz$", "^/readyz$", "^/schema", "^/$", "^/ui/"]
"""`/` and `/ui/` are the staff page: it has its own session guard (prefstore.http.web)."""


def key_from(authorization: str | None, api_key_header: str | None) -> str | None:
    """The key a request presents: `Authorization: Bearer <key>`, else `X-API-Key`."""
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    return api_key_header


def presented_key(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    headers = connection.headers
    return key_from(headers.get("authorization"), headers.get("x-api-key"))


def client_address(scope: Mapping[str, Any]) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


async def authenticate(services: Services, key: str | None, address: str) -> Principal:
    """The caller, from the in-process key cache when it can be: a key not verified lately
    is checked against Redis, unless its address has failed too often (429 without a
    Redis read); a failure counts against the address."""
    if key is None:
        raise Unauthenticated("an API key is required (Authorization: Bearer <key>)")
    cache = services.key_cache
    principal = cache.cached(key)
    if principal is not None:
        return principal
    limiter = services.limiter
    await limiter.refuse_failing(address)
    try:
        return await cache.principal(key)
    except Unauthenticated:
        await limiter.record_failure(address)
        raise


def check_scope(principal: Principal, needed: str | None) -> None:
    if needed is None or needed not in principal.scopes:
        raise Forbidden(f"this key lacks the '{needed}' scope")


class ApiKeyMiddleware(AbstractAuthenticationMiddleware):
    """Every path but the public ones needs a valid key within its rate limit, checked
    against the in-process key cache (built with the other services by the app's lifespan)."""

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(app, exclude=PUBLIC_PATHS)

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        services = services_of(connection.app.state)
        address = client_address(connection.scope)
        principal = await authenticate(services, presented_key(connection), address)
        charge = services.limiter.charge_key(principal.key_id)
        if charge is not None:
            await charge.settle()
        return AuthenticationResult(user=principal, auth=principal)


async def require_scope(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Guard: the route's `opt["scope"]` must be among the caller's scopes.

    Async on purpose: Litestar runs a *sync* guard in a worker thread (`sync_to_thread`),
    which cost about a fifth of the CPU of every API request (docs/BENCHMARKS.md).
    """
    principal = connection.scope.get("auth")
    if not isinstance(principal, Principal):
        raise Unauthenticated("an API key is required")
    check_scope(principal, handler.opt.get("scope"))
