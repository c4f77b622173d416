"""The staff quick-entry page: its routes, assets, session and CSRF configuration.

`create_app` wires it in with `web_setup(settings)`: the page at `/`, assets under
`/ui/static/`, the page's own JSON routes under `/ui/` (staff session cookie, CSRF token).
The session store and the key check are built with the other services (`services.py`).
"""

from __future__ import annotations

import importlib.util
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from litestar import Request, Response
from litestar.config.csrf import CSRFConfig
from litestar.exceptions import ClientException
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

from prefstore.config import Settings
from prefstore.http.web.routes import PAGE_HEADERS, STATIC_DIR, page, web_router

DOCS_ASSETS = "/ui/docs"
"""Swagger UI's files, served from the pinned `swagger-ui-py` package: the API docs page
(`/schema`) loads no third-party script from a CDN onto the staff page's origin."""
CSRF_COOKIE = "prefstore_csrf"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True)
class WebSetup:
    route_handlers: list[ControllerRouterHandler]
    csrf: CSRFConfig


async def _refuse_odd_paths(request: Request[Any, Any, Any]) -> None:
    """A NUL in an asset path makes the file system call raise (a 500 before this): it is
    a bad request, answered with the usual error body."""
    if "\x00" in request.url.path:
        raise ClientException("an asset path may not hold a NUL byte")


async def _with_page_headers(response: Response[Any]) -> Response[Any]:
    """Assets carry the page's own security headers (CSP, frame-ancestors, nosniff): a
    script or stylesheet opened on its own is no weaker than the page."""
    response.headers.update(PAGE_HEADERS)
    return response


def docs_assets_dir() -> Path:
    """Where the pinned swagger-ui-py package keeps Swagger UI's built files."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("swagger-ui-py is not installed (a dependency of prefstore)")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


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
        create_static_files_router(
            path="/ui/static",
            directories=[STATIC_DIR],
            before_request=_refuse_odd_paths,
            after_request=_with_page_headers,
        ),
        create_static_files_router(
            path=DOCS_ASSETS,
            directories=[docs_assets_dir()],
            name="docs-assets",
            before_request=_refuse_odd_paths,
            after_request=_with_page_headers,
        ),
    ]
    return WebSetup(route_handlers=handlers, csrf=csrf)
