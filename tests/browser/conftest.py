"""Browser-test fixtures: Debian's chromium driven by Playwright, the app under uvicorn.

The browser is the system's /usr/bin/chromium (`scripts/install_browser.sh` installs it);
Playwright never downloads one. In CI (`CI` set) a missing browser fails the tests; on a
developer machine it skips them, saying why.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright
from redis.asyncio import Redis

from prefstore.redis.connection import connect
from tests.support.app_process import Server, app_process
from tests.support.backends import delete_prefix
from tests.support.redis_server import RedisServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing: run scripts/install_browser.sh"
    if os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def prefix() -> str:
    return f"tb{uuid.uuid4().hex[:8]}:"


@pytest.fixture
async def redis(redis_server: RedisServer, prefix: str) -> AsyncIterator[Redis]:
    client = connect(redis_server.url, timeout=2.0)
    yield client
    await delete_prefix(client, prefix)
    await client.aclose()


@pytest.fixture
def app_server(redis_server: RedisServer, prefix: str) -> Iterator[Server]:
    """The real app under uvicorn, in its own process, on a free port."""
    with app_process(redis_server.url, prefix) as server:
        yield server


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    require_chromium()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        await launched.close()
