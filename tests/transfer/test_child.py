"""The HTTP import's child process (`transfer/child.py`): the import runs in another process,
the caller's loop keeps answering, and the child is gone when the import is — finished,
abandoned by its client, or stopped by an outage."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
from collections.abc import AsyncIterator
from multiprocessing.process import BaseProcess

import pytest

from prefstore.config import Settings
from prefstore.errors import TooLarge, Unavailable
from prefstore.redis.connection import connect
from prefstore.services import Services
from prefstore.transfer import ImportOptions, Mapping
from prefstore.transfer.child import reachable_url, run_apart
from tests.support.backends import delete_prefix, new_prefix
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.real_redis

HEADER = b"Record ID,First Name,Email\n"
FIRST = 2000
"""Rows sent before the body pauses: two full batches, written while it waits."""


def rows(start: int, stop: int) -> bytes:
    return "".join(f"{n},P{n},p{n}@example.com\n" for n in range(start, stop)).encode()


class PausedBody:
    """A request body sent in two parts: the second (or `fail`) once `go` is set."""

    def __init__(self, rest: bytes, fail: BaseException | None = None) -> None:
        self.go = asyncio.Event()
        self.rest, self.fail = rest, fail

    async def chunks(self) -> AsyncIterator[bytes]:
        yield HEADER + rows(0, FIRST)
        await self.go.wait()
        if self.fail is not None:
            raise self.fail
        yield self.rest


@pytest.fixture
async def services(redis_server: RedisServer) -> AsyncIterator[Services]:
    prefix = new_prefix("ch")
    client = connect(redis_server.url, 2.0)
    yield Services.build(Settings(key_prefix=prefix, redis_url=redis_server.url), client)
    await delete_prefix(client, prefix)
    await client.aclose()


def import_children() -> list[BaseProcess]:
    return [p for p in multiprocessing.active_children() if p.name == "prefstore-import"]


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def first_part_written(services: Services) -> None:
    """The child wrote the rows sent so far (while the caller only waited)."""
    deadline = time.monotonic() + 20
    while not await services.redis.exists(services.keys.record(str(FIRST - 1))):
        assert time.monotonic() < deadline, "the first rows were never written"
        await asyncio.sleep(0.05)


def options(**more: object) -> ImportOptions:
    return ImportOptions(mapping=Mapping(), actor="tester", keep_rejections=True, **more)  # type: ignore[arg-type]


async def test_the_import_runs_in_another_process_while_lookups_are_answered(
    services: Services,
) -> None:
    body = PausedBody(rows(FIRST, FIRST + 1000))
    running = asyncio.create_task(run_apart(services.importer, body.chunks(), options()))
    await first_part_written(services)
    (child,) = import_children()
    pid = child.pid
    assert pid is not None and pid != os.getpid()
    # The import is in progress (its body not all sent) and this loop answers lookups.
    assert await services.reader.by_id("7", "touchpoint") is not None
    assert not running.done()
    body.go.set()
    summary = await running
    assert (summary.rows, summary.created, summary.rejected) == (FIRST + 1000, FIRST + 1000, 0)
    assert (await services.store.get_record("2500")).name == "P2500"
    assert import_children() == [] and gone(pid)


async def test_a_body_that_fails_midway_ends_the_child_and_nothing_else(
    services: Services,
) -> None:
    body = PausedBody(b"", fail=ConnectionResetError("client went away"))
    running = asyncio.create_task(run_apart(services.importer, body.chunks(), options()))
    await first_part_written(services)
    (child,) = import_children()
    pid = child.pid
    assert pid is not None
    body.go.set()
    with pytest.raises(ConnectionResetError):
        await running
    assert import_children() == [] and gone(pid)
    # The next import and the store work as before.
    again = await run_apart(services.importer, _once(HEADER + rows(5, 8)), options())
    assert (again.rows, again.unchanged) == (3, 3)


async def test_errors_come_back_as_the_error_tree_s_own(services: Services) -> None:
    body = _once(HEADER + rows(0, 5000))
    with pytest.raises(TooLarge, match="decompressed") as raised:
        await run_apart(services.importer, body, options(max_bytes=10_000))
    assert raised.value.code == "too_large"
    assert import_children() == []


async def test_an_outage_mid_import_is_unavailable(own_server: RedisServer) -> None:
    client = connect(own_server.url, 0.5)
    try:
        services = Services.build(Settings(key_prefix="out:", redis_url=own_server.url), client)
        body = PausedBody(rows(FIRST, FIRST + 1000))
        running = asyncio.create_task(
            run_apart(services.importer, body.chunks(), options(retry_seconds=0.5))
        )
        await first_part_written(services)
        (child,) = import_children()
        pid = child.pid
        own_server.kill()
        body.go.set()
        with pytest.raises(Unavailable):
            await asyncio.wait_for(running, 20)
        assert import_children() == [] and pid is not None and gone(pid)
    finally:
        await client.aclose()


async def test_a_store_in_this_process_only_is_imported_on_a_thread() -> None:
    import fakeredis

    fake = fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer())
    assert reachable_url(fake) is None
    services = Services.build(Settings(key_prefix="f:"), fake)
    summary = await run_apart(services.importer, _once(HEADER + rows(0, 3)), options())
    assert summary.created == 3
    await fake.aclose()


def test_reachable_urls() -> None:
    assert reachable_url(connect("redis://u%40x:p%3Aw@h:7000/3", 1)) == (
        "redis://u%40x:p%3Aw@h:7000/3"
    )
    assert reachable_url(connect("unix:///tmp/r.sock?db=2", 1)) == "unix:///tmp/r.sock?db=2"
    assert reachable_url(connect("rediss://h:7000/0", 1)) is None


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data
