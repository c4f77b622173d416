"""The quick-entry page's server side: sign-in, session guard, CSRF, shorthand save/undo."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from prefstore.config import Settings
from prefstore.customers.access import KeyCheck
from prefstore.customers.apikeys import KeyStore
from prefstore.http.web import CSRF_COOKIE, CSRF_HEADER, session
from prefstore.http.web.routes import STATIC_DIR
from prefstore.http.web.session import SESSION_COOKIE
from prefstore.redis.keyspace import KeySpace
from tests.support.backends import Backend, app_for
from tests.support.keyspace import blobs, snapshot

Client = AsyncTestClient  # type: ignore[type-arg]
ENTRY = "+popcorn -pretzels !peanuts #vip window seat please"


@pytest.fixture
async def web(redis_backend: Backend, settings: Settings) -> AsyncIterator[Any]:
    """A test client that has loaded the page (so it holds a CSRF cookie). Key checks
    are not cached (key_cache_seconds=0) so revocation is seen at once."""
    tuned = msgspec.structs.replace(settings, key_cache_seconds=0)
    async with AsyncTestClient(app_for(redis_backend, tuned)) as client:
        assert (await client.get("/")).status_code == 200
        yield client


@pytest.fixture
def keys(redis_client: Redis, settings: Settings) -> KeyStore:
    return KeyStore(redis_client, KeySpace(settings.key_prefix))


def csrf(client: Client) -> dict[str, str]:
    return {CSRF_HEADER: client.cookies[CSRF_COOKIE]}


async def sign_in(client: Client, keys: KeyStore, name: str = "ana") -> str:
    made = await keys.create(name, ["write"])
    response = await client.post("/ui/session", json={"key": made.key}, headers=csrf(client))
    assert response.status_code == 200, response.text
    assert response.json()["name"] == name
    return made.info.id


async def new_customer(client: Client, name: str = "Jon Smith") -> str:
    response = await client.post(
        "/ui/customers",
        json={"name": name, "phone": "+1 415 555 0144", "email": "jon@example.com"},
        headers=csrf(client),
    )
    assert response.status_code == 201, response.text
    customer_id: str = response.json()["id"]
    return customer_id


# ---------------------------------------------------------------- the page and its assets
async def test_the_page_and_assets_are_served_by_the_app_with_no_cdn(web: Client) -> None:
    page = await web.get("/")
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'self'
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    for asset in ("app.js", "app.css"):
        response = await web.get(f"/ui/static/{asset}")
        assert response.status_code == 200
    texts = [p.read_text() for p in STATIC_DIR.iterdir()]
    for text in texts:
        assert not re.search(r"(src|href)=\"(https?:)?//", text), "no external assets"
        assert "innerHTML" not in text
    assert all("<script>" not in t and "style=" not in t for t in texts), "no inline code"
    # Every input on the page has a label.
    html = (STATIC_DIR / "index.html").read_text()
    inputs = re.findall(r"<input id=\"([^\"]+)\"", html)
    assert inputs
    for input_id in inputs:
        assert f'for="{input_id}"' in html, input_id


async def test_the_page_needs_no_api_key_but_data_routes_need_a_session(web: Client) -> None:
    assert (await web.get("/ui/session")).json() == {
        "signed_in": False,
        "name": None,
        "expires_at": None,
    }
    body = {"text": "+tea"}
    for method, path, payload in [
        ("GET", "/ui/search?q=jon", None),
        ("GET", "/ui/customers/c1", None),
        ("GET", "/ui/customers/c1/events", None),
        ("POST", "/ui/customers", {"name": "X"}),
        ("POST", "/ui/customers/c1/preview", body),
        ("POST", "/ui/customers/c1/entries", body),
        ("POST", "/ui/undo", None),
    ]:
        response = await web.request(method, path, json=payload, headers=csrf(web))
        assert response.status_code == 401, (path, response.text)
        assert response.json()["error"] == "unauthenticated"


# ---------------------------------------------------------------- sign-in
async def test_sign_in_sets_an_httponly_samesite_cookie_with_an_expiry(
    web: Client, keys: KeyStore, redis_client: Redis, settings: Settings
) -> None:
    made = await keys.create("ana", ["write"])
    response = await web.post("/ui/session", json={"key": made.key}, headers=csrf(web))
    assert response.status_code == 200
    cookie = next(c for c in response.headers.get_list("set-cookie") if SESSION_COOKIE in c)
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert f"Max-Age={Settings().session_seconds}" in cookie
    assert made.key not in cookie
    # The session lives server-side, with a TTL, and never holds the key itself.
    stored = [k async for k in redis_client.scan_iter(match=f"{settings.key_prefix}session*")]
    assert len(stored) == 1
    assert 0 < await redis_client.ttl(stored[0]) <= Settings().session_seconds
    assert made.key.encode() not in (await redis_client.get(stored[0]) or b"")
    assert (await web.get("/ui/session")).json()["name"] == "ana"


@pytest.mark.parametrize(
    ("key", "status"),
    [
        ("psk_nothere_" + "x" * 40, 401),
        ("not-a-key", 401),
        ("", 422),
    ],
)
async def test_sign_in_failures(
    web: Client, key: str, status: int, redis_client: Redis, settings: Settings
) -> None:
    response = await web.post("/ui/session", json={"key": key}, headers=csrf(web))
    assert response.status_code == status, response.text
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
    assert (await web.get("/ui/session")).json()["signed_in"] is False
    # Anonymous requests leave nothing in Redis.
    assert [k async for k in redis_client.scan_iter(match=f"{settings.key_prefix}session*")] == []


async def test_a_revoked_key_cannot_sign_in(web: Client, keys: KeyStore) -> None:
    made = await keys.create("gone", ["write"])
    await keys.revoke(made.info.id)
    response = await web.post("/ui/session", json={"key": made.key}, headers=csrf(web))
    assert response.status_code == 401


async def test_a_lookup_scoped_key_is_refused_by_the_page(web: Client, keys: KeyStore) -> None:
    pos = await keys.create("till 3", ["lookup"])
    response = await web.post("/ui/session", json={"key": pos.key}, headers=csrf(web))
    assert response.status_code == 403
    assert "write" in response.json()["detail"]
    assert (await web.get("/ui/search?q=jon")).status_code == 401


async def test_sign_in_gives_a_new_session_id(web: Client, keys: KeyStore) -> None:
    """A session id planted before sign-in (fixation) is not the one signed in."""
    await sign_in(web, keys)
    first = web.cookies[SESSION_COOKIE]
    await sign_in(web, keys, name="ben")
    second = web.cookies[SESSION_COOKIE]
    assert first != second
    web.cookies.set(SESSION_COOKIE, first, path="/ui")
    assert (await web.get("/ui/session")).json()["signed_in"] is False


async def test_sign_out_ends_the_session_on_the_server(
    web: Client, keys: KeyStore, redis_client: Redis, settings: Settings
) -> None:
    await sign_in(web, keys)
    stolen = web.cookies[SESSION_COOKIE]
    assert (await web.delete("/ui/session", headers=csrf(web))).status_code == 204
    assert [k async for k in redis_client.scan_iter(match=f"{settings.key_prefix}session*")] == []
    web.cookies.set(SESSION_COOKIE, stolen, path="/ui")
    assert (await web.get("/ui/customers/c1")).status_code == 401


async def test_an_expired_session_is_refused(
    web: Client, keys: KeyStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sign_in(web, keys)
    customer_id = await new_customer(web)
    signed_in_at = session.wall_clock()
    lifetime = Settings().session_seconds
    monkeypatch.setattr(session, "wall_clock", lambda: signed_in_at + lifetime - 60)
    assert (await web.get(f"/ui/customers/{customer_id}")).status_code == 200
    monkeypatch.setattr(session, "wall_clock", lambda: signed_in_at + lifetime + 1)
    response = await web.get(f"/ui/customers/{customer_id}")
    assert response.status_code == 401
    assert "sign in" in response.json()["detail"]
    assert (await web.get("/ui/session")).json()["signed_in"] is False


async def test_revoking_the_key_ends_its_sessions(web: Client, keys: KeyStore) -> None:
    key_id = await sign_in(web, keys)
    customer_id = await new_customer(web)
    await keys.revoke(key_id)
    assert (await web.get(f"/ui/customers/{customer_id}")).status_code == 401


async def test_the_key_check_trusts_an_answer_for_its_ttl_only(keys: KeyStore) -> None:
    now = [1000.0]
    check = KeyCheck(keys, ttl=2.0, clock=lambda: now[0])
    made = await keys.create("ana", ["write"])
    assert await check.still_valid(made.info.id)
    await keys.revoke(made.info.id)
    now[0] += 1.9
    assert await check.still_valid(made.info.id), "cached within the TTL"
    now[0] += 0.2
    assert not await check.still_valid(made.info.id), "revocation seen after the TTL"
    assert not await check.still_valid("nosuchkey")


# ---------------------------------------------------------------- CSRF
async def test_unsafe_requests_without_a_csrf_token_are_refused(
    web: Client, keys: KeyStore
) -> None:
    made = await keys.create("ana", ["write"])
    refused = await web.post("/ui/session", json={"key": made.key})
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    await sign_in(web, keys)
    customer_id = await new_customer(web)
    forged = {CSRF_HEADER: "0" * 128}
    for method, path, body in [
        ("POST", f"/ui/customers/{customer_id}/entries", {"text": "+tea"}),
        ("POST", "/ui/customers", {"name": "Mallory"}),
        ("POST", "/ui/undo", None),
        ("DELETE", "/ui/session", None),
    ]:
        for headers in ({}, forged):
            response = await web.request(method, path, json=body, headers=headers)
            assert response.status_code == 403, (path, headers)
    card = (await web.get(f"/ui/customers/{customer_id}")).json()
    assert card["likes"] == []
    assert (await web.get("/ui/session")).json()["signed_in"] is True


async def test_the_key_authenticated_api_needs_no_csrf_token(web: Client, keymaker: Any) -> None:
    headers = await keymaker.headers("write")
    response = await web.post("/v1/customers", json={"name": "Via API"}, headers=headers)
    assert response.status_code == 201


# ---------------------------------------------------------------- find, read, add, undo
async def test_preview_save_and_undo_a_shorthand_entry(
    web: Client, keys: KeyStore, keymaker: Any
) -> None:
    await sign_in(web, keys)
    customer_id = await new_customer(web)

    preview = await web.post(
        f"/ui/customers/{customer_id}/preview", json={"text": ENTRY}, headers=csrf(web)
    )
    assert preview.status_code == 200
    assert [(e["kind"], e["label"], e["outcome"]) for e in preview.json()["effects"]] == [
        ("like", "popcorn", "add"),
        ("dislike", "pretzels", "add"),
        ("allergy", "peanuts", "add"),
        ("tag", "vip", "add"),
    ]
    assert preview.json()["note"] == "window seat please"
    pos = await keymaker.headers("lookup")
    before = (await web.get(f"/v1/customers/{customer_id}", headers=pos)).json()
    assert before["version"] == 1, "a preview writes nothing"

    saved = await web.post(
        f"/ui/customers/{customer_id}/entries", json={"text": ENTRY}, headers=csrf(web)
    )
    assert saved.status_code == 201, saved.text
    card = saved.json()["card"]
    assert saved.json()["undo"] is True
    assert card["version"] == 2, "one entry is one write"
    assert [a["label"] for a in card["allergies"]] == ["peanuts"]
    assert card["allergies"][0]["confirmed_by"] == "ana", "the key's name is the author"
    assert [p["label"] for p in card["likes"]] == ["popcorn"]
    assert [p["label"] for p in card["dislikes"]] == ["pretzels"]
    assert card["tags"] == ["vip"]
    assert card["notes"][0]["text"] == "window seat please"
    seen = (await web.get(f"/v1/customers/{customer_id}", headers=pos)).json()
    assert seen["allergies"] == card["allergies"]

    undone = await web.post("/ui/undo", headers=csrf(web))
    assert undone.status_code == 200
    after = (await web.get(f"/v1/customers/{customer_id}", headers=pos)).json()
    for field in ("allergies", "likes", "dislikes", "notes", "tags"):
        assert after[field] == before[field], field
    again = await web.post("/ui/undo", headers=csrf(web))
    assert again.status_code == 404


async def test_a_bad_entry_writes_nothing_and_names_the_problem(
    web: Client, keys: KeyStore
) -> None:
    await sign_in(web, keys)
    customer_id = await new_customer(web)
    for text in ["+tea -tea", '+"unclosed', "   "]:
        response = await web.post(
            f"/ui/customers/{customer_id}/entries", json={"text": text}, headers=csrf(web)
        )
        assert response.status_code == 422, text
        assert response.json()["field"] == "text"
    too_long = await web.post(
        f"/ui/customers/{customer_id}/entries", json={"text": "x" * 5000}, headers=csrf(web)
    )
    assert too_long.status_code in (400, 422)
    card = (await web.get(f"/ui/customers/{customer_id}")).json()
    assert card["version"] == 1


async def test_an_entry_for_nobody_is_not_found(web: Client, keys: KeyStore) -> None:
    await sign_in(web, keys)
    response = await web.post(
        "/ui/customers/nobody/entries", json={"text": "+tea"}, headers=csrf(web)
    )
    assert response.status_code == 404
    assert (await web.get("/ui/customers/nobody")).status_code == 404


async def test_new_customer_from_the_page_validates_input(web: Client, keys: KeyStore) -> None:
    await sign_in(web, keys)
    response = await web.post(
        "/ui/customers", json={"name": "Bo", "email": "not-an-email"}, headers=csrf(web)
    )
    assert response.status_code == 422
    assert response.json()["field"].startswith("email")
    unknown = await web.post("/ui/customers", json={"name": "Bo", "admin": True}, headers=csrf(web))
    assert unknown.status_code == 422


async def test_search_from_the_page_uses_the_live_index(web: Client, keys: KeyStore) -> None:
    await sign_in(web, keys)
    customer_id = await new_customer(web, "Jon Smith")
    hits: list[Any] = []
    for _attempt in range(40):  # the index follows the change feed; give it a moment
        response = await web.get("/ui/search", params={"q": "jon smyth"})
        assert response.status_code == 200, response.text
        hits = response.json()["hits"]
        if hits:
            break
        await asyncio.sleep(0.05)
    assert hits[0]["id"] == customer_id
    assert hits[0]["cues"]["email"] == "jon@example.com", "staff see the cue unmasked"
    assert (await web.get("/ui/search", params={"q": "+"})).json()["hits"] == []
    too_long = await web.get("/ui/search", params={"q": "x" * 101})
    assert too_long.status_code == 400


async def test_undo_after_an_erasure_and_a_recreated_id_is_refused_and_leaves_no_trace(
    web: Client, keys: KeyStore, keymaker: Any, redis_backend: Backend
) -> None:
    """Found item 2: undo used to be found by customer id alone, from the session, which held
    the erased person's allergy and note for 8 h; pressed after the id was re-created for a
    new person, it wrote the erased person's health data onto the new card."""
    admin = await keymaker.headers("admin")
    body = {"id": "rose", "name": "Rosalind Franklin"}
    assert (await web.post("/v1/customers", json=body, headers=admin)).status_code == 201
    allergy = {"label": "sesame", "severity": "allergy"}
    added = await web.post("/v1/customers/rose/allergies", json=allergy, headers=admin)
    assert added.status_code == 201
    await sign_in(web, keys)
    # Upgrading the known allergy: what undo must put back is the allergy as it was.
    entry = "!!sesame recovering from surgery, no visitors"
    saved = await web.post("/ui/customers/rose/entries", json={"text": entry}, headers=csrf(web))
    assert saved.status_code == 201 and saved.json()["undo"] is True
    traces = (b"sesame", b"surgery", b"Rosalind")

    def in_sessions(found: dict[bytes, Any]) -> list[bytes]:
        prefix = f"{redis_backend.prefix}session".encode()
        held = [repr(v).encode() for k, v in found.items() if k.startswith(prefix)]
        return [t for blob in held for t in traces if t in blob]

    state = await snapshot(redis_backend.client, redis_backend.prefix)
    assert any(k.startswith(f"{redis_backend.prefix}session".encode()) for k in state)
    assert in_sessions(state) == [], "the session holds only a pointer"
    undo_key = KeySpace(redis_backend.prefix).undo("rose").encode()
    assert b"sesame" in repr(state[undo_key]).encode(), "the undo lives with the customer"

    assert (await web.delete("/v1/customers/rose", headers=admin)).status_code == 200
    after_erasure = await snapshot(redis_backend.client, redis_backend.prefix)
    assert undo_key not in after_erasure, "erasure deletes the undo with the rest"
    newcomer = {"id": "rose", "name": "Rose Newcomer"}
    assert (await web.post("/v1/customers", json=newcomer, headers=admin)).status_code == 201

    undone = await web.post("/ui/undo", headers=csrf(web))
    assert undone.status_code == 409, undone.text
    card = (await web.get("/v1/customers/rose", headers=admin)).json()
    assert card["name"] == "Rose Newcomer" and card["version"] == 1, card
    assert card["allergies"] == [] and card["notes"] == []
    final = await snapshot(redis_backend.client, redis_backend.prefix)
    assert in_sessions(final) == []
    assert not any(t in blob for blob in blobs(final) for t in traces)
    assert (await web.post("/ui/undo", headers=csrf(web))).status_code == 404, "spent"


async def test_undo_takes_back_the_sessions_last_entry_only(web: Client, keys: KeyStore) -> None:
    await sign_in(web, keys)
    first = await new_customer(web, "Jon Smith")
    for text in ("+tea", "+jam"):
        added = await web.post(
            f"/ui/customers/{first}/entries", json={"text": text}, headers=csrf(web)
        )
        assert added.status_code == 201
    undone = await web.post("/ui/undo", headers=csrf(web))
    assert undone.status_code == 200
    assert [p["label"] for p in undone.json()["card"]["likes"]] == ["tea"]
    assert (await web.post("/ui/undo", headers=csrf(web))).status_code == 404


async def test_failed_sign_ins_are_limited_per_address(
    redis_backend: Backend, settings: Settings
) -> None:
    """The page's sign-in checks keys as the API does: guessing keys there trips the same
    per-address limit (429 with Retry-After), and no key is checked past it."""
    limited = msgspec.structs.replace(settings, auth_failures_per_address=3)
    async with AsyncTestClient(app_for(redis_backend, limited)) as page:
        assert (await page.get("/")).status_code == 200
        for n in range(3):
            wrong = {"key": f"psk_nope{n}_xxxxxxxxxxxxxxxxxxxxxxxx"}
            response = await page.post("/ui/session", json=wrong, headers=csrf(page))
            assert response.status_code == 401, response.text
        refused = await page.post("/ui/session", json=wrong, headers=csrf(page))
        assert refused.status_code == 429, refused.text
        assert int(refused.headers["retry-after"]) > 0
