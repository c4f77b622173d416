"""Route-by-scope matrix: every route refuses every key whose scopes don't cover it."""

from __future__ import annotations

import re

import pytest
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.testing import AsyncTestClient

from prefstore.customers.apikeys import ALL_SCOPES, effective_scopes
from prefstore.http.auth import PUBLIC_PATHS
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
    ("GET", "/metrics"): "admin",
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
