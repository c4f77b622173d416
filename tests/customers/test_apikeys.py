"""API keys: shown once, stored only as a hash, scoped, revocable."""

from __future__ import annotations

import asyncio

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from prefstore.config import Settings
from prefstore.customers.apikeys import KeyStore, effective_scopes
from prefstore.customers.store import CustomerStore
from prefstore.errors import InvalidInput, NotFound, Unauthenticated
from prefstore.redis.keyspace import KeySpace
from tests.support.backends import Backend, app_for
from tests.support.keyspace import blobs, snapshot


async def test_key_is_prefixed_random_and_stored_only_hashed(
    store: CustomerStore, redis_backend: Backend
) -> None:
    keystore = KeyStore(store.redis, store.keys)
    one = await keystore.create("POS 1", ["lookup"])
    two = await keystore.create("POS 2", ["lookup"])
    assert one.key.startswith("psk_") and one.key != two.key
    secret = one.key.split("_", 2)[2]
    assert len(secret) >= 40
    stored = blobs(await snapshot(redis_backend.client, redis_backend.prefix))
    assert not any(secret.encode() in blob for blob in stored)
    assert (await keystore.verify(one.key)).name == "POS 1"
    with pytest.raises(Unauthenticated):
        await keystore.verify(one.key[:-1] + ("A" if one.key[-1] != "A" else "B"))


async def test_create_validates(store: CustomerStore) -> None:
    keystore = KeyStore(store.redis, store.keys)
    with pytest.raises(InvalidInput):
        await keystore.create("x", ["superuser"])
    with pytest.raises(InvalidInput):
        await keystore.create("  ", ["lookup"])
    with pytest.raises(NotFound):
        await keystore.revoke("nope")


async def test_revoked_key_stops_working_within_cache_ttl(
    redis_backend: Backend, settings: Settings
) -> None:
    quick = msgspec.structs.replace(settings, key_cache_seconds=0.2)
    keystore = KeyStore(redis_backend.client, KeySpace(settings.key_prefix))
    made = await keystore.create("tablet", ["write"])
    headers = {"Authorization": f"Bearer {made.key}"}
    async with AsyncTestClient(app_for(redis_backend, quick)) as client:
        assert (await client.get("/v1/customers/x", headers=headers)).status_code == 404
        await keystore.revoke(made.info.id)
        await asyncio.sleep(0.3)
        response = await client.get("/v1/customers/x", headers=headers)
        assert response.status_code == 401
        assert "revoked" in response.json()["detail"]
    listed = await keystore.list()
    assert [k.revoked_at is not None for k in listed] == [True]


def test_what_each_scope_implies() -> None:
    assert effective_scopes(["lookup"]) == {"lookup"}
    assert effective_scopes(["contact"]) == {"contact", "lookup"}
    assert effective_scopes(["write"]) == {"write", "contact", "lookup"}
    assert effective_scopes(["import"]) == {"import"}
    assert effective_scopes(["metrics"]) == {"metrics"}
    assert effective_scopes(["admin"]) == {
        "admin", "write", "contact", "lookup", "import", "metrics"
    }  # fmt: skip
    assert effective_scopes(["lookup", "import"]) == {"lookup", "import"}
