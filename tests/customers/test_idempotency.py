"""Stored outcomes: where they live, how long, and that erasure takes them with the person."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from prefstore.customers.store import CustomerStore
from prefstore.errors import InvalidInput
from prefstore.models.inputs import CustomerCreate, NoteInput
from prefstore.redis.keyspace import KeySpace
from tests.support.backends import Backend


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2030, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clocked(redis_backend: Backend) -> tuple[CustomerStore, Clock]:
    clock = Clock()
    return CustomerStore(redis_backend.client, KeySpace(redis_backend.prefix), clock=clock), clock


async def _note(store: CustomerStore, text: str, key: str | None = None) -> None:
    await store.add_note(
        "ada", NoteInput(text=text), actor="t", expect_version=None, idempotency_key=key
    )


async def test_outcomes_expire_and_are_pruned(
    clocked: tuple[CustomerStore, Clock], redis_client: Redis
) -> None:
    store, clock = clocked
    keys = store.keys
    await store.create(CustomerCreate(id="ada", name="Ada"), actor="t")
    await _note(store, "keyed", key="k-1")
    await _note(store, "service id")
    held = await redis_client.hkeys(keys.outcomes("ada"))  # type: ignore[misc]
    assert b"k-1" in held and len(held) == 3  # the create's, the keyed note's, the other's
    ttl = await redis_client.pttl(keys.outcomes("ada"))
    assert 23 * 3600_000 < ttl <= 24 * 3600_000, "the hash lives as long as its keyed entry"

    clock.now += timedelta(minutes=11)  # service-made ids are kept 10 minutes
    await _note(store, "later")
    held = await redis_client.hkeys(keys.outcomes("ada"))  # type: ignore[misc]
    assert b"k-1" in held and len(held) == 2, held
    assert await redis_client.zcard(keys.outcome_expiry("ada")) == 2

    clock.now += timedelta(hours=25)  # and a client's key 24 hours
    await _note(store, "keyed", key="k-1")  # no longer known: a new request
    notes = [n.text for n in (await store.get_record("ada")).notes]
    assert notes == ["keyed", "service id", "later", "keyed"]


async def test_a_key_is_one_request(clocked: tuple[CustomerStore, Clock]) -> None:
    store, _clock = clocked
    await store.create(CustomerCreate(id="ada", name="Ada"), actor="t")
    await _note(store, "one", key="k-1")
    await _note(store, "one", key="k-1")
    with pytest.raises(InvalidInput) as refused:
        await _note(store, "two", key="k-1")
    assert refused.value.field == "Idempotency-Key"
    assert [n.text for n in (await store.get_record("ada")).notes] == ["one"]


async def test_erasure_takes_the_outcomes_with_the_person(
    clocked: tuple[CustomerStore, Clock], redis_client: Redis
) -> None:
    store, _clock = clocked
    await store.create(CustomerCreate(id="ada", name="Ada Lovelace"), actor="t")
    await _note(store, "likes the window seat", key="k-1")
    assert await redis_client.exists(store.keys.outcomes("ada"))
    await store.erase("ada", actor="admin")
    for key in (store.keys.outcomes("ada"), store.keys.outcome_expiry("ada")):
        assert not await redis_client.exists(key)
