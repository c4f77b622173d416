"""The near-cache of the lookup path: never a card older than its bound, never a card after
its erasure in this process, emptied when Redis can no longer report changes, views kept
apart. The bounds are stated in customers/nearcache.py."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import msgspec
import pytest
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from prefstore.config import Settings
from prefstore.customers.apikeys import KeyStore
from prefstore.customers.nearcache import CardBytes, NearCache
from prefstore.customers.reader import VIEWS, CardReader
from prefstore.customers.store import CustomerStore
from prefstore.http.app import create_app
from prefstore.http.deps import services_of
from prefstore.models.inputs import CustomerCreate, CustomerPatch, NoteInput
from prefstore.redis.connection import connect
from prefstore.redis.keyspace import KeySpace
from prefstore.services import Services
from tests.support.redis_server import RedisServer

PREFIX = "nc:"
DELAY = 1.0
"""The invalidation delay these tests allow (a message on the loopback: normally < 5 ms);
the entries' own bound is set far above it, so only Redis's message can explain a fresh
card within it."""
SETTINGS = Settings(key_prefix=PREFIX, near_cache=1000, near_cache_seconds=60.0, redis_timeout=0.3)
STAFF_NOTE = "staff only: owes us a tenner"
CARD = CardBytes(b"1", b"{}")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _cache(clock: Clock, entries: int = 10, max_bytes: int = 10_000) -> NearCache:
    cache = NearCache(entries=entries, max_bytes=max_bytes, seconds=1.0, views=VIEWS, clock=clock)
    cache.flush(live=True)
    return cache


# ------------------------------------------------------------------ the cache on its own
def test_an_entry_expires_at_its_bound_counted_from_the_read() -> None:
    clock = Clock()
    cache = _cache(clock)
    fill = cache.begin("k", "touchpoint")
    assert fill is not None
    clock.now += 0.4  # the reply took this long
    cache.fill(fill, CARD)
    assert cache.get("k", "touchpoint") == CARD
    clock.now += 0.59
    assert cache.get("k", "touchpoint") == CARD
    clock.now += 0.01
    assert cache.get("k", "touchpoint") is None


def test_a_read_that_raced_a_change_or_a_flush_is_not_kept() -> None:
    cache = _cache(Clock())
    fill = cache.begin("k", "staff")
    assert fill is not None
    cache.changed([b"k"])
    cache.fill(fill, CARD)
    assert cache.get("k", "staff") is None
    fill = cache.begin("k", "staff")
    assert fill is not None
    cache.changed(None)  # FLUSHALL
    cache.fill(fill, CARD)
    assert cache.get("k", "staff") is None
    fill = cache.begin("k", "staff")
    assert fill is not None
    cache.flush(live=True)  # the tracking connection was lost and found again
    cache.fill(fill, CARD)
    assert cache.get("k", "staff") is None


def test_nothing_is_cached_while_changes_go_unreported() -> None:
    cache = _cache(Clock())
    cache.fill(cache.begin("k", "contact"), CARD)  # type: ignore[arg-type]
    cache.flush(live=False)
    assert cache.get("k", "contact") is None
    assert cache.begin("k", "contact") is None


def test_a_change_drops_every_view_of_the_card() -> None:
    cache = _cache(Clock())
    for view in VIEWS:
        cache.fill(cache.begin("k", view), CardBytes(b"1", view.encode()))  # type: ignore[arg-type]
    assert [cache.get("k", view) for view in VIEWS] == [
        CardBytes(b"1", view.encode()) for view in VIEWS
    ]
    cache.changed([b"other", b"k"])
    assert [cache.get("k", view) for view in VIEWS] == [None, None, None]


def test_bounded_in_entries_and_bytes_least_recently_used_out() -> None:
    cache = _cache(Clock(), entries=3, max_bytes=30)
    for key in "abc":
        cache.fill(cache.begin(key, "staff"), CardBytes(b"1", b"x" * 5))  # type: ignore[arg-type]
    assert cache.get("a", "staff") is not None  # a is now the most recent
    cache.fill(cache.begin("d", "staff"), CardBytes(b"1", b"x" * 5))  # type: ignore[arg-type]
    assert cache.get("b", "staff") is None
    assert len(cache) == 3
    cache.fill(cache.begin("e", "staff"), CardBytes(b"1", b"x" * 24))  # type: ignore[arg-type]
    assert len(cache) == 1  # 25 of the 30 bytes: the others had to go


# ------------------------------------------------------------------ with Redis
@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis", appendonly=False)
    server.start()
    yield server
    if server.process is not None:
        server.resume()
    server.stop()


@dataclass
class Instance:
    """One app instance's collaborators: its own client, near-cache and reader."""

    services: Services
    client: Redis

    @property
    def cache(self) -> NearCache:
        assert self.services.near_cache is not None
        return self.services.near_cache.cache

    async def version(self, customer_id: str = "ada", view: str = "touchpoint") -> bytes | None:
        found = await self.services.reader.by_id(customer_id, view)  # type: ignore[arg-type]
        return None if found is None else found.version


@pytest.fixture
async def instances(server: RedisServer) -> AsyncIterator[Callable[[], Awaitable[Instance]]]:
    running: list[tuple[Instance, object]] = []

    async def start() -> Instance:
        client = connect(server.url, timeout=SETTINGS.redis_timeout)
        services = Services.build(SETTINGS, client)
        context = services.running()
        await context.__aenter__()
        instance = Instance(services, client)
        running.append((instance, context))
        await _until(lambda: instance.cache.live)
        return instance

    yield start
    for instance, context in reversed(running):
        await context.__aexit__(None, None, None)  # type: ignore[attr-defined]
        await instance.client.aclose()


async def _until(condition: Callable[[], bool], within: float = DELAY) -> float:
    """Seconds until `condition` held; fails the test past `within`."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < within, "not within the bound"
        await asyncio.sleep(0.005)
    return time.monotonic() - started


async def _fresh_within(instance: Instance, want: bytes | None) -> None:
    started = time.monotonic()
    while (have := await instance.version()) != want:
        assert time.monotonic() - started < DELAY, f"still {have!r}, not {want!r}"
        await asyncio.sleep(0.005)


ADA = CustomerCreate(id="ada", name="Ada", notes=[NoteInput(text=STAFF_NOTE, visibility="staff")])


async def test_a_change_by_another_instance_reaches_the_cache_within_the_delay(
    instances: Callable[[], Awaitable[Instance]],
) -> None:
    here, there = await instances(), await instances()
    await there.services.store.create(ADA, actor="t")
    assert await here.version() == b"1"
    assert await here.version() == b"1"
    assert len(here.cache) == 1  # served from the cache from now on
    for version in (b"2", b"3"):
        name = f"Ada {version.decode()}"
        await there.services.store.patch("ada", CustomerPatch(name=name), actor="t")
        await _fresh_within(here, version)


async def test_an_erasure_elsewhere_within_the_delay_and_here_at_once(
    instances: Callable[[], Awaitable[Instance]],
) -> None:
    here, there = await instances(), await instances()
    await there.services.store.create(ADA, actor="t")
    assert await here.version() == b"1"
    assert len(here.cache) == 1
    await there.services.store.erase("ada", actor="t")
    await _fresh_within(here, None)
    await there.services.store.create(ADA, actor="t")
    await _fresh_within(here, b"1")
    assert await there.version() == b"1"
    await here.services.store.erase("ada", actor="t")
    assert await here.version() is None  # no wait: this process's own erasure


async def test_this_process_forgets_its_own_writes_without_waiting_for_redis(
    server: RedisServer,
) -> None:
    """No invalidation stream at all here: only the store's `written` hook can do it."""
    client = connect(server.url, timeout=0.5)
    keys = KeySpace(PREFIX)
    cache = NearCache(entries=10, max_bytes=10**6, seconds=60.0, views=VIEWS)
    cache.flush(live=True)  # as if Redis tracked changes for us, but no message ever comes
    reader = CardReader(client, keys, "US", cache)
    store = CustomerStore(client, keys, written=reader.forget)
    try:
        await store.create(ADA, actor="t")
        assert (await reader.by_id("ada", "touchpoint")) is not None
        await store.patch("ada", CustomerPatch(name="Ada K"), actor="t")
        found = await reader.by_id("ada", "touchpoint")
        assert found is not None and found.version == b"2"
        await store.erase("ada", actor="t")
        assert await reader.by_id("ada", "touchpoint") is None
    finally:
        await client.aclose()


async def test_with_every_message_lost_no_card_is_older_than_the_bound(
    server: RedisServer,
) -> None:
    client = connect(server.url, timeout=0.5)
    keys = KeySpace(PREFIX)
    cache = NearCache(entries=10, max_bytes=10**6, seconds=0.3, views=VIEWS)
    cache.flush(live=True)  # tracking claimed, messages never delivered
    reader = CardReader(client, keys, "US", cache)
    elsewhere = CustomerStore(client, keys)  # not this reader's process: no hook
    try:
        await elsewhere.create(ADA, actor="t")
        read_at = time.monotonic()
        assert (await reader.by_id("ada", "touchpoint")) is not None
        await elsewhere.patch("ada", CustomerPatch(name="Ada K"), actor="t")
        while (found := await reader.by_id("ada", "touchpoint")) and found.version == b"1":
            assert time.monotonic() - read_at < 0.3  # stale, but within the bound
            await asyncio.sleep(0.01)
        assert found is not None and found.version == b"2"
    finally:
        await client.aclose()


async def test_a_lost_tracking_connection_empties_the_cache(
    instances: Callable[[], Awaitable[Instance]], server: RedisServer
) -> None:
    here = await instances()
    await here.services.store.create(ADA, actor="t")
    await here.version()
    assert len(here.cache) == 1
    await here.client.execute_command("CLIENT", "KILL", "TYPE", "pubsub")  # type: ignore[no-untyped-call]
    await _until(lambda: len(here.cache) == 0)
    await _until(lambda: here.cache.live)  # tracked again: cached again
    await here.version()
    assert len(here.cache) == 1
    server.stop()
    server.start()  # an empty Redis (no AOF): the card is gone, and so is the cache's copy
    await _until(lambda: len(here.cache) == 0)
    await _until(lambda: here.cache.live, within=3.0)
    assert await here.version() is None


async def test_a_stalled_tracking_connection_empties_the_cache(
    instances: Callable[[], Awaitable[Instance]], server: RedisServer
) -> None:
    here = await instances()
    await here.services.store.create(ADA, actor="t")
    await here.version()
    server.stall()
    try:
        # heartbeat (1 s) + PING answered within the timeout (0.3 s)
        await _until(lambda: not here.cache.live and len(here.cache) == 0, within=2.5)
    finally:
        server.resume()
    await _until(lambda: here.cache.live, within=3.0)


async def test_views_never_leak_into_each_other(
    instances: Callable[[], Awaitable[Instance]],
) -> None:
    here = await instances()
    await here.services.store.create(ADA, actor="t")
    reader = here.services.reader
    for _ in range(2):  # the second round from the cache
        staff = await reader.by_id("ada", "staff")
        touchpoint = await reader.by_id("ada", "touchpoint")
        contact = await reader.by_id("ada", "contact")
        assert staff is not None and touchpoint is not None and contact is not None
        assert STAFF_NOTE.encode() in staff.body
        assert STAFF_NOTE.encode() not in touchpoint.body
        assert STAFF_NOTE.encode() not in contact.body
    assert len(here.cache) == 3


@pytest.mark.parametrize("fast_lookup", [True, False])
async def test_the_routes_with_the_cache_on_keep_scope_view_etag_and_erasure(
    server: RedisServer, fast_lookup: bool
) -> None:
    settings = msgspec.structs.replace(SETTINGS, redis_url=server.url)
    app = create_app(settings, fast_lookup=fast_lookup)
    client = connect(server.url, 2.0)
    keystore = KeyStore(client, KeySpace(PREFIX))
    headers = {}
    for scope in ("write", "contact", "lookup", "import", "admin"):
        made = await keystore.create(scope, [scope])
        headers[scope] = {"Authorization": f"Bearer {made.key}"}
    await client.aclose()
    async with AsyncTestClient(app) as http:
        cache = services_of(app.state).near_cache
        assert cache is not None
        await _until(lambda: cache.cache.live)
        made = await http.post("/v1/customers", json=ADA_JSON, headers=headers["write"])
        assert made.status_code == 201, made.text
        for _ in range(2):  # the second round from the cache
            answers = {
                scope: await http.get("/v1/customers/ada", headers=headers[scope])
                for scope in ("write", "contact", "lookup", "import")
            }
            assert answers["import"].status_code == 403
            assert {answers[s].status_code for s in ("write", "contact", "lookup")} == {200}
            assert STAFF_NOTE in answers["write"].text
            assert STAFF_NOTE not in answers["contact"].text + answers["lookup"].text
            assert "ada@example.com" in answers["contact"].text
            assert "ada@example.com" not in answers["lookup"].text  # masked for a POS
            assert {a.headers["etag"] for s, a in answers.items() if s != "import"} == {'"1"'}
        assert len(cache.cache) == 3
        patched = await http.patch(
            "/v1/customers/ada", json={"name": "Ada King"}, headers=headers["write"]
        )
        assert patched.status_code == 200, patched.text
        after = await http.get("/v1/customers/ada", headers=headers["lookup"])
        assert after.headers["etag"] == '"2"'  # no wait (the hook; Redis alone: tested above)
        erased = await http.delete("/v1/customers/ada", headers=headers["admin"])
        assert erased.status_code == 200, erased.text
        for scope in ("write", "contact", "lookup"):
            gone = await http.get("/v1/customers/ada", headers=headers[scope])
            assert gone.status_code == 404  # at once: this process erased it


ADA_JSON = {
    "id": "ada",
    "name": "Ada",
    "emails": ["ada@example.com"],
    "notes": [{"text": STAFF_NOTE, "visibility": "staff"}],
}
