"""Liveness, readiness and metrics (a `metrics` key scrapes; an admin key can too)."""

from __future__ import annotations

import asyncio
from typing import Literal

import msgspec
from litestar import MediaType, Response, get
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from prefstore.errors import Unavailable
from prefstore.http.auth import require_scope
from prefstore.http.deps import AllServices
from prefstore.http.metrics import refresh, timed_ping
from prefstore.http.openapi import problems
from prefstore.redis.connection import server_info


class Health(msgspec.Struct):
    status: str


class Readiness(msgspec.Struct):
    status: str
    redis_version: str | None
    aof_enabled: bool
    """Whether the Redis behind this service persists writes to an append-only file."""
    search_index: Literal["ready", "loading"] | None = None
    """Whether this process's search index is built; searches answer 503 while "loading"."""
    event_loop: str | None = None
    """The class of the event loop serving this process (`uvloop.Loop` under `prefstore
    serve`), so a deployment can check it runs on the loop it was meant to."""


@get("/healthz", tags=["health"], summary="The process is up")
async def healthz() -> Health:
    return Health(status="ok")


@get("/readyz", tags=["health"], summary="Redis answers", responses=problems(503))
async def readyz(services: AllServices) -> Readiness:
    redis = services.redis
    try:
        await timed_ping(redis)
    except Exception as exc:
        raise Unavailable("redis does not answer") from exc
    info = await server_info(redis)
    loop = type(asyncio.get_running_loop())
    return Readiness(
        status="ok",
        **info,
        search_index=services.search.state,
        event_loop=f"{loop.__module__}.{loop.__qualname__}",
    )


@get(
    "/metrics",
    guards=[require_scope],
    opt={"scope": "metrics"},
    tags=["health"],
    summary="Prometheus metrics (this process's)",
    media_type=MediaType.TEXT,
)
async def metrics(services: AllServices) -> Response[bytes]:
    await refresh(services)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
