"""The import's compare-and-set script takes the key layout from the key space and applies a
customer's write whole or not at all."""

from __future__ import annotations

from redis.asyncio import Redis

from prefstore.redis.batch import send_packed
from prefstore.redis.keyspace import CARD_FIELD_STAFF, CARD_FIELD_VERSION, ENTRY_FIELD, KeySpace
from prefstore.transfer.writer import APPLY_CHANGE, CustomerWrite, applied, apply_command


def _write(expected: int, version: int, claims: list[str]) -> CustomerWrite:
    return CustomerWrite(
        customer_id="ada",
        expected_version=expected,
        record=f"record v{version}".encode(),
        card={CARD_FIELD_VERSION: str(version), CARD_FIELD_STAFF: f"card v{version}".encode()},
        entry={ENTRY_FIELD: f"entry v{version}".encode()},
        feed_maxlen=1000,
        events=[(f"event v{version}".encode(), 1000 + version, f"op{version}")],
        claims=claims,
        releases=[],
    )


async def test_apply_change_writes_whole_or_not_at_all(
    redis_client: Redis, keyspace: KeySpace
) -> None:
    email = keyspace.identifier("email", "ada@example.com")
    load = APPLY_CHANGE.load_command
    first = await send_packed(redis_client, [load, apply_command(keyspace, _write(0, 1, [email]))])
    assert applied(first[1])
    assert await redis_client.get(keyspace.record("ada")) == b"record v1"
    assert await redis_client.hgetall(keyspace.card("ada")) == {b"v": b"1", b"staff": b"card v1"}
    assert await redis_client.get(email) == b"ada"
    assert await redis_client.zrange(keyspace.events("ada"), 0, -1) == [b"event v1"]
    assert await redis_client.smembers(keyspace.operations("ada")) == {b"op1"}
    assert [f for _id, f in await redis_client.xrange(keyspace.changes)] == [
        {ENTRY_FIELD: b"entry v1"}
    ]

    # Read at version 0, but the card says 1: refused, nothing written.
    stale = await send_packed(redis_client, [apply_command(keyspace, _write(0, 2, []))])
    assert not applied(stale[0])
    # An identifier another customer holds: refused, nothing written.
    await redis_client.set(keyspace.identifier("phone", "+12125550100"), "grace")
    taken = [keyspace.identifier("phone", "+12125550100")]
    refused = await send_packed(redis_client, [apply_command(keyspace, _write(1, 2, taken))])
    assert not applied(refused[0])
    assert await redis_client.get(keyspace.record("ada")) == b"record v1"
    assert await redis_client.xlen(keyspace.changes) == 1
