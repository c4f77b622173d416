"""The staff quick-entry page: its routes, assets, session and CSRF configuration.

`create_app` wires it in with `web_setup(settings)`: the page at `/`, assets under
`/ui/static/`, the page's own JSON routes under `/ui/` (staff session cookie, CSRF token).
The session store and the key check are built with the other services (`services.py`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from litestar.config.csrf import CSRFConfig
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

from prefstore.config import Settings
from prefstore.http.web.routes import STATIC_DIR, page, web_router

CSRF_COOKIE = "prefstore_csrf"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True)
class WebSetup:
    route_handlers: list[ControllerRouterHandler]
    csrf: CSRFConfig


def web_setup(settings: Settings) -> WebSetup:
    secret = settings.session_secret or secrets.token_urlsafe(32)
    csrf = CSRFConfig(
        secret=secret,
        cookie_name=CSRF_COOKIE,
        header_name=CSRF_HEADER,
        cookie_samesite="strict",
        cookie_secure=settings.cookie_secure,
        # The key-authenticated API is not cookie-driven: CSRF cannot reach it.
        exclude=["^/v1/"],
    )

    handlers: list[Any] = [
        page,
        web_router(settings.session_seconds, settings.cookie_secure),
        create_static_files_router(path="/ui/static", directories=[STATIC_DIR]),
    ]
    return WebSetup(route_handlers=handlers, csrf=csrf)
