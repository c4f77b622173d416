"""CardReader on every backend: fakeredis (redis-py path) and real Redis (pipelined path)."""

from __future__ import annotations

import asyncio

import msgspec
import pytest
from redis.asyncio import Redis

from prefstore.customers.reader import CardReader
from prefstore.customers.store import CustomerStore
from prefstore.errors import InvalidInput
from prefstore.models.inputs import CustomerCreate, NoteInput
from prefstore.redis.connection import pipelined_reads
from prefstore.redis.keyspace import KeySpace


@pytest.fixture
async def reader(store: CustomerStore, redis_client: Redis, keyspace: KeySpace) -> CardReader:
    await store.create(
        CustomerCreate(
            id="ada",
            name="Ada",
            phones=["+1 212 200 0123"],
            emails=["ada@example.com"],
            notes=[NoteInput(text="staff only", visibility="staff")],
        ),
        actor="t",
    )
    return CardReader(redis_client, keyspace, "US")


async def test_real_backends_read_through_the_pipelined_connection(
    redis_client: Redis, request: pytest.FixtureRequest
) -> None:
    backend = request.getfixturevalue("redis_backend")
    assert (pipelined_reads(redis_client) is not None) == (backend.name != "fake")


async def test_by_id_returns_the_stored_view_bytes(reader: CardReader) -> None:
    found = await reader.by_id("ada", "touchpoint")
    assert found is not None and found.version == b"1"
    card = msgspec.json.decode(found.body)
    assert card["id"] == "ada" and card["notes"] == []
    staff = await reader.by_id("ada", "staff")
    assert staff is not None and msgspec.json.decode(staff.body)["notes"][0]["text"] == "staff only"
    assert await reader.by_id("nobody", "touchpoint") is None


@pytest.mark.parametrize(
    "spelling", ["+12122000123", "(212) 200-0123", "212.200.0123", "+1 212 200 0123"]
)
async def test_by_phone_in_any_spelling(reader: CardReader, spelling: str) -> None:
    found = await reader.by_identifier("phone", spelling, "touchpoint")
    assert found is not None and msgspec.json.decode(found.body)["id"] == "ada"


UNKNOWN = [
    ("phone", "+12122000999"),  # E.164: the fast path misses, then the full parse misses
    ("phone", "(212) 200-0999"),
    ("email", "nobody@example.com"),
    ("loyalty", "NO-SUCH-CARD"),
]
INVALID = [
    ("phone", "+10000000000", "not a valid phone number"),  # E.164-shaped, still refused
    ("phone", "not a phone", "not a phone number"),
    ("email", "ada@", "not a valid email address"),
    ("email", "ada.example.com", "not a valid email address"),
    ("loyalty", "   ", "must not be blank"),
]


async def test_unknown_or_invalid_identifiers(reader: CardReader) -> None:
    assert await reader.by_id("nobody", "touchpoint") is None
    for lookup in (reader.by_identifier, reader.by_identifier_two_trips):
        # Unknown but well-formed: nobody, not an error (the API's 404).
        for kind, raw in UNKNOWN:
            assert await lookup(kind, raw, "touchpoint") is None, (lookup.__name__, kind, raw)
        # Malformed: refused, naming the field (the API's 422).
        for kind, raw, reason in INVALID:
            with pytest.raises(InvalidInput) as refused:
                await lookup(kind, raw, "touchpoint")
            assert refused.value.field == kind, (lookup.__name__, raw)
            assert reason in refused.value.reason, (lookup.__name__, raw)
    # Ada's own phone and email still find her: the refusals above were about the input.
    for kind, raw in (("phone", "+12122000123"), ("email", "ada@example.com")):
        found = await reader.by_identifier(kind, raw, "touchpoint")
        assert found is not None and msgspec.json.decode(found.body)["id"] == "ada"


async def test_lookup_survives_a_flushed_script_cache(
    reader: CardReader, redis_client: Redis
) -> None:
    await redis_client.script_flush()
    found = await reader.by_identifier("email", "ADA@example.com", "touchpoint")
    assert found is not None and msgspec.json.decode(found.body)["id"] == "ada"


async def test_many_concurrent_lookups_get_their_own_customer(
    store: CustomerStore, redis_client: Redis, keyspace: KeySpace
) -> None:
    for n in range(20):
        await store.create(
            CustomerCreate(id=f"c{n}", name=f"N{n}", phones=[f"+1212300{n:04d}"]), actor="t"
        )
    reader = CardReader(redis_client, keyspace, "US")
    by_id = [reader.by_id(f"c{n}", "touchpoint") for n in range(20)]
    by_phone = [reader.by_identifier("phone", f"+1212300{n:04d}", "touchpoint") for n in range(20)]
    found = await asyncio.gather(*by_id, *by_phone)
    ids = [msgspec.json.decode(f.body)["id"] if f else None for f in found]
    assert ids == [f"c{n}" for n in range(20)] * 2


class MovedCards(KeySpace):
    """Cards under another name: nothing but the key space may know where they are."""

    def card(self, customer_id: str) -> str:
        return f"{self.prefix}cards:{{c:{customer_id}}}:view"


async def test_lookup_script_finds_the_card_where_the_key_space_puts_it(
    redis_client: Redis, keyspace: KeySpace
) -> None:
    keys = MovedCards(keyspace.prefix)
    store = CustomerStore(redis_client, keys, region="US")
    await store.create(CustomerCreate(id="ada", name="Ada", emails=["ada@example.com"]), actor="t")
    assert await redis_client.exists(keys.card("ada")) == 1
    assert await redis_client.exists(keyspace.card("ada")) == 0
    found = await CardReader(redis_client, keys, "US").by_identifier(
        "email", "ADA@example.com", "staff"
    )
    assert found is not None and found.version == b"1"
    assert msgspec.json.decode(found.body)["id"] == "ada"
