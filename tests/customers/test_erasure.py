"""Erasure leaves nothing in the keyspace that holds the person's email, phone or name."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from tests.support.backends import Backend
from tests.support.keys import KeyMaker
from tests.support.keyspace import blobs, snapshot

EMAIL = "grace.hopper@navy.example"
PHONE_E164 = "+14155550177"
NAME = "Grace Brewster Hopper"


def holds(found: list[bytes], needle: str) -> bool:
    # Values are msgpack or JSON; both keep these strings as plain UTF-8 bytes.
    return any(needle.encode() in blob for blob in found)


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

    before = blobs(await snapshot(redis_backend.client, redis_backend.prefix))
    assert holds(before, EMAIL) and holds(before, PHONE_E164) and holds(before, NAME)

    assert (await client.delete("/v1/customers/grace", headers=admin)).status_code == 200

    after = blobs(await snapshot(redis_backend.client, redis_backend.prefix))
    for needle in (EMAIL, PHONE_E164, "4155550177", NAME, "navy-1906"):
        assert not holds(after, needle), needle
    assert holds(after, "a@t.uk")
    # The audit trail says an erasure happened, by whom, without PII.
    audit = [b for b in after if b"erase" in b]
    assert audit, "no audit entry for the erasure"
    assert (await client.get("/v1/customers/alan", headers=staff)).status_code == 200
