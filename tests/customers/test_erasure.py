"""Erasure leaves nothing in the keyspace that holds the person's email, phone or name."""

from __future__ import annotations

from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from tests.conftest import Backend, KeyMaker

EMAIL = "grace.hopper@navy.example"
PHONE_E164 = "+14155550177"
NAME = "Grace Brewster Hopper"


async def dump_keyspace(redis: Redis, prefix: str) -> list[bytes]:
    """Every key name and every value under the prefix, as raw bytes."""
    blobs: list[bytes] = []
    async for key in redis.scan_iter(match=f"{prefix}*"):
        blobs.append(key)
        kind = (await redis.type(key)).decode()
        if kind == "string":
            blobs.append(await redis.get(key) or b"")
        elif kind == "hash":
            for field, value in (await redis.hgetall(key)).items():
                blobs += [field, value]
        elif kind == "set":
            blobs += list(await redis.smembers(key))
        elif kind == "zset":
            blobs += list(await redis.zrange(key, 0, -1))
        elif kind == "list":
            blobs += list(await redis.lrange(key, 0, -1))
        elif kind == "stream":
            for _id, fields in await redis.xrange(key):
                for field, value in fields.items():
                    blobs += [field, value]
        else:
            raise AssertionError(f"unexpected key type {kind} at {key!r}")
    return blobs


def holds(blobs: list[bytes], needle: str) -> bool:
    # Values are msgpack or JSON; both keep these strings as plain UTF-8 bytes.
    return any(needle.encode() in blob for blob in blobs)


async def test_erasure_scrubs_every_trace(
    client: AsyncTestClient,  # type: ignore[type-arg]
    keymaker: KeyMaker,
    redis_backend: Backend,
) -> None:
    staff = await keymaker.headers("write")
    admin = await keymaker.headers("admin")
    body = {
        "id": "grace",
        "name": NAME,
        "emails": [EMAIL],
        "phones": ["415 555 0177"],
        "identifiers": {"loyalty": "NAVY-1906"},
    }
    assert (await client.post("/v1/customers", json=body, headers=staff)).status_code == 201
    await client.post(
        "/v1/customers/grace/notes", json={"text": f"Call {PHONE_E164} or {EMAIL}"}, headers=staff
    )
    await client.post(
        "/v1/customers/grace/events",
        json={"type": "visit", "operation_id": "v1", "note": EMAIL},
        headers=staff,
    )
    # A bystander's data must survive.
    await client.post(
        "/v1/customers", json={"id": "alan", "name": "Alan", "emails": ["a@t.uk"]}, headers=staff
    )

    before = await dump_keyspace(redis_backend.client, redis_backend.prefix)
    assert holds(before, EMAIL) and holds(before, PHONE_E164) and holds(before, NAME)

    assert (await client.delete("/v1/customers/grace", headers=admin)).status_code == 200

    after = await dump_keyspace(redis_backend.client, redis_backend.prefix)
    for needle in (EMAIL, PHONE_E164, "4155550177", NAME, "navy-1906"):
        assert not holds(after, needle), needle
    assert holds(after, "a@t.uk")
    # The audit trail says an erasure happened, by whom, without PII.
    audit = [b for b in after if b"erase" in b]
    assert audit, "no audit entry for the erasure"
    assert (await client.get("/v1/customers/alan", headers=staff)).status_code == 200
