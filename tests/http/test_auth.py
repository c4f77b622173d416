"""Route-by-scope matrix: every route refuses every key whose scopes don't cover it."""

from __future__ import annotations

import asyncio
import re
import time
import typing
from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.testing import AsyncTestClient

from prefstore.config import Settings
from prefstore.customers.apikeys import ALL_SCOPES, effective_scopes
from prefstore.http.auth import PUBLIC_PATHS
from tests.support.backends import Backend, app_for
from tests.support.keys import KeyMaker

# The scope each foundation route needs; a route missing here or guarded differently fails.
EXPECTED = {
    ("POST", "/v1/customers"): "write",
    ("GET", "/v1/customers/{customer_id}"): "lookup",
    ("PATCH", "/v1/customers/{customer_id}"): "write",
    ("DELETE", "/v1/customers/{customer_id}"): "admin",
    ("GET", "/v1/customers/{customer_id}/export"): "admin",
    ("GET", "/v1/customers/{customer_id}/audit"): "admin",
    ("POST", "/v1/customers/{customer_id}/allergies"): "write",
    ("POST", "/v1/customers/{customer_id}/preferences"): "write",
    ("POST", "/v1/customers/{customer_id}/notes"): "write",
    ("DELETE", "/v1/customers/{customer_id}/allergies/{item_id}"): "write",
    ("DELETE", "/v1/customers/{customer_id}/preferences/{item_id}"): "write",
    ("DELETE", "/v1/customers/{customer_id}/notes/{item_id}"): "write",
    ("POST", "/v1/customers/{customer_id}/events"): "write",
    ("GET", "/v1/customers/{customer_id}/events"): "lookup",
    ("GET", "/v1/lookup"): "lookup",
    ("GET", "/metrics"): "metrics",
    ("POST", "/v1/party"): "lookup",
    ("POST", "/v1/party/check"): "lookup",
    ("GET", "/v1/customers/{customer_id}/here"): "lookup",
}
KEY_SETS = [[s] for s in ALL_SCOPES] + [["lookup", "import"]]


def _is_public(path: str) -> bool:
    return any(re.search(pattern, path) for pattern in PUBLIC_PATHS)


def guarded_routes(app: Litestar) -> list[tuple[str, str, str | None]]:
    """(method, path template, required scope) for every key-authenticated route."""
    found = []
    for route in app.routes:
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
        if _is_public(route.path) or not path.startswith(("/v1", "/metrics")):
            continue
        for handler in getattr(route, "route_handlers", []):
            if not isinstance(handler, HTTPRouteHandler):
                continue
            for method in sorted(handler.http_methods - {"HEAD", "OPTIONS"}):
                found.append((method, path, handler.opt.get("scope")))
    return found


def test_every_foundation_route_has_its_expected_scope(client: AsyncTestClient) -> None:  # type: ignore[type-arg]
    routes = {(m, p): s for m, p, s in guarded_routes(client.app)}
    for route, scope in EXPECTED.items():
        assert routes.get(route) == scope, route
    unscoped = [r for r, s in routes.items() if s is None]
    assert unscoped == [], f"routes without a scope: {unscoped}"


@pytest.mark.parametrize("scopes", KEY_SETS, ids=lambda s: "+".join(s))
async def test_wrong_scope_is_403_and_right_scope_gets_past_the_guard(
    client: AsyncTestClient,  # type: ignore[type-arg]
    keymaker: KeyMaker,
    scopes: list[str],
) -> None:
    headers = await keymaker.headers(*scopes)
    granted = effective_scopes(scopes)
    for method, template, needed in guarded_routes(client.app):
        path = re.sub(r"\{\w+\}", "nobody", template)
        response = await client.request(method, path, headers=headers)
        if needed in granted:
            assert response.status_code not in (401, 403), (method, path, scopes)
        else:
            assert response.status_code == 403, (method, path, scopes, response.text)
            assert response.json()["error"] == "forbidden"


async def test_no_key_bad_key_revoked_key_are_401(
    client: AsyncTestClient,  # type: ignore[type-arg]
    keymaker: KeyMaker,
) -> None:
    for method, template, _needed in guarded_routes(client.app):
        path = re.sub(r"\{\w+\}", "nobody", template)
        for headers in (
            {},
            {"Authorization": "Bearer psk_nope_xxxxxxxxxxxxxxxxxxxxxxxx"},
            {"Authorization": "Basic dXNlcjpwYXNz"},
            {"X-API-Key": "garbage"},
        ):
            response = await client.request(method, path, headers=headers)
            assert response.status_code == 401, (method, path, headers)
            assert response.headers["www-authenticate"].startswith("Bearer")


# ---------------------------------------------------------------- venues
VENUE_BODIES: dict[tuple[str, str], Callable[[str], dict[str, Any]]] = {
    ("POST", "/v1/customers/{customer_id}/events"): lambda v: {"type": "visit", "venue": v},
    ("POST", "/v1/customers/{customer_id}/notes"): lambda v: {"text": "window", "venue": v},
    ("POST", "/v1/customers/{customer_id}/follow-ups"): lambda v: {"text": "dessert", "venue": v},
    ("POST", "/v1/customers/{customer_id}/follow-ups/{follow_up_id}/resolve"): lambda v: {
        "venue": v
    },
    ("POST", "/v1/customers"): lambda v: {
        "id": f"bea-{v}",
        "name": "Bea",
        "notes": [{"text": "window", "venue": v}],
    },
}
"""A valid body naming the venue, for every route whose body may name one (at any depth)."""


def _names_a_venue(model: Any, depth: int = 0) -> bool:
    """Whether `model` (a Struct, or a list / union of them) has a `venue` field, nested."""
    if depth > 3:
        return False
    fields = getattr(model, "__struct_fields__", None)
    if fields is not None:
        if "venue" in fields:
            return True
        hints = typing.get_type_hints(model, include_extras=True)
        return any(_names_a_venue(hints[f], depth + 1) for f in fields)
    return any(_names_a_venue(arg, depth + 1) for arg in typing.get_args(model))


def venue_routes(app: Litestar) -> set[tuple[str, str]]:
    """(method, path template) of every key-authenticated route whose body may name a
    venue."""
    found = set()
    for route in app.routes:
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
        for handler in getattr(route, "route_handlers", []):
            data = getattr(handler, "parsed_fn_signature", None)
            data = data and data.parameters.get("data")
            if not path.startswith("/v1") or data is None:
                continue
            if _names_a_venue(data.annotation):
                found |= {(m, path) for m in handler.http_methods - {"HEAD", "OPTIONS"}}
    return found


@pytest.mark.parametrize("scopes", [["write"], ["admin"], ["lookup"]], ids="+".join)
async def test_a_key_bound_to_one_venue_cannot_act_for_another(
    client: AsyncTestClient,  # type: ignore[type-arg]
    keymaker: KeyMaker,
    scopes: list[str],
) -> None:
    assert venue_routes(client.app) == set(VENUE_BODIES), "list the new route's body here"
    office = await keymaker.headers("admin")
    await client.post("/v1/customers", json={"id": "ada", "name": "Ada"}, headers=office)
    added = await client.post(
        "/v1/customers/ada/follow-ups", json={"text": "ask about the knee"}, headers=office
    )
    ids = {"customer_id": "ada", "follow_up_id": added.json()["follow_ups"][0]["id"]}
    soho = await keymaker.headers(*scopes, venue="soho")
    writes = "write" in effective_scopes(scopes)
    for (method, template), body in VENUE_BODIES.items():
        path = template.format(**ids)
        other = await client.request(method, path, json=body("camden"), headers=soho)
        own = await client.request(method, path, json=body("soho"), headers=soho)
        if not writes:  # the scope refuses first
            assert (other.status_code, own.status_code) == (403, 403), path
            continue
        assert other.status_code == 403, (path, other.text)
        assert other.json()["field"].endswith("venue"), path
        assert own.status_code in (200, 201), (path, own.text)
    here = "/v1/customers/ada/here?venue="
    other_here = await client.get(here + "camden", headers=soho)
    assert other_here.status_code == 403 and other_here.json()["field"] == "venue"
    assert (await client.get(here + "soho", headers=soho)).status_code == 200


# ---------------------------------------------------------------- what each scope sees
# Per key set: (phones and emails as stored, staff-only notes shown), or None for a key that
# may not read cards at all. The card by id, the card by phone and by email, search cues and
# recall all follow the same answer.
SEES: dict[str, tuple[bool, bool] | None] = {
    "lookup": (False, False),
    "contact": (True, False),
    "write": (True, True),
    "import": None,
    "metrics": None,
    "admin": (True, True),
    "lookup+import": (False, False),
}
PHONE, EMAIL = "+14155550123", "ada@example.com"


@pytest.mark.parametrize("scopes", KEY_SETS, ids=lambda s: "+".join(s))
async def test_each_scope_sees_the_contact_details_and_notes_it_may(
    client: AsyncTestClient,  # type: ignore[type-arg]
    keymaker: KeyMaker,
    scopes: list[str],
) -> None:
    admin = await keymaker.headers("admin")
    created = await client.post(
        "/v1/customers",
        json={
            "id": "ada", "name": "Ada Lovelace", "phones": [PHONE], "emails": [EMAIL],
            "notes": [{"text": "window seat"}, {"text": "disputed bill", "visibility": "staff"}],
        },
        headers=admin,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    headers = await keymaker.headers(*scopes)
    sees = SEES["+".join(scopes)]
    by_id = await client.get("/v1/customers/ada", headers=headers)
    if sees is None:
        assert by_id.status_code == 403
        return
    full, staff_notes = sees
    assert by_id.status_code == 200, by_id.text
    card = by_id.json()
    phones, emails = ([PHONE], [EMAIL]) if full else (["•••• 0123"], ["a•••@example.com"])
    assert (card["phones"], card["emails"], card["contacts_masked"]) == (phones, emails, not full)
    notes = ["disputed bill", "window seat"] if staff_notes else ["window seat"]
    assert [n["text"] for n in card["notes"]] == notes
    for query in ({"phone": PHONE}, {"phone": "(415) 555-0123"}, {"email": EMAIL}):
        found = await client.get("/v1/lookup", params=query, headers=headers)
        assert found.content == by_id.content, query  # however found, the same view
    recalled = await client.get("/v1/customers/ada/recall?q=disputed bill", headers=headers)
    assert bool(recalled.json()["hits"]) == staff_notes
    for _ in range(100):  # the search index follows the write through the change feed
        response = await client.get("/v1/search", params={"q": "lovelace"}, headers=headers)
        if response.json()["hits"]:
            break
        await asyncio.sleep(0.02)
    [hit] = response.json()["hits"]
    assert (hit["cues"]["phone"], hit["cues"]["email"]) == (phones[0], emails[0])


# ---------------------------------------------------------------- rate limits
LIMITED = {"rate_limit_per_key": 4, "auth_failures_per_address": 3, "rate_limit_window": 86_400}
"""A day-long window: a test never straddles two windows."""


def _limited_app(backend: Backend, settings: Settings) -> Litestar:
    return app_for(backend, msgspec.structs.replace(settings, **LIMITED))


def _assert_rate_limited(response: Any, policy: str, quota: int) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["error"] == "rate_limited"
    reset = int(response.headers["retry-after"])
    assert 1 <= reset <= LIMITED["rate_limit_window"]
    assert response.headers["ratelimit-policy"] == f'"{policy}";q={quota};w=86400'
    assert response.headers["ratelimit"] == f'"{policy}";r=0;t={reset}'


async def test_a_key_over_its_limit_gets_429_and_others_are_unaffected(
    redis_backend: Backend, settings: Settings, keymaker: KeyMaker
) -> None:
    busy = await keymaker.headers("lookup")
    calm = await keymaker.headers("lookup")
    async with AsyncTestClient(_limited_app(redis_backend, settings)) as client:
        for _ in range(4):  # the fast path (a lookup) and Litestar's (events) count alike
            assert (await client.get("/v1/customers/nobody", headers=busy)).status_code == 404
        for path in ("/v1/customers/nobody", "/v1/lookup?phone=1", "/v1/customers/x/events"):
            _assert_rate_limited(await client.get(path, headers=busy), "key", 4)
        assert (await client.get("/v1/customers/nobody", headers=calm)).status_code == 404


async def test_failed_authentication_is_limited_per_address(
    redis_backend: Backend, settings: Settings, keymaker: KeyMaker
) -> None:
    good = await keymaker.headers("lookup")
    async with AsyncTestClient(_limited_app(redis_backend, settings)) as client:
        assert (await client.get("/v1/customers/nobody", headers=good)).status_code == 404
        for n in range(3):
            wrong = {"Authorization": f"Bearer psk_nope{n}_xxxxxxxxxxxxxxxxxxxxxxxx"}
            assert (await client.get("/v1/customers/nobody", headers=wrong)).status_code == 401
        for path in ("/v1/customers/nobody", "/v1/customers/x/events"):
            _assert_rate_limited(await client.get(path, headers=wrong), "auth-failures", 3)
        # The address may no longer have keys checked; a key already verified still works.
        assert (await client.get("/v1/customers/nobody", headers=good)).status_code == 404


async def test_app_instances_share_the_counter(
    redis_backend: Backend, settings: Settings, keymaker: KeyMaker
) -> None:
    """Each instance counts in Redis (its first request of the window before answering, later
    ones in the background) and learns the others' counts from Redis's replies: a key can go
    over its quota only by what the other instance admitted before its count came back."""
    key = await keymaker.headers("lookup")
    first, second = _limited_app(redis_backend, settings), _limited_app(redis_backend, settings)
    statuses = []
    async with AsyncTestClient(first) as one, AsyncTestClient(second) as two:
        for client in (one, two, one, two, one, two, one, two):
            response = await client.get("/v1/customers/nobody", headers=key)
            statuses.append(response.status_code)
            await _counted(redis_backend, statuses.count(404))
    # 4 within the quota, one more admitted by the instance that had not heard of the fourth.
    assert statuses == [404, 404, 404, 404, 404, 429, 429, 429]


async def _counted(backend: Backend, admitted: int) -> None:
    """Wait until Redis holds every admitted request (the background counts have landed)."""
    deadline = time.monotonic() + 2
    total = -1
    while total != admitted and time.monotonic() < deadline:
        keys = [k async for k in backend.client.scan_iter(match=f"{backend.prefix}rl:key:*")]
        total = sum([int(await backend.client.get(k) or 0) for k in keys])
        await asyncio.sleep(0.02)
    assert total == admitted
