"""Cards stored before the masked touchpoint view: served masked, never a fuller view, and
stored once so the next read is the usual single HMGET."""

from __future__ import annotations

import msgspec
import pytest
from redis.asyncio import Redis

from prefstore.customers.card_upgrade import STORE_IF_UNCHANGED
from prefstore.customers.cards import render
from prefstore.customers.reader import CardReader
from prefstore.customers.store import CustomerStore
from prefstore.models.inputs import CustomerCreate, CustomerPatch, NoteInput
from prefstore.redis.connection import as_bytes
from prefstore.redis.keyspace import (
    CARD_FIELD_CONTACT,
    CARD_FIELD_STAFF,
    CARD_FIELD_TOUCHPOINT,
    CARD_FIELD_VERSION,
    decode_record,
)

PHONE, EMAIL = "+12122000123", "ada@example.com"


async def _stored_before_masking(store: CustomerStore, redis: Redis) -> None:
    """A card as the previous release stored it: version, `all` (the contact details in
    full, without staff-only notes) and `staff`; no touchpoint field."""
    await store.create(
        CustomerCreate(
            id="ada", name="Ada", phones=[PHONE], emails=[EMAIL],
            notes=[NoteInput(text="staff only", visibility="staff")],
        ),
        actor="t",
    )  # fmt: skip
    key = store.keys.card("ada")
    contact, staff = await redis.hmget(key, [CARD_FIELD_CONTACT, CARD_FIELD_STAFF])
    old = msgspec.json.decode(as_bytes(contact))
    del old["contacts_masked"]
    old_card: dict[bytes, bytes] = {
        CARD_FIELD_VERSION: b"1",
        CARD_FIELD_CONTACT: msgspec.json.encode(old),
        CARD_FIELD_STAFF: as_bytes(staff),
    }
    await redis.delete(key)
    await redis.hset(key, mapping=old_card)  # type: ignore[arg-type]


async def _expected_touchpoint(store: CustomerStore, redis: Redis) -> bytes:
    record = decode_record(as_bytes(await redis.get(store.keys.record("ada"))))
    return render(record, store.notes_on_card).touchpoint


async def test_an_old_card_read_by_id_is_masked_and_stored_once(
    store: CustomerStore, redis_client: Redis
) -> None:
    await _stored_before_masking(store, redis_client)
    reader = CardReader(redis_client, store.keys, "US")
    found = await reader.by_id("ada", "touchpoint")
    assert found is not None and found.version == b"1"
    assert PHONE.encode() not in found.body and EMAIL.encode() not in found.body
    assert found.body == await _expected_touchpoint(store, redis_client)
    stored = await redis_client.hget(store.keys.card("ada"), CARD_FIELD_TOUCHPOINT)
    assert stored == found.body
    contact = await reader.by_id("ada", "contact")
    assert contact is not None and PHONE.encode() in contact.body


@pytest.mark.parametrize(
    ("kind", "value"), [("phone", PHONE), ("phone", "(212) 200-0123"), ("email", EMAIL)]
)
async def test_an_old_card_found_by_phone_or_email_is_masked(
    store: CustomerStore, redis_client: Redis, kind: str, value: str
) -> None:
    await _stored_before_masking(store, redis_client)
    reader = CardReader(redis_client, store.keys, "US")
    two_trips = await reader.by_identifier_two_trips(kind, value, "touchpoint")
    assert two_trips is not None
    assert two_trips.body == await _expected_touchpoint(store, redis_client)
    await redis_client.hdel(store.keys.card("ada"), CARD_FIELD_TOUCHPOINT)  # old again
    found = await reader.by_identifier(kind, value, "touchpoint")
    assert found is not None and found.body == two_trips.body


async def test_an_old_card_is_replaced_whole_by_the_next_write(
    store: CustomerStore, redis_client: Redis
) -> None:
    await _stored_before_masking(store, redis_client)
    await store.patch("ada", CustomerPatch(name="Ada L"), actor="t")
    stored = await redis_client.hgetall(store.keys.card("ada"))
    assert stored[CARD_FIELD_VERSION] == b"2" and b"Ada L" in stored[CARD_FIELD_TOUCHPOINT]


async def test_a_card_without_any_view_to_derive_from_is_not_served(
    store: CustomerStore, redis_client: Redis
) -> None:
    await _stored_before_masking(store, redis_client)
    await redis_client.hdel(store.keys.card("ada"), CARD_FIELD_CONTACT)
    reader = CardReader(redis_client, store.keys, "US")
    assert await reader.by_id("ada", "touchpoint") is None
    assert await reader.by_identifier("email", EMAIL, "touchpoint") is None


async def test_a_derived_view_never_overwrites_a_newer_card(
    store: CustomerStore, redis_client: Redis
) -> None:
    """A write landed between the read of version 1 and the store: the store is refused."""
    key = store.keys.card("ada")
    await redis_client.hset(key, mapping={CARD_FIELD_VERSION: b"2", CARD_FIELD_TOUCHPOINT: b"v2"})
    args = (CARD_FIELD_VERSION, b"1", CARD_FIELD_TOUCHPOINT, b"v1")
    assert await redis_client.eval(STORE_IF_UNCHANGED, 1, key, *args) == 0
    assert await redis_client.hget(key, CARD_FIELD_TOUCHPOINT) == b"v2"
    args = (CARD_FIELD_VERSION, b"2", CARD_FIELD_TOUCHPOINT, b"v2 again")
    assert await redis_client.eval(STORE_IF_UNCHANGED, 1, key, *args) == 1
    assert await redis_client.hget(key, CARD_FIELD_TOUCHPOINT) == b"v2 again"
