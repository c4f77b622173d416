"""The Litestar application: `create_app(settings)` wires everything together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from litestar import Litestar
from litestar.logging import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.prometheus import PrometheusConfig
from redis.asyncio import Redis

from prefstore import __version__
from prefstore.config import Settings
from prefstore.http.auth import ApiKeyMiddleware
from prefstore.http.customers import CustomerController
from prefstore.http.deps import DEPENDENCIES, STATE_KEY
from prefstore.http.errors import exception_handlers
from prefstore.http.health import healthz, metrics, readyz
from prefstore.http.imports import create_import
from prefstore.http.lookup import LOOKUP_ROUTES
from prefstore.http.runtime import install_runtime_tuning
from prefstore.http.search import SEARCH_ROUTES
from prefstore.http.web import web_setup
from prefstore.http.web.session import SESSION_STORE
from prefstore.redis.connection import connect
from prefstore.redis.embedded import EmbeddedRedis
from prefstore.services import Services


def _openapi() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="prefstore",
        version=__version__,
        description="What we know about the person in front of you: allergies first.",
        path="/schema",
        render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin(path="/swagger")],
        components=Components(
            security_schemes={
                "apiKey": SecurityScheme(type="http", scheme="bearer", bearer_format="psk_…"),
            }
        ),
        security=[{"apiKey": []}],
    )


def create_app(settings: Settings | None = None, redis: Redis | None = None) -> Litestar:
    """Build the app. With `redis` given (tests), it is used and left open; else the app
    connects to `settings.redis_url`, or starts the embedded Redis when there is none."""
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
            services = Services.build(settings, client)
            app.state[STATE_KEY] = services
            app.stores.register(SESSION_STORE, services.sessions, allow_override=True)
            await stack.enter_async_context(services.running())
            yield

    web = web_setup(settings)
    prometheus = PrometheusConfig(
        app_name="prefstore", prefix="prefstore", group_path=True, exclude=["^/metrics$"]
    )
    return Litestar(
        route_handlers=[
            CustomerController,
            *LOOKUP_ROUTES,
            healthz,
            readyz,
            metrics,
            *web.route_handlers,
            create_import,
            *SEARCH_ROUTES,
        ],
        dependencies=DEPENDENCIES,
        lifespan=[lifespan],
        csrf_config=web.csrf,
        middleware=[prometheus.middleware, ApiKeyMiddleware],
        exception_handlers=exception_handlers(),
        openapi_config=_openapi(),
        request_max_body_size=settings.max_body_bytes,
        logging_config=LoggingConfig(
            root={"level": settings.log_level.upper(), "handlers": ["queue_listener"]},
            log_exceptions="debug",
        ),
    )


def app_from_env() -> Litestar:
    """Factory for ASGI servers, with the serving GC tuning `prefstore serve` has:
    `granian --interface asgi --factory prefstore.http.app:app_from_env`."""
    app = create_app(Settings.from_env())
    install_runtime_tuning(app)
    return app
