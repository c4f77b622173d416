"""The Litestar application: `create_app(settings)` wires everything together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from litestar import Litestar, Router
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.types import ControllerRouterHandler
from redis.asyncio import Redis

from prefstore import __version__
from prefstore.config import Settings
from prefstore.http.auth import ApiKeyMiddleware
from prefstore.http.consent import ConsentController
from prefstore.http.cors import cors_config
from prefstore.http.customers import CustomerController
from prefstore.http.deps import DEPENDENCIES, STATE_KEY
from prefstore.http.erasures import ERASURE_ROUTES
from prefstore.http.errors import exception_handlers
from prefstore.http.fast import install_fast_lookup
from prefstore.http.followups import FollowUpController
from prefstore.http.health import healthz, metrics, readyz
from prefstore.http.imports import create_import
from prefstore.http.logs import AccessLog, logging_config
from prefstore.http.lookup import LOOKUP_ROUTES
from prefstore.http.metrics import PROMETHEUS, RouteMetrics, time_pipelines
from prefstore.http.openapi import DocumentConfig
from prefstore.http.party import PARTY_ROUTES
from prefstore.http.requestid import RequestContext, RequestIds
from prefstore.http.runtime import install_runtime_tuning
from prefstore.http.search import SEARCH_ROUTES
from prefstore.http.venues import VENUE_ROUTES
from prefstore.http.web import DOCS_ASSETS, web_setup
from prefstore.http.web.session import SESSION_STORE
from prefstore.redis.connection import connect
from prefstore.redis.embedded import EmbeddedRedis
from prefstore.services import Services


def _openapi() -> DocumentConfig:
    return DocumentConfig(
        title="prefstore",
        version=__version__,
        description="What we know about the person in front of you: allergies first.",
        path="/schema",
        # Swagger UI only, from the pinned package's own files (no CDN script on the staff
        # page's origin); Scalar ships no locally servable assets, so it is gone.
        render_plugins=[
            SwaggerRenderPlugin(
                js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
                css_url=f"{DOCS_ASSETS}/swagger-ui.css",
                standalone_preset_js_url=f"{DOCS_ASSETS}/swagger-ui-standalone-preset.js",
                favicon=f"<link rel='icon' href='{DOCS_ASSETS}/favicon-32x32.png'>",
                path=["/", "/swagger"],
            )
        ],
        components=Components(
            security_schemes={
                "apiKey": SecurityScheme(type="http", scheme="bearer", bearer_format="psk_…"),
            }
        ),
        security=[{"apiKey": []}],
    )


API_ROUTES: list[ControllerRouterHandler] = [
    CustomerController,
    FollowUpController,
    ConsentController,
    *LOOKUP_ROUTES,
    healthz,
    readyz,
    metrics,
    create_import,
    *ERASURE_ROUTES,
    *SEARCH_ROUTES,
    *PARTY_ROUTES,
    *VENUE_ROUTES,
]
"""The API's routes and the health routes; the staff page's come from `web_setup`."""


def create_app(
    settings: Settings | None = None, redis: Redis | None = None, *, fast_lookup: bool = True
) -> Litestar:
    """Build the app. With `redis` given (tests), it is used and left open; else the app
    connects to `settings.redis_url`, or starts the embedded Redis when there is none.

    The lookup routes are served by the fast path in front of the router (`http/fast.py`);
    `fast_lookup=False` leaves them to their Litestar handlers (tests compare the two)."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            client = redis
            if client is None:
                url = settings.redis_url
                if url is None:
                    url = await stack.enter_async_context(EmbeddedRedis(settings.data_dir))
                client = connect(url, settings.redis_timeout)
                stack.push_async_callback(client.aclose)
            time_pipelines(client)  # a write's MULTI/EXEC into the Redis latency metric
            services = Services.build(settings, client)
            app.state[STATE_KEY] = services
            app.stores.register(SESSION_STORE, services.sessions, allow_override=True)
            await stack.enter_async_context(services.running())
            yield

    web = web_setup(settings)
    # The page's CSRF check runs on the page's own routes only, not on every API request.
    page = Router(
        "/",
        route_handlers=web.route_handlers,
        middleware=[DefineMiddleware(CSRFMiddleware, config=web.csrf)],
    )
    app = Litestar(
        route_handlers=[*API_ROUTES, page],
        dependencies=DEPENDENCIES,
        lifespan=[lifespan],
        middleware=[PROMETHEUS.middleware, ApiKeyMiddleware],
        exception_handlers=exception_handlers(),
        openapi_config=_openapi(),
        request_max_body_size=settings.max_body_bytes,
        logging_config=logging_config(settings),
        cors_config=cors_config(settings),
    )
    _in_front(app, settings, fast_lookup)
    return app


def _in_front(app: Litestar, settings: Settings, fast_lookup: bool) -> None:
    """What runs before Litestar's router: the request id and the access log around all it
    serves, and in front of that the lookup's fast path (which does both itself)."""
    ids, access = RequestIds(), AccessLog() if settings.access_log else None
    app.asgi_handler = RequestContext(app.asgi_handler, ids, access)
    if fast_lookup:
        install_fast_lookup(app, RouteMetrics(), ids, access)


def app_from_env() -> Litestar:
    """Factory for ASGI servers, with the serving GC tuning `prefstore serve` has:
    `granian --interface asgi --factory prefstore.http.app:app_from_env`."""
    app = create_app(Settings.from_env())
    install_runtime_tuning(app)
    return app
