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


async def save(client: Client, guest: str, text: str, /, **bound: Any) -> Any:
    """Save a line on `guest` as the page does: bound to the card it was typed on (that
    guest, unless `bound` names another `customer_id`, or gives the card's `created_at`)."""
    body = {"text": text, "customer_id": guest, **bound}
    return await client.post(f"/ui/customers/{guest}/entries", json=body, headers=csrf(client))


async def undo(client: Client, customer_id: str) -> Any:
    """Undo as the page does: naming the guest whose card is shown."""
    return await client.post("/ui/undo", json={"customer_id": customer_id}, headers=csrf(client))


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
        "venue": None,
    }
    body = {"text": "+tea"}
    for method, path, payload in [
        ("GET", "/ui/search?q=jon", None),
        ("GET", "/ui/customers/c1", None),
        ("GET", "/ui/customers/c1/events", None),
        ("POST", "/ui/customers", {"name": "X"}),
        ("POST", "/ui/customers/c1/preview", body),
        ("POST", "/ui/customers/c1/entries", {**body, "customer_id": "c1"}),
        ("POST", "/ui/undo", {"customer_id": "c1"}),
        ("GET", "/ui/owner?phone=%2B14155550144", None),
        ("POST", "/ui/customers/c1/follow-ups/f1/resolve", {}),
        ("POST", "/ui/customers/c1/likes", {"label": "tea"}),
        ("GET", "/ui/customers/c1/here", None),
        ("POST", "/ui/party", {"members": ["c1"]}),
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
        (
            "POST",
            f"/ui/customers/{customer_id}/entries",
            {"text": "+tea", "customer_id": customer_id},
        ),
        ("POST", "/ui/customers", {"name": "Mallory"}),
        ("POST", "/ui/undo", {"customer_id": customer_id}),
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

    saved = await save(web, customer_id, ENTRY)
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

    undone = await undo(web, customer_id)
    assert undone.status_code == 200
    after = (await web.get(f"/v1/customers/{customer_id}", headers=pos)).json()
    for field in ("allergies", "likes", "dislikes", "notes", "tags"):
        assert after[field] == before[field], field
    again = await undo(web, customer_id)
    assert again.status_code == 404


async def test_a_bad_entry_writes_nothing_and_names_the_problem(
    web: Client, keys: KeyStore
) -> None:
    await sign_in(web, keys)
    customer_id = await new_customer(web)
    for text in ["+tea -tea", '+"unclosed', "   "]:
        response = await save(web, customer_id, text)
        assert response.status_code == 422, text
        assert response.json()["field"] == "text"
    too_long = await save(web, customer_id, "x" * 5000)
    assert too_long.status_code in (400, 422)
    card = (await web.get(f"/ui/customers/{customer_id}")).json()
    assert card["version"] == 1


async def test_an_entry_for_nobody_is_not_found(web: Client, keys: KeyStore) -> None:
    await sign_in(web, keys)
    response = await save(web, "nobody", "+tea")
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
    saved = await save(web, "rose", entry)
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

    undone = await undo(web, "rose")
    assert undone.status_code == 409, undone.text
    card = (await web.get("/v1/customers/rose", headers=admin)).json()
    assert card["name"] == "Rose Newcomer" and card["version"] == 1, card
    assert card["allergies"] == [] and card["notes"] == []
    final = await snapshot(redis_backend.client, redis_backend.prefix)
    assert in_sessions(final) == []
    assert not any(t in blob for blob in blobs(final) for t in traces)
    assert (await undo(web, "rose")).status_code == 404, "spent"


async def test_undo_takes_back_the_sessions_last_entry_only(web: Client, keys: KeyStore) -> None:
    await sign_in(web, keys)
    first = await new_customer(web, "Jon Smith")
    for text in ("+tea", "+jam"):
        added = await save(web, first, text)
        assert added.status_code == 201
    undone = await undo(web, first)
    assert undone.status_code == 200
    assert [p["label"] for p in undone.json()["card"]["likes"]] == ["tea"]
    assert (await undo(web, first)).status_code == 404


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


# ---------------------------------------------------------------- one guest after another
async def test_a_line_typed_on_one_guests_card_is_never_saved_on_another(
    web: Client, keys: KeyStore
) -> None:
    """The page sends the guest whose card the line was typed on; a save that names
    another guest than its path writes nothing, whatever the page did meanwhile."""
    await sign_in(web, keys)
    jon = await new_customer(web, "Jon Smith")
    made = await web.post("/ui/customers", json={"name": "Ada Lovelace"}, headers=csrf(web))
    ada = made.json()["id"]
    crossed = await save(web, ada, "!!peanuts seat by the door", customer_id=jon)
    assert crossed.status_code == 409, crossed.text
    assert crossed.json()["field"] == "customer_id"
    unbound = await web.post(
        f"/ui/customers/{ada}/entries", json={"text": "+tea"}, headers=csrf(web)
    )
    assert unbound.status_code == 422 and unbound.json()["field"] == "customer_id"
    for customer_id in (jon, ada):
        card = (await web.get(f"/ui/customers/{customer_id}")).json()
        assert card["version"] == 1 and card["allergies"] == [] and card["notes"] == []
    assert (await undo(web, ada)).status_code == 404, "nothing was saved to undo"


async def test_a_line_typed_on_a_card_since_erased_and_recreated_is_not_saved(
    web: Client, keys: KeyStore, keymaker: Any
) -> None:
    """The same id, another person: the card's `created_at` tells them apart."""
    admin = await keymaker.headers("admin")
    body = {"id": "rose", "name": "Rosalind Franklin"}
    assert (await web.post("/v1/customers", json=body, headers=admin)).status_code == 201
    await sign_in(web, keys)
    shown = (await web.get("/ui/customers/rose")).json()
    assert (await web.delete("/v1/customers/rose", headers=admin)).status_code == 200
    newcomer = {"id": "rose", "name": "Rose Newcomer"}
    assert (await web.post("/v1/customers", json=newcomer, headers=admin)).status_code == 201

    stale = await save(web, "rose", "!!sesame no visitors", created_at=shown["created_at"])
    assert stale.status_code == 409, stale.text
    assert stale.json()["field"] == "created_at"
    card = (await web.get("/ui/customers/rose")).json()
    assert card["name"] == "Rose Newcomer" and card["version"] == 1
    assert card["allergies"] == [] and card["notes"] == []
    fresh = await save(web, "rose", "+tea", created_at=card["created_at"])
    assert fresh.status_code == 201, fresh.text


async def test_undo_names_the_card_shown_and_is_kept_when_it_is_another(
    web: Client, keys: KeyStore
) -> None:
    await sign_in(web, keys)
    jon = await new_customer(web, "Jon Smith")
    made = await web.post("/ui/customers", json={"name": "Ada Lovelace"}, headers=csrf(web))
    ada = made.json()["id"]
    assert (await save(web, jon, "+caramel")).status_code == 201
    elsewhere = await undo(web, ada)
    assert elsewhere.status_code == 409, elsewhere.text
    assert "another guest" in elsewhere.json()["detail"]
    assert [p["label"] for p in (await web.get(f"/ui/customers/{jon}")).json()["likes"]] == [
        "caramel"
    ]
    assert (await web.get(f"/ui/customers/{ada}")).json()["version"] == 1
    unnamed = await web.post("/ui/undo", headers=csrf(web))
    assert unnamed.status_code in (400, 422), unnamed.text
    undone = await undo(web, jon)
    assert undone.status_code == 200, "the refused press did not spend the undo"
    assert undone.json()["card"]["likes"] == []


async def test_the_owner_of_a_phone_or_email_is_named_for_the_new_guest_form(
    web: Client, keys: KeyStore
) -> None:
    await sign_in(web, keys)
    jon = await new_customer(web, "Jon Smith")  # +1 415 555 0144, jon@example.com
    taken = await web.post(
        "/ui/customers", json={"name": "Jo", "phone": "(415) 555-0144"}, headers=csrf(web)
    )
    assert taken.status_code == 409, taken.text
    assert taken.json()["field"].startswith("phone")
    for params in ({"phone": "(415) 555-0144"}, {"email": "JON@example.com"}):
        found = await web.get("/ui/owner", params=params)
        assert found.status_code == 200, found.text
        assert found.json() == {"id": jon, "name": "Jon Smith"}
    nobody = await web.get("/ui/owner", params={"phone": "+1 415 555 0100"})
    assert nobody.status_code == 404
    for params in ({}, {"phone": "+14155550144", "email": "jon@example.com"}, {"phone": "abc"}):
        refused = await web.get("/ui/owner", params=params)
        assert refused.status_code in (400, 422), (params, refused.text)
