"""The write engine under a stalled or dying Redis: an outage is a fast `Unavailable` that
says whether the write may have landed, never a conflict or a retry loop, and a retry with
the write's operation id applies it at most once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
import redis
from redis.asyncio import Redis
from redis.exceptions import TimeoutError as RedisTimeout
from redis.exceptions import WatchError

from prefstore.customers.store import CustomerStore
from prefstore.errors import Unavailable
from prefstore.models.inputs import CustomerCreate, NoteInput
from prefstore.models.records import CustomerRecord
from prefstore.redis.connection import connect, lost_to_outage
from prefstore.redis.keyspace import KeySpace
from tests.support.redis_server import RedisServer

FAST = 1.5
"""Seconds within which an outage must be answered (socket timeout 0.5 s)."""


@pytest.fixture
async def stalling(own_server: RedisServer) -> AsyncIterator[tuple[CustomerStore, RedisServer]]:
    client = connect(own_server.url, timeout=0.5)
    store = CustomerStore(client, KeySpace("tx:"))
    await store.create(CustomerCreate(id="ada", name="Ada"), actor="t")
    yield store, own_server
    await client.aclose()


def _watch_lost_to_timeout() -> None:
    """What redis-py does when a command times out while keys are watched."""
    try:
        raise RedisTimeout("Timeout reading from 127.0.0.1:6379")
    except RedisTimeout:
        raise WatchError("A TimeoutError occurred while watching one or more keys")  # noqa: B904


def test_a_watch_lost_to_a_timeout_is_told_from_a_conflict() -> None:
    assert not lost_to_outage(WatchError("Watched variable changed."))
    with pytest.raises(WatchError) as raised:
        _watch_lost_to_timeout()
    assert lost_to_outage(raised.value)


async def test_a_real_conflict_is_still_retried(redis_client: Redis) -> None:
    """Contention is not an outage: eight writers at once all land (on fakeredis and on a
    real server)."""
    store = CustomerStore(redis_client, KeySpace("tx8:"))
    await store.create(CustomerCreate(id="ada", name="Ada"), actor="t")
    await asyncio.gather(
        *(
            store.add_note("ada", NoteInput(text=f"n{i}"), actor="t", expect_version=None)
            for i in range(8)
        )
    )
    record = await store.get_record("ada")
    assert len(record.notes) == 8 and record.version == 9
    await redis_client.delete(*KeySpace("tx8:").customer_keys("ada"))


@pytest.mark.real_redis
async def test_paused_writes_are_an_outage_not_a_conflict(
    stalling: tuple[CustomerStore, RedisServer],
) -> None:
    """Found 13: under CLIENT PAUSE … WRITE every write retried for 20 s, then said 409."""
    store, server = stalling
    admin = redis.Redis(port=server.port)
    admin.execute_command("CLIENT", "PAUSE", "5000", "WRITE")
    try:
        start = time.monotonic()
        with pytest.raises(Unavailable) as raised:
            await store.add_note("ada", NoteInput(text="hi"), actor="t", expect_version=None)
        elapsed = time.monotonic() - start
    finally:
        admin.execute_command("CLIENT", "UNPAUSE")
        admin.close()
    assert elapsed < FAST, elapsed
    assert raised.value.outcome == "unknown"  # the EXEC was sent: it may have landed
    op_id = raised.value.operation_id
    assert op_id and op_id.startswith("auto:")
    # The client retries with the id it was given: applied once, whatever happened before.
    written = await store.add_note(
        "ada", NoteInput(text="hi"), actor="t", expect_version=None, idempotency_key=op_id
    )
    again = await store.add_note(
        "ada", NoteInput(text="hi"), actor="t", expect_version=None, idempotency_key=op_id
    )
    assert again.replayed and again.card == written.card
    assert [n.text for n in (await store.get_record("ada")).notes] == ["hi"]


@pytest.mark.real_redis
async def test_a_write_that_landed_in_a_stall_is_answered_not_applied_again(
    stalling: tuple[CustomerStore, RedisServer],
) -> None:
    """Found 14: the server stops after the reads; the EXEC waits in its socket buffer and
    runs when it resumes, after the client gave up. The answer says the outcome is
    unknown, and the retry with the same key is answered with the first outcome."""
    store, server = stalling
    loop = asyncio.get_running_loop()

    def stall_then_tag(record: CustomerRecord) -> list[str]:
        if not loop.is_closed() and "vip" not in record.tags:
            server.stall()
            loop.call_later(0.8, server.resume)
        record.tags = [*record.tags, "vip"]
        return ["tags"]

    start = time.monotonic()
    with pytest.raises(Unavailable) as raised:
        await store.update("ada", stall_then_tag, op="tag", actor="t", idempotency_key="req-1")
    assert time.monotonic() - start < FAST
    assert raised.value.outcome == "unknown" and raised.value.operation_id == "req-1"
    await asyncio.sleep(1.0)  # resumed: the buffered EXEC has run
    landed = await store.get_record("ada")
    assert landed.tags == ["vip"] and landed.version == 2

    retry = await store.update("ada", stall_then_tag, op="tag", actor="t", idempotency_key="req-1")
    assert retry.replayed and retry.card.version == 2
    record = await store.get_record("ada")
    assert record.tags == ["vip"] and record.version == 2


@pytest.mark.real_redis
async def test_a_write_stalled_before_commit_is_not_applied(
    stalling: tuple[CustomerStore, RedisServer],
) -> None:
    store, server = stalling
    server.stall()
    asyncio.get_running_loop().call_later(1.3, server.resume)
    start = time.monotonic()
    with pytest.raises(Unavailable) as raised:
        await store.add_note("ada", NoteInput(text="hi"), actor="t", expect_version=None)
    assert time.monotonic() - start < FAST
    assert raised.value.outcome == "not_applied"
    await asyncio.sleep(1.0)
    assert (await store.get_record("ada")).notes == []
