"""GET /v1/erasures/{id}: the receipt of an erasure — admin only, no PII, every step — and
the search step seen from another app instance sharing the Redis."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from prefstore.config import Settings
from prefstore.redis.keyspace import KeySpace
from tests.support.backends import Backend, two_app_instances
from tests.support.keys import KeyMaker
from tests.support.redis_server import RedisServer

Client = AsyncTestClient  # type: ignore[type-arg]
GRACE = {
    "id": "grace",
    "name": "Grace Brewster Hopper",
    "emails": ["grace.hopper@navy.example"],
    "phones": ["+1 415 555 0177"],
}
NEEDLES = (b"grace", b"Hopper", b"navy.example", b"4155550177")


def steps(body: dict[str, Any]) -> dict[str, str]:
    return {s["step"]: s["status"] for s in body["steps"]}


async def test_an_erasure_answers_with_a_receipt_that_holds_no_pii(
    client: Client, keymaker: KeyMaker, redis_backend: Backend
) -> None:
    admin = await keymaker.headers("admin")
    assert (await client.post("/v1/customers", json=GRACE, headers=admin)).status_code == 201
    erased = await client.delete("/v1/customers/grace", headers=admin)
    assert erased.status_code == 200, erased.text
    erasure_id = erased.json()["erasure_id"]
    assert erased.json()["receipt"] == f"/v1/erasures/{erasure_id}"

    receipt = await client.get(f"/v1/erasures/{erasure_id}", headers=admin)
    assert receipt.status_code == 200, receipt.text
    body = receipt.json()
    assert steps(body)["keyspace"] == "done"
    assert steps(body)["aof_rewrite"] == "pending", "the default bound is 15 minutes"
    assert body["complete"] is False
    assert body["due_by"] > body["requested_at"]
    assert all(needle.decode() not in receipt.text for needle in NEEDLES)

    # What Redis keeps for the receipt names neither the person nor their customer id.
    keys = KeySpace(redis_backend.prefix)
    stored = await redis_backend.client.hgetall(keys.erasure(erasure_id))
    flat = b" ".join([*stored.keys(), *stored.values(), erasure_id.encode()])
    assert stored and not any(needle in flat for needle in NEEDLES)
    ttl = await redis_backend.client.ttl(keys.erasure(erasure_id))
    assert 89 * 86400 < ttl <= 90 * 86400, "kept 90 days by default, then gone"


async def test_receipts_are_for_admins_and_ids_are_checked(
    client: Client, keymaker: KeyMaker
) -> None:
    admin = await keymaker.headers("admin")
    staff = await keymaker.headers("write", "import")
    assert (await client.get("/v1/erasures/er_00", headers=staff)).status_code == 403
    assert (await client.get("/v1/erasures/er_00", headers=admin)).status_code == 404
    assert (await client.get("/v1/erasures/grace", headers=admin)).status_code == 400


@pytest.fixture
async def two_apps(redis_server: RedisServer) -> AsyncIterator[tuple[Client, Client, Any]]:
    prefix = f"x{uuid.uuid4().hex[:10]}:"
    settings = Settings(
        key_prefix=prefix,
        redis_url=redis_server.url,
        redis_timeout=2.0,
        erasure_rewrite_seconds=1.0,
    )
    async with two_app_instances(settings) as apps:
        yield apps


@pytest.mark.real_redis
async def test_the_other_instance_drops_the_person_and_its_receipt_says_so(
    two_apps: tuple[Client, Client, Any],
) -> None:
    a, b, headers = two_apps
    assert (await a.post("/v1/customers", json=GRACE, headers=headers)).status_code == 201
    erased = await a.delete("/v1/customers/grace", headers=headers)
    receipt_path = erased.json()["receipt"]

    deadline = time.monotonic() + 10
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = (await b.get(receipt_path, headers=headers)).json()
        if steps(body)["search_index"] == "done" and body["complete"]:
            break
        await asyncio.sleep(0.05)
    assert steps(body)["search_index"] == "done", body
    assert body["complete"], body
    assert steps(body)["aof_rewrite"] == "done"  # the test server runs with AOF on
    hits = (await b.get("/v1/search", params={"q": "grace hopper"}, headers=headers)).json()
    assert "grace" not in [hit["id"] for hit in hits["hits"]]
