"""Browser-test fixtures: Debian's chromium driven by Playwright, the app under uvicorn.

The browser is the system's /usr/bin/chromium (`scripts/install_browser.sh` installs it);
Playwright never downloads one. In CI (`CI` set) a missing browser fails the tests; on a
developer machine it skips them, saying why.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, async_playwright
from redis.asyncio import Redis

from prefstore.redis.connection import connect
from tests.support.redis_server import RedisServer, free_port

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


@dataclass
class Server:
    url: str
    prefix: str
    redis_url: str


@pytest.fixture
def prefix() -> str:
    return f"tb{uuid.uuid4().hex[:8]}:"


@pytest.fixture
async def redis(redis_server: RedisServer, prefix: str) -> AsyncIterator[Redis]:
    client = connect(redis_server.url, timeout=2.0)
    yield client
    async for key in client.scan_iter(match=f"{prefix}*", count=1000):
        await client.delete(key)
    await client.aclose()


@pytest.fixture
def app_server(redis_server: RedisServer, prefix: str) -> Iterator[Server]:
    """The real app under uvicorn, in its own process, on a free port."""
    port = free_port()
    env = {
        **os.environ,
        "PREFSTORE_REDIS_URL": redis_server.url,
        "PREFSTORE_KEY_PREFIX": prefix,
        "PREFSTORE_KEY_CACHE_SECONDS": "0.5",
        "PREFSTORE_LOG_LEVEL": "warning",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "prefstore.http.app:app_from_env",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process)
        yield Server(url=url, prefix=prefix, redis_url=redis_server.url)
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the app did not become ready")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    require_chromium()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        await launched.close()
