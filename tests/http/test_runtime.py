"""Serving-time tuning: the GC freezes start-up objects once the app has started."""

from __future__ import annotations

import gc
import inspect
from collections.abc import Iterator

import pytest
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from prefstore.config import Settings
from prefstore.http.app import create_app
from prefstore.http.auth import require_scope
from prefstore.http.runtime import GC_THRESHOLD, install_runtime_tuning


@pytest.fixture
def restored_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("restored_gc")
async def test_startup_objects_are_frozen_after_start(
    redis_client: Redis, settings: Settings
) -> None:
    gc.unfreeze()
    app = create_app(settings, redis=redis_client)
    install_runtime_tuning(app)
    assert gc.get_freeze_count() == 0
    async with AsyncTestClient(app) as client:
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == GC_THRESHOLD
        assert (await client.get("/healthz")).status_code == 200


def test_scope_guard_is_async() -> None:
    """Litestar runs sync guards in a worker thread: a fifth of a request's CPU."""
    assert inspect.iscoroutinefunction(require_scope)
