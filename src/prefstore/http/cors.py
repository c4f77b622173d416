"""CORS for browser-based POS apps (`PREFSTORE_CORS_ORIGINS`; off by default).

Litestar's `CORSConfig` answers preflights and adds the headers to every response it
serves; the lookup's fast path (`http/fast.py`) runs in front of it, so `simple_headers`
gives it the headers Litestar's middleware would add to the same answer (the parity test
in tests/http/test_operations.py holds them equal).
"""

from __future__ import annotations

from litestar.config.cors import CORSConfig

from prefstore.config import Settings

EXPOSED = ["etag", "x-request-id", "retry-after", "ratelimit", "ratelimit-policy"]
"""Response headers a page's script may read: the ETag for If-Match, the request id for a
support call, the rate limit's answer."""


def cors_config(settings: Settings) -> CORSConfig | None:
    """None (no CORS headers at all) unless origins are configured. Keys go in a header,
    never a cookie, so credentials are not allowed."""
    if not settings.cors_origins:
        return None
    return CORSConfig(
        allow_origins=list(settings.cors_origins),
        allow_methods=["*"],
        allow_headers=["*"],
        allow_credentials=False,
        expose_headers=EXPOSED,
    )


def simple_headers(config: CORSConfig, origin: str, has_cookie: bool) -> list[tuple[bytes, bytes]]:
    """The headers Litestar's CORS middleware adds to a (non-preflight) answer to a request
    from `origin`."""
    headers = dict(config.simple_headers)
    if (config.is_allow_all_origins and has_cookie) or (
        not config.is_allow_all_origins and config.is_origin_allowed(origin)
    ):
        headers["Access-Control-Allow-Origin"] = origin
        headers["Vary"] = "Origin"
    headers["Access-Control-Allow-Headers"] = ", ".join(sorted(set(config.allow_headers)))
    headers["Access-Control-Allow-Methods"] = ", ".join(sorted(set(config.allow_methods)))
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
