"""The page's actions beside the shorthand (`http/web/actions.py`): the staff member's venue
from their key or sign-in, follow-ups resolved where they are, suggested likes confirmed,
the guest "here", and a party's card."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from prefstore.config import Settings
from prefstore.customers.apikeys import KeyStore
from prefstore.customers.store import CustomerStore
from prefstore.http.web import CSRF_COOKIE, CSRF_HEADER
from prefstore.models.inputs import EventInput
from prefstore.redis.keyspace import KeySpace
from tests.support.backends import Backend, app_for

Client = AsyncTestClient  # type: ignore[type-arg]


@pytest.fixture
async def web(redis_backend: Backend, settings: Settings) -> AsyncIterator[Any]:
    """The page's client (holding its CSRF cookie) of a deployment with two venues."""
    chain = msgspec.structs.replace(settings, key_cache_seconds=0, venues=("soho", "camden"))
    async with AsyncTestClient(app_for(redis_backend, chain)) as client:
        assert (await client.get("/")).status_code == 200
        yield client


@pytest.fixture
def keys(redis_client: Redis, settings: Settings) -> KeyStore:
    return KeyStore(redis_client, KeySpace(settings.key_prefix))


def csrf(client: Client) -> dict[str, str]:
    return {CSRF_HEADER: client.cookies[CSRF_COOKIE]}


async def sign_in(client: Client, key: str, venue: str | None = None) -> Any:
    body = {"key": key, **({"venue": venue} if venue else {})}
    return await client.post("/ui/session", json=body, headers=csrf(client))


async def ada(client: Client) -> str:
    made = await client.post("/ui/customers", json={"name": "Ada"}, headers=csrf(client))
    assert made.status_code == 201, made.text
    customer_id: str = made.json()["id"]
    return customer_id


async def test_staff_work_at_their_keys_venue_or_the_one_they_chose(
    web: Client, keys: KeyStore
) -> None:
    soho = await keys.create("Maya", ["write"], "soho")
    anywhere = await keys.create("Leo", ["write"])
    refused = await sign_in(web, soho.key, "camden")
    assert refused.status_code == 403 and refused.json()["field"] == "venue"
    assert (await sign_in(web, soho.key)).json()["venue"] == "soho"
    assert (await web.get("/ui/session")).json()["venue"] == "soho"
    unknown = await sign_in(web, anywhere.key, "brixton")
    assert unknown.status_code == 422 and unknown.json()["field"] == "venue"
    assert (await sign_in(web, anywhere.key, "camden")).json()["venue"] == "camden"
    assert (await sign_in(web, anywhere.key)).json()["venue"] is None
    guest = await ada(web)
    nowhere = await web.get(f"/ui/customers/{guest}/here")
    assert nowhere.status_code == 422 and nowhere.json()["field"] == "venue"


async def test_a_follow_up_added_at_one_venue_is_resolved_at_another(
    web: Client, keys: KeyStore, store: CustomerStore
) -> None:
    soho = await keys.create("Maya", ["write"], "soho")
    camden = await keys.create("Leo", ["write"], "camden")
    await sign_in(web, soho.key)
    guest = await ada(web)
    body = {"text": "window seat ^comp the dessert", "customer_id": guest}
    saved = await web.post(f"/ui/customers/{guest}/entries", json=body, headers=csrf(web))
    card = saved.json()["card"]
    (follow_up,) = card["follow_ups"]
    assert (follow_up["venue"], card["notes"][0]["venue"]) == ("soho", "soho")
    await sign_in(web, camden.key)
    path = f"/ui/customers/{guest}/follow-ups/{follow_up['id']}/resolve"
    resolved = await web.post(path, json={"note": "comped"}, headers=csrf(web))
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["follow_ups"] == []
    record = await store.get_record(guest)
    done = record.follow_ups[0].resolved
    assert (done.by, done.venue, done.note) == ("Leo", "camden", "comped")
    missing = await web.post(f"/ui/customers/{guest}/follow-ups/nope/resolve", headers=csrf(web))
    assert missing.status_code == 404


async def test_a_suggested_like_is_confirmed_as_a_like_by_the_staff_member(
    web: Client, keys: KeyStore, store: CustomerStore
) -> None:
    staff = await keys.create("Maya", ["write"], "soho")
    await sign_in(web, staff.key)
    guest = await ada(web)
    for _ in range(3):
        await store.record_event(
            guest, EventInput(type="purchase", items=["Oat Milk"], venue="soho"), actor="pos"
        )
    card = (await web.get(f"/ui/customers/{guest}")).json()
    assert [s["item"] for s in card["suggested_likes"]] == ["oat milk"]
    confirmed = await web.post(
        f"/ui/customers/{guest}/likes", json={"label": "oat milk"}, headers=csrf(web)
    )
    assert confirmed.status_code == 201, confirmed.text
    card = confirmed.json()
    assert card["suggested_likes"] == []
    (like,) = card["likes"]
    assert (like["label"], like["added_by"], like["seen"]) == ("oat milk", "Maya", 3)
    here = (await web.get(f"/ui/customers/{guest}/here")).json()
    assert (here["venue"], here["purchases"], here["top_items"][0]["count"]) == ("soho", 3, 3)


async def test_the_party_card_names_whose_each_allergy_is(web: Client, keys: KeyStore) -> None:
    staff = await keys.create("Maya", ["write"])
    await sign_in(web, staff.key)
    ids = []
    for line in ("!!peanuts +tea", "+tea", "!!sesame +tea"):
        guest = await ada(web)
        ids.append(guest)
        body = {"text": line, "customer_id": guest}
        await web.post(f"/ui/customers/{guest}/entries", json=body, headers=csrf(web))
    answer = await web.post("/ui/party", json={"members": ids}, headers=csrf(web))
    assert answer.status_code == 200, answer.text
    party = answer.json()
    assert [(a["label"], a["customer_id"]) for a in party["allergies"]] == [
        ("peanuts", ids[0]),
        ("sesame", ids[2]),
    ]
    assert [s["label"] for s in party["shared_likes"]] == ["tea"]
    too_many = await web.post("/ui/party", json={"members": ids * 7}, headers=csrf(web))
    assert too_many.status_code in (400, 422)
