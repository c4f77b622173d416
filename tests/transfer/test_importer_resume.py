"""Resumability: an import killed mid-file (SIGKILL), or cut off by a Redis restart, and run
again ends in the state of an uninterrupted run. Real redis-server only."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from prefstore.customers.changes import ChangeFeed
from prefstore.customers.store import CustomerStore
from prefstore.redis.connection import connect
from prefstore.redis.keyspace import KeySpace
from tests.support.imports import export_bytes, importer_for, run_import
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.real_redis

ROWS = 1200
_STAMPS = re.compile(rb'"(confirmed_at|added_at|at|updated_at)":"[^"]*"')


def crm_file(path: Path) -> Path:
    lines = [
        "Record ID,First Name,Last Name,Email,Phone Number,Create Date,Allergies,Favourite drink"
    ]
    for n in range(ROWS):
        allergy = "Peanuts (severe)" if n % 7 == 0 else ""
        email = f"p{n}@example.com" if n % 97 else f"bad{n}"
        lines.append(
            f"{5000 + n},First{n},Last{n},{email},+1 415 555 {n % 10000:04d},"
            f"2020-01-01 10:00,{allergy},Drink {n % 5}"
        )
    path.write_text("\n".join(lines) + "\n")
    return path


async def state(redis: Redis, prefix: str) -> dict[str, Any]:
    """What must match between runs: records (timestamps of this run masked), events, cards'
    versions, identifier index, and one change-feed entry per customer."""
    store = CustomerStore(redis, KeySpace(prefix))
    exported = _STAMPS.sub(rb'"\1":"*"', await export_bytes(redis, store))
    index: dict[str, bytes] = {}
    versions: dict[str, bytes] = {}
    async for key in redis.scan_iter(match=f"{prefix}*", count=1000):
        name = key.decode().removeprefix(prefix)
        if name.startswith("idx:"):
            index[name] = await redis.get(key)
        elif name.endswith(":card"):
            versions[name] = await redis.hget(key, "v")
    feed = await ChangeFeed(redis, KeySpace(prefix)).read_after("0", count=10 * ROWS)
    changes = sorted((e.op, e.customer_id, e.version) for _id, e in feed)
    return {"export": exported, "index": index, "versions": versions, "changes": changes}


def _cli(url: str, prefix: str, path: Path, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PREFSTORE_REDIS_URL": url, "PREFSTORE_KEY_PREFIX": prefix}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "prefstore.cli",
            "import",
            "--quiet",
            "--batch-size",
            "25",
            "--rejects",
            str(path.with_suffix(".rej")),
            *extra,
            str(path),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


async def _cleanup(redis: Redis, *prefixes: str) -> None:
    for prefix in prefixes:
        async for key in redis.scan_iter(match=f"{prefix}*", count=1000):
            await redis.delete(key)


# Its own bounds: up to 60 s for the first run to get a third in, 120 s for the re-run.
@pytest.mark.timeout(240)
async def test_killed_import_resumes_to_the_same_state(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    path = crm_file(tmp_path / "crm.csv")
    redis = connect(redis_server.url, timeout=2.0)
    killed, reference = f"k{uuid.uuid4().hex[:8]}:", f"r{uuid.uuid4().hex[:8]}:"
    try:
        await run_import(
            CustomerStore(redis, KeySpace(reference)), path.read_bytes(), batch_size=25
        )
        proc = _cli(redis_server.url, killed, path)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            written = (
                await redis.xlen(f"{killed}changes")
                if await redis.exists(f"{killed}changes")
                else 0
            )
            if written >= ROWS // 3:
                break
            await asyncio.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)  # also closes its stderr pipe
        assert proc.returncode == -signal.SIGKILL
        partial = await redis.xlen(f"{killed}changes")
        assert ROWS // 3 <= partial < ROWS - ROWS // 97 - 1, "killed mid-file"
        rerun = _cli(redis_server.url, killed, path)
        _out, err = rerun.communicate(timeout=120)
        assert rerun.returncode == 0, err.decode()
        assert await state(redis, killed) == await state(redis, reference)
    finally:
        await _cleanup(redis, killed, reference)
        await redis.aclose()


async def test_redis_restart_mid_file(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis")
    server.start()
    redis = connect(server.url, timeout=0.5)
    path = crm_file(tmp_path / "crm.csv")
    data = path.read_bytes()
    restarted, down = asyncio.Event(), asyncio.Event()
    tasks: list[asyncio.Task[None]] = []

    async def restart() -> None:
        await asyncio.to_thread(server.kill)  # a crash: no clean shutdown
        down.set()
        await asyncio.sleep(0.5)
        await asyncio.to_thread(server.start)
        restarted.set()

    async def source() -> AsyncIterator[bytes]:
        step = len(data) // 20
        for n, start in enumerate(range(0, len(data), step)):
            if n == 8:
                tasks.append(asyncio.create_task(restart()))
                await down.wait()  # the rest of the file meets a dead, then a restarted, Redis
            yield data[start : start + step]

    try:
        from prefstore.transfer import ImportOptions

        store = CustomerStore(redis, KeySpace("a:"))
        summary = await importer_for(store).run(
            source(), ImportOptions(batch_size=25, retry_seconds=30)
        )
        assert restarted.is_set()
        assert summary.rows == ROWS and summary.rejected == ROWS // 97 + 1
        reference = CustomerStore(redis, KeySpace("b:"))
        await run_import(reference, data, batch_size=25)
        got, want = await state(redis, "a:"), await state(redis, "b:")
        # A batch cut off by the restart is redone; its customers are written once each.
        assert got == want
    finally:
        await redis.aclose()
        server.stop()
