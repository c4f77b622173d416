"""API-key authentication and scope guards.

Verified keys are cached in-process for `key_cache_seconds`, so the lookup path does not
pay a Redis round trip for the key: a revoked key stops working within that time.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import ASGIApp

from prefstore.customers.access import Principal
from prefstore.errors import Forbidden, Unauthenticated
from prefstore.http.deps import services_of

PUBLIC_PATHS = ["^/healthz$", "^/readyz$", "^/schema", "^/$", "^/ui/"]
"""`/` and `/ui/` are the staff page: it has its own session guard (prefstore.http.web)."""


def presented_key(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    headers = connection.headers
    authorization = headers.get("authorization")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    return headers.get("x-api-key")


class ApiKeyMiddleware(AbstractAuthenticationMiddleware):
    """Every path but the public ones needs a valid key, checked against the in-process
    key cache (built with the other services by the app's lifespan)."""

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(app, exclude=PUBLIC_PATHS)

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        key = presented_key(connection)
        if key is None:
            raise Unauthenticated("an API key is required (Authorization: Bearer <key>)")
        principal = await services_of(connection.app.state).key_cache.principal(key)
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
