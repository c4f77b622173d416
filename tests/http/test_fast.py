"""The lookup routes on the path production serves (`http/fast.py` in front of the router).

Every test here runs against `create_app`'s app as served — the fast path included — and the
parity tests send the same requests to the app without it (the Litestar handlers), requiring
the same status, headers and body: the fast path is a faster route to the same answers.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from prefstore.config import Settings
from prefstore.customers.apikeys import KeyStore
from prefstore.http.app import create_app
from prefstore.http.fast import FastLookup
from prefstore.redis.connection import connect
from prefstore.redis.keyspace import KeySpace
from tests.support.backends import Backend
from tests.support.keys import KeyMaker
from tests.support.redis_server import RedisServer

Client = AsyncTestClient  # type: ignore[type-arg]
ADA = {
    "id": "ada",
    "name": "Ada Lovelace",
    "emails": ["ada@example.com"],
    "phones": ["+442071234567"],
    "identifiers": {"loyalty": "L-1"},
    "notes": [
        {"text": "for everyone"},
        {"text": "staff only: owes us a tenner", "visibility": "staff"},
    ],
}
LONG = "9" * 300


@pytest.fixture
async def plain(redis_backend: Backend, settings: Settings) -> AsyncIterator[Client]:
    """The same app without the fast path: the lookup routes' Litestar handlers."""
    redis = redis_backend.client if redis_backend.url is None else None
    async with AsyncTestClient(create_app(settings, redis, fast_lookup=False)) as test_client:
        yield test_client


def _comparable(response: Any) -> tuple[int, dict[str, str], bytes]:
    headers = dict(response.headers)
    assert headers.pop("x-request-id")  # each answer has its own (tests/http/test_operations.py)
    return response.status_code, headers, response.content


def test_the_served_app_puts_the_fast_path_in_front(client: Client) -> None:
    assert isinstance(client.app.asgi_handler, FastLookup)


async def test_answers_are_the_litestar_handlers_answers(
    client: Client, plain: Client, keymaker: KeyMaker
) -> None:
    staff = await keymaker.headers("write")
    pos = await keymaker.headers("lookup")
    importer = await keymaker.headers("import")
    created = await client.post("/v1/customers", json=ADA, headers=staff)
    assert created.status_code == 201, created.text
    paths = [
        "/v1/customers/ada",
        "/v1/customers/nobody",
        "/v1/lookup?phone=%2B442071234567",
        "/v1/lookup?phone=020%207123%204567&x=",
        "/v1/lookup?email=ADA@example.com",
        "/v1/lookup?loyalty=L-1",
        "/v1/lookup?phone=%2B15550000000",
        "/v1/lookup?phone=not-a-phone",
        "/v1/lookup?phone=1&email=a@b.c",
        "/v1/lookup?phone=1&phone=2",
        "/v1/lookup",
        f"/v1/lookup?crm={LONG}",
        f"/v1/lookup?phone={LONG}",
    ]
    auths: list[dict[str, str]] = [
        staff,
        pos,
        importer,
        {},
        {"Authorization": "Bearer psk_nope_xxxxxxxxxxxxxxxxxxxxxxxx"},
        {"X-API-Key": pos["Authorization"].removeprefix("Bearer ")},
    ]
    statuses = set()
    for headers in auths:
        for path in paths:
            fast = _comparable(await client.get(path, headers=headers))
            slow = _comparable(await plain.get(path, headers=headers))
            assert fast == slow, (path, headers)
            statuses.add(fast[0])
    assert statuses == {200, 401, 403, 404, 422}  # a too-long identifier: 422, both ways


async def test_scope_view_and_etag(client: Client, keymaker: KeyMaker) -> None:
    staff = await keymaker.headers("write")
    pos = await keymaker.headers("lookup")
    await client.post("/v1/customers", json=ADA, headers=staff)
    for path in ("/v1/customers/ada", "/v1/lookup?email=ada@example.com"):
        for_pos = await client.get(path, headers=pos)
        for_staff = await client.get(path, headers=staff)
        assert for_pos.status_code == for_staff.status_code == 200
        assert "owes us a tenner" not in for_pos.text  # staff-only notes: not for a POS key
        assert "owes us a tenner" in for_staff.text
        assert "for everyone" in for_pos.text
        assert for_pos.headers["etag"] == for_staff.headers["etag"] == '"1"'
    patched = await client.patch("/v1/customers/ada", json={"name": "Ada King"}, headers=staff)
    assert patched.status_code == 200, patched.text
    after = await client.get("/v1/customers/ada", headers=pos)
    assert after.headers["etag"] == patched.headers["etag"] == '"2"'
    assert "Ada King" in after.text


async def test_lookups_are_counted_in_the_metrics(client: Client, keymaker: KeyMaker) -> None:
    pos = await keymaker.headers("lookup")
    admin = await keymaker.headers("admin")

    def count(text: str, path: str, status: int) -> float:
        pattern = (
            rf'prefstore_requests_total\{{[^}}]*path="{re.escape(path)}"'
            rf'[^}}]*status_code="{status}"[^}}]*\}} (\S+)'
        )
        found = re.search(pattern, text)
        return float(found.group(1)) if found else 0.0

    before = (await client.get("/metrics", headers=admin)).text
    await client.get("/v1/customers/nobody", headers=pos)
    await client.get("/v1/lookup?email=nobody@example.com", headers=pos)
    after = (await client.get("/metrics", headers=admin)).text
    assert (
        count(after, "/v1/customers/{customer_id}", 404)
        == count(before, "/v1/customers/{customer_id}", 404) + 1
    )
    assert count(after, "/v1/lookup", 404) == count(before, "/v1/lookup", 404) + 1
    assert "prefstore_request_duration_seconds_bucket" in after


@pytest.mark.real_redis
async def test_outage_answers_match_and_come_fast(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        settings = Settings(redis_url=server.url, key_prefix="f:", redis_timeout=0.5)
        fast_app, plain_app = create_app(settings), create_app(settings, fast_lookup=False)
        async with AsyncTestClient(fast_app) as fast, AsyncTestClient(plain_app) as plain:
            staff = await _write_key(server.url, "f:")
            await fast.post("/v1/customers", json=ADA, headers=staff)
            assert (await fast.get("/v1/customers/ada", headers=staff)).status_code == 200
            assert (await plain.get("/v1/customers/ada", headers=staff)).status_code == 200
            server.kill()
            for path in ("/v1/customers/ada", "/v1/lookup?email=ada@example.com"):
                started = time.monotonic()
                answer = _comparable(await fast.get(path, headers=staff))
                assert time.monotonic() - started < 1.5
                assert answer == _comparable(await plain.get(path, headers=staff)), path
                assert answer[0] == 503 and answer[1]["retry-after"] == "1"
    finally:
        server.stop()


async def _write_key(url: str, prefix: str) -> dict[str, str]:
    client = connect(url, 2.0)
    made = await KeyStore(client, KeySpace(prefix)).create("till", ["write"])
    await client.aclose()
    return {"Authorization": f"Bearer {made.key}"}
