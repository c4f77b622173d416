"""The search, recall and cart-check routes: scopes, limits, masking, and the index
following writes made through the same app."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from litestar.testing import AsyncTestClient

from tests.support.keys import KeyMaker

Client = AsyncTestClient  # type: ignore[type-arg]


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 2.0) -> None:
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def hits(client: Client, headers: dict[str, str], q: str, **params: Any) -> list[Any]:
    response = await client.get("/v1/search", params={"q": q, **params}, headers=headers)
    assert response.status_code == 200, response.text
    found: list[Any] = response.json()["hits"]
    return found


async def _create(client: Client, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = await client.post("/v1/customers", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_search_finds_new_customer_with_masked_cues_for_lookup(
    client: Client, keymaker: KeyMaker
) -> None:
    staff = await keymaker.headers("write")
    pos = await keymaker.headers("lookup")
    await _create(
        client, staff, id="ada", name="Ada Lovelace", emails=["ada@example.com"],
        phones=["+1 415 555 0123"], tags=["vip"], city="London",
    )  # fmt: skip

    async def found() -> bool:
        return bool(await hits(client, pos, "ada lovlace"))

    await eventually(found)
    [hit] = await hits(client, pos, "ada lovlace")
    assert hit["id"] == "ada" and hit["matched"] == "name" and 0 < hit["score"] < 100
    assert hit["cues"] == {
        "phone": "•••• 0123",
        "email": "a•••@example.com",
        "last_visit": None,
        "tags": ["vip"],
        "city": "London",
    }
    [full] = await hits(client, staff, "lovelace 0123")
    assert full["cues"]["phone"] == "+14155550123"
    assert full["cues"]["email"] == "ada@example.com"
    [by_mail] = await hits(client, pos, "ada@exmaple.com")
    assert by_mail["id"] == "ada" and by_mail["matched"] == "email"


async def test_search_follows_rename_and_erase(client: Client, keymaker: KeyMaker) -> None:
    admin = await keymaker.headers("admin")
    await _create(client, admin, id="g1", name="Grace Hopper")

    async def named(q: str) -> bool:
        return any(h["id"] == "g1" for h in await hits(client, admin, q))

    await eventually(lambda: named("grace hopper"))
    response = await client.patch(
        "/v1/customers/g1", json={"name": "Grace Brewster"}, headers=admin
    )
    assert response.status_code == 200
    await eventually(lambda: named("grace brewster"))
    assert not await named("hopper")
    assert (await client.delete("/v1/customers/g1", headers=admin)).status_code == 200

    async def gone() -> bool:
        return not await named("grace brewster")

    await eventually(gone)


async def test_search_input_limits_and_scope(client: Client, keymaker: KeyMaker) -> None:
    pos = await keymaker.headers("lookup")
    importer = await keymaker.headers("import")
    too_long = await client.get("/v1/search", params={"q": "x" * 101}, headers=pos)
    assert too_long.status_code == 400 and too_long.json()["field"] == "q"
    missing = await client.get("/v1/search", headers=pos)
    assert missing.status_code == 400
    for limit in ("0", "51", "ten"):
        bad = await client.get("/v1/search", params={"q": "ada", "limit": limit}, headers=pos)
        assert bad.status_code == 400, limit
        assert bad.json()["field"] == "limit"
    blank = await client.get("/v1/search", params={"q": " ,, "}, headers=pos)
    assert blank.status_code == 422 and blank.json()["field"] == "q"
    assert (await client.get("/v1/search", params={"q": "ada"})).status_code == 401
    forbidden = await client.get("/v1/search", params={"q": "ada"}, headers=importer)
    assert forbidden.status_code == 403


SCRIPTS = [
    # (id, name as written, native queries, Latin queries)
    ("ru", "Ольга Смирнова", ["Ольга Смирнова", "смирнова", "Ольга Смирнва"], ["olga smirnova"]),
    ("gr", "Γιώργος Παπαδόπουλος", ["Γιώργος Παπαδόπουλος", "γιωργος"], ["giorgos papadopoulos"]),
    ("cn", "王小明", ["王小明", "小明"], ["wang xiaoming"]),
    ("ar", "محمد علي", ["محمد علي", "مُحَمَّد"], []),
]


async def test_search_finds_names_in_every_script(client: Client, keymaker: KeyMaker) -> None:
    staff = await keymaker.headers("write")
    for cid, name, _native, _latin in SCRIPTS:
        await _create(client, staff, id=cid, name=name)
    await _create(client, staff, id="latin-olga", name="Olga Smirnova")

    async def all_in() -> bool:
        return bool(await hits(client, staff, "王小明"))

    await eventually(all_in)
    for cid, name, native, latin in SCRIPTS:
        for q in native + latin:
            found = await hits(client, staff, q)
            assert cid in [h["id"] for h in found[:2]], q
        assert (await hits(client, staff, native[0]))[0]["name"] == name
    # A query in another script is valid input (it was answered 422 before issue 14).
    nobody = await client.get("/v1/search", params={"q": "Дмитрий"}, headers=staff)
    assert nobody.status_code == 200 and nobody.json()["hits"] == []
    both = [h["id"] for h in await hits(client, staff, "olga smirnova")]
    assert both[:2] == ["latin-olga", "ru"]  # as written first, then the transliteration


async def test_search_nicknames_and_prefixes(client: Client, keymaker: KeyMaker) -> None:
    staff = await keymaker.headers("write")
    await _create(client, staff, id="mw", name="Margaret Whitfield")
    await _create(client, staff, id="wg", name="William Gates")

    async def found() -> bool:
        return bool(await hits(client, staff, "william gates"))

    await eventually(found)
    for q, cid in [("peggy whitfield", "mw"), ("bill gates", "wg"), ("marg whitf", "mw")]:
        assert (await hits(client, staff, q))[0]["id"] == cid, q


async def test_search_limit_caps_hits(client: Client, keymaker: KeyMaker) -> None:
    staff = await keymaker.headers("write")
    for i in range(6):
        await _create(client, staff, id=f"s{i}", name=f"Sam Smith{'e' * (i % 2)}")

    async def all_in() -> bool:
        return len(await hits(client, staff, "smith", limit=50)) == 6

    await eventually(all_in)
    assert len(await hits(client, staff, "smith", limit=2)) == 2


async def test_recall_and_check_routes(client: Client, keymaker: KeyMaker) -> None:
    staff = await keymaker.headers("write")
    pos = await keymaker.headers("lookup")
    await _create(
        client, staff, id="r1", name="Rosa Parks",
        allergies=[{"label": "Tree nuts", "severity": "severe"}],
        preferences=[{"label": "Oat milk"}, {"label": "olives", "sentiment": "dislikes"}],
        notes=[{"text": "prefers the chai very hot", "visibility": "staff"}],
    )  # fmt: skip
    for n in range(6):
        event = {"type": "purchase", "items": ["Chai latte"], "operation_id": f"op{n}"}
        assert (
            await client.post("/v1/customers/r1/events", json=event, headers=staff)
        ).status_code == 201

    recalled = await client.get("/v1/customers/r1/recall", params={"q": "chai"}, headers=pos)
    assert recalled.status_code == 200, recalled.text
    top = recalled.json()["hits"][0]
    assert (top["kind"], top["text"], top["count"]) == ("item", "chai latte", 6)
    assert all(h["kind"] != "note" for h in recalled.json()["hits"])  # staff-only note
    as_staff = await client.get("/v1/customers/r1/recall", params={"q": "chai"}, headers=staff)
    assert any(h["kind"] == "note" for h in as_staff.json()["hits"])
    oat = await client.get("/v1/customers/r1/recall", params={"q": "oatmilk"}, headers=pos)
    assert oat.json()["hits"][0]["text"] == "Oat milk"

    cart = {"items": ["Almond croissant", "Oatmilk latte", "Olive bread"]}
    checked = await client.post("/v1/customers/r1/check", json=cart, headers=pos)
    assert checked.status_code == 200, checked.text
    body = checked.json()
    first = body["alerts"][0]
    assert (first["item"], first["kind"], first["severity"], first["matched"], first["group"]) == (
        "Almond croissant", "allergy", "severe", "almond", "tree nuts",
    )  # fmt: skip
    assert [a["kind"] for a in body["alerts"]] == ["allergy", "dislike"]
    assert [d["item"] for d in body["delights"]] == ["Oatmilk latte"]


async def test_recall_and_check_errors(client: Client, keymaker: KeyMaker) -> None:
    pos = await keymaker.headers("lookup")
    staff = await keymaker.headers("write")
    missing = await client.get("/v1/customers/nobody/recall", params={"q": "x"}, headers=pos)
    assert missing.status_code == 404
    nothing = await client.post("/v1/customers/nobody/check", json={"items": ["a"]}, headers=pos)
    assert nothing.status_code == 404
    await _create(client, staff, id="e1", name="Eve")
    empty = await client.post("/v1/customers/e1/check", json={"items": []}, headers=pos)
    assert empty.status_code == 422 and empty.json()["field"] == "items"
    many = await client.post("/v1/customers/e1/check", json={"items": ["x"] * 101}, headers=pos)
    assert many.status_code == 422
    extra = await client.post(
        "/v1/customers/e1/check", json={"items": ["x"], "customer": "y"}, headers=pos
    )
    assert extra.status_code == 422
    blank = await client.post("/v1/customers/e1/check", json={"items": ["--"]}, headers=pos)
    assert blank.status_code == 422 and blank.json()["field"] == "items[0]"
    no_key = await client.post("/v1/customers/e1/check", json={"items": ["x"]})
    assert no_key.status_code == 401


async def test_check_reads_negations_lookalikes_and_every_script(
    client: Client, keymaker: KeyMaker
) -> None:
    """Issue 14: an item that excludes an allergen does not alert on it, a look-alike does
    not alert, an unsure alert asks the guest, and items and recall in other scripts work."""
    staff = await keymaker.headers("write")
    pos = await keymaker.headers("lookup")
    await _create(
        client, staff, id="n1", name="Nina Petrova",
        allergies=[
            {"label": "Peanuts", "severity": "severe"},
            {"label": "Tree nuts", "severity": "severe"},
            {"label": "Milk", "severity": "allergy"},
        ],
        preferences=[{"label": "Кунжут", "sentiment": "dislikes"}],
    )  # fmt: skip
    items = [
        "арахис",
        "Peanut-free cookie with almond",
        "Dairy-free latte with whipped cream",
        "Roasted butternut squash",
        "Chestnut mushrooms",
        "Oat milk latte",
        "Хлеб с кунжутом",  # noqa: RUF001 (Cyrillic, as written)
    ]
    checked = await client.post("/v1/customers/n1/check", json={"items": items}, headers=pos)
    assert checked.status_code == 200, checked.text
    alerts = [(a["item"], a["label"], a["check_with_guest"]) for a in checked.json()["alerts"]]
    assert alerts == [
        ("арахис", "Peanuts", False),
        ("Peanut-free cookie with almond", "Tree nuts", False),
        ("Peanut-free cookie with almond", "Milk", False),  # a cookie has butter
        ("Dairy-free latte with whipped cream", "Milk", True),
        ("Хлеб с кунжутом", "Кунжут", False),  # noqa: RUF001
    ]
    asked = checked.json()["alerts"][3]
    assert "check with the guest" in asked["why"]

    recalled = await client.get("/v1/customers/n1/recall", params={"q": "кунжут"}, headers=pos)
    assert recalled.status_code == 200, recalled.text
    assert recalled.json()["hits"][0]["text"] == "Кунжут"
    blank = await client.post("/v1/customers/n1/check", json={"items": ["--"]}, headers=pos)
    assert blank.status_code == 422 and blank.json()["field"] == "items[0]"
