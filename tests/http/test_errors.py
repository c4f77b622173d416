"""Every error is RFC 9457 problem details (`application/problem+json`): bad input names the
field and the reason, and writes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from prefstore.http.errors import PROBLEM_JSON, PROBLEM_TYPE
from tests.support.backends import Backend
from tests.support.keys import KeyMaker
from tests.support.keyspace import is_rate_counter

Client = AsyncTestClient  # type: ignore[type-arg]
HUGE = "x" * 100_000

CREATE_CASES: list[tuple[str, Any, int, str]] = [
    ("wrong type", {"name": 42}, 422, "name"),
    ("missing name", {"emails": ["a@b.co"]}, 422, "name"),
    ("unknown field", {"name": "A", "is_admin": True}, 422, "is_admin"),
    ("server-owned field", {"name": "A", "version": 9}, 422, "version"),
    ("malformed phone", {"name": "A", "phones": ["call me maybe"]}, 422, "phones[0]"),
    ("invalid phone", {"name": "A", "phones": ["+1 555 000"]}, 422, "phones[0]"),
    ("malformed email", {"name": "A", "emails": ["a@b.co", "not-an-email"]}, 422, "emails[1]"),
    ("huge name", {"name": HUGE}, 422, "name"),
    ("blank name", {"name": "   "}, 422, "name"),
    ("bad id", {"id": "a b{c}", "name": "A"}, 422, "id"),
    (
        "bad severity",
        {"name": "A", "allergies": [{"label": "nuts", "severity": "mild-ish"}]},
        422,
        "allergies[0].severity",
    ),
    ("too many phones", {"name": "A", "phones": ["+14155550123"] * 11}, 422, "phones"),
    (
        "reserved identifier kind",
        {"name": "A", "identifiers": {"email": "x"}},
        422,
        "identifiers.email",
    ),
    ("bad date", {"name": "A", "dates": {"birthday": "31/02/1990"}}, 422, "dates"),
    ("not an object", [1, 2, 3], 422, "body"),
]


async def _footprint(redis: Redis, prefix: str) -> list[bytes]:
    keys = [key async for key in redis.scan_iter(match=f"{prefix}*")]
    return sorted(key for key in keys if not is_rate_counter(key, prefix))


@pytest.mark.parametrize(
    ("case", "body", "status", "field"), CREATE_CASES, ids=[c[0] for c in CREATE_CASES]
)
async def test_bad_create_names_field_and_writes_nothing(
    client: Client,
    keymaker: KeyMaker,
    redis_backend: Backend,
    case: str,
    body: Any,
    status: int,
    field: str,
) -> None:
    headers = await keymaker.headers("write")
    before = await _footprint(redis_backend.client, redis_backend.prefix)
    response = await client.post("/v1/customers", json=body, headers=headers)
    assert response.status_code == status, (case, response.text)
    error = _problem(response)
    assert error["field"] == field, (case, error)
    assert error["reason"], case
    assert await _footprint(redis_backend.client, redis_backend.prefix) == before


async def test_malformed_json_is_400(client: Client, keymaker: KeyMaker) -> None:
    headers = {**await keymaker.headers("write"), "content-type": "application/json"}
    response = await client.post("/v1/customers", content=b'{"name": "A",', headers=headers)
    assert response.status_code == 400
    assert _problem(response)["error"] == "bad_request"


async def test_oversized_body_is_413_and_writes_nothing(
    client: Client, keymaker: KeyMaker, redis_backend: Backend
) -> None:
    headers = {**await keymaker.headers("write"), "content-type": "application/json"}
    before = await _footprint(redis_backend.client, redis_backend.prefix)
    body = b'{"name": "A", "notes": [{"text": "' + b"y" * 1_100_000 + b'"}]}'
    response = await client.post("/v1/customers", content=body, headers=headers)
    assert response.status_code == 413
    assert _problem(response)["error"] == "too_large"
    assert await _footprint(redis_backend.client, redis_backend.prefix) == before


async def test_bad_sub_resources_write_nothing(
    client: Client, keymaker: KeyMaker, redis_backend: Backend
) -> None:
    headers = await keymaker.headers("write")
    created = await client.post("/v1/customers", json={"id": "ada", "name": "Ada"}, headers=headers)
    assert created.status_code == 201
    card_before = (await client.get("/v1/customers/ada", headers=headers)).content
    cases: list[tuple[str, Any, str]] = [
        ("/v1/customers/ada/notes", {"text": ""}, "text"),
        ("/v1/customers/ada/notes", {"text": "x", "visibility": "everyone"}, "visibility"),
        ("/v1/customers/ada/preferences", {"label": "tea", "strength": 9}, "strength"),
        ("/v1/customers/ada/preferences", {"label": "tea", "category": "drinks"}, "category"),
        ("/v1/customers/ada/allergies", {"label": HUGE}, "label"),
        ("/v1/customers/ada/events", {"type": "visit", "amount": -3}, "amount"),
        ("/v1/customers/ada/events", {"type": "teleport"}, "type"),
        ("/v1/customers/ada/events", {"type": "visit", "items": ["x"] * 101}, "items"),
        ("/v1/customers/ada/events", {"type": "visit", "currency": "euro"}, "currency"),
    ]
    for path, body, field in cases:
        response = await client.post(path, json=body, headers=headers)
        assert response.status_code == 422, (path, body, response.text)
        assert response.json()["field"] == field, (path, body, response.json())
    patch = await client.patch("/v1/customers/ada", json={"phones": ["12"]}, headers=headers)
    assert patch.status_code == 422 and patch.json()["field"] == "phones[0]"
    assert (await client.get("/v1/customers/ada", headers=headers)).content == card_before
    events = await client.get("/v1/customers/ada/events", headers=headers)
    assert events.json()["events"] == []


async def test_query_limits(client: Client, keymaker: KeyMaker) -> None:
    headers = await keymaker.headers("write")
    await client.post("/v1/customers", json={"id": "ada", "name": "Ada"}, headers=headers)
    too_many = await client.get("/v1/customers/ada/events?limit=5000", headers=headers)
    assert too_many.status_code == 400 and too_many.json()["field"] == "limit"
    long_lookup = await client.get(f"/v1/lookup?email={'a' * 300}%40x.com", headers=headers)
    assert long_lookup.status_code in (400, 422)


def _problem(response: Any) -> dict[str, Any]:
    """The body of an error answer, checked to be problem details (RFC 9457)."""
    assert response.headers["content-type"] == PROBLEM_JSON, response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code, body
    assert body["type"] == PROBLEM_TYPE + body["error"], body
    assert body["title"] and body["detail"], body
    return body


async def test_every_kind_of_error_is_problem_details(client: Client, keymaker: KeyMaker) -> None:
    staff = await keymaker.headers("write")
    pos = await keymaker.headers("lookup")
    created = await client.post("/v1/customers", json={"id": "ada", "name": "Ada"}, headers=staff)
    assert created.status_code == 201
    note = {"text": "hi"}
    answers = [
        # the lookup's fast path, and the routes behind Litestar
        ("unauthenticated", 401, await client.get("/v1/customers/ada")),
        ("not_found", 404, await client.get("/v1/customers/nobody", headers=pos)),
        ("invalid_input", 422, await client.get("/v1/lookup?phone=1&email=a@b.co", headers=pos)),
        ("forbidden", 403, await client.post("/v1/customers/ada/notes", json=note, headers=pos)),
        ("not_found", 404, await client.get("/v1/customers/nobody/events", headers=pos)),
        ("invalid_input", 400, await client.get("/v1/search?q=", headers=pos)),
        ("method_not_allowed", 405, await client.put("/v1/customers/ada", headers=staff)),
        (
            "conflict",
            409,
            await client.post("/v1/customers", json={"id": "ada", "name": "Ada"}, headers=staff),
        ),
        (
            "stale_version",
            412,
            await client.post(
                "/v1/customers/ada/notes", json=note, headers={**staff, "If-Match": '"99"'}
            ),
        ),
    ]
    for error, status, response in answers:
        assert response.status_code == status, (error, response.text)
        assert _problem(response)["error"] == error
    assert answers[0][2].headers["www-authenticate"].startswith("Bearer")
