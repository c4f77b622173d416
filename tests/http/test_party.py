"""A party through the API: one card for a table (every allergy with whose it is, shared
likes, each guest's follow-ups, members not found) and the cart check for all at once."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from tests.support.keys import KeyMaker

Client = AsyncTestClient  # type: ignore[type-arg]

GUESTS: list[dict[str, Any]] = [
    {
        "id": "ada",
        "name": "Ada Lovelace",
        "allergies": [{"label": "peanuts", "severity": "severe"}],
        "preferences": [{"label": "Oat Milk"}, {"label": "sesame"}, {"label": "popcorn"}],
    },
    {
        "id": "bob",
        "name": "Bob Babbage",
        "phones": ["+1 415 555 0188"],
        "allergies": [{"label": "vegan", "severity": "dietary"}],
        "preferences": [{"label": "oat-milk"}, {"label": "Sesame"}, {"label": "popcorn"}],
    },
    {
        "id": "cy",
        "name": "Cy Hopper",
        "identifiers": {"loyalty": "L-1234"},
        "allergies": [
            {"label": "sesame", "severity": "allergy"},
            {"label": "almonds", "severity": "severe"},
        ],
        "preferences": [{"label": "popcorn"}, {"label": "olives", "sentiment": "dislikes"}],
    },
]
TABLE = [{"id": "ada"}, {"phone": "(415) 555-0188"}, {"loyalty": "L-1234"}]


async def _seat(client: Client, staff: dict[str, str]) -> None:
    for guest in GUESTS:
        made = await client.post("/v1/customers", json=guest, headers=staff)
        assert made.status_code == 201, made.text


async def test_one_card_names_whose_each_allergy_is_strongest_first(
    client: Client, keymaker: KeyMaker
) -> None:
    staff = await keymaker.headers("write")
    till = await keymaker.headers("lookup")
    await _seat(client, staff)
    answer = await client.post(
        "/v1/party", json={"members": TABLE, "label": "table 12"}, headers=till
    )
    assert answer.status_code == 200, answer.text
    card = answer.json()
    assert card["label"] == "table 12"
    assert [g["name"] for g in card["guests"]] == ["Ada Lovelace", "Bob Babbage", "Cy Hopper"]
    said = [(a["severity"], a["label"], a["name"]) for a in card["allergies"]]
    assert said == [
        ("severe", "almonds", "Cy Hopper"),
        ("severe", "peanuts", "Ada Lovelace"),
        ("allergy", "sesame", "Cy Hopper"),
        ("dietary", "vegan", "Bob Babbage"),
    ]
    assert {a["customer_id"] for a in card["allergies"]} == {"ada", "bob", "cy"}
    assert card["not_found"] == []
    # Liked by all three, then by two (spelt two ways); sesame is Cy's allergy: not offered.
    shared = [(s["label"], s["names"]) for s in card["shared_likes"]]
    assert shared == [
        ("popcorn", ["Ada Lovelace", "Bob Babbage", "Cy Hopper"]),
        ("Oat Milk", ["Ada Lovelace", "Bob Babbage"]),
    ]


async def test_each_guests_follow_ups_are_on_the_party_card_as_the_key_may_see_them(
    client: Client, keymaker: KeyMaker
) -> None:
    staff = await keymaker.headers("write")
    till = await keymaker.headers("lookup")
    await _seat(client, staff)
    for guest, body in [
        ("ada", {"text": "Comp the dessert we owe her"}),
        ("bob", {"text": "Ask how the knee surgery went", "visibility": "staff"}),
    ]:
        added = await client.post(f"/v1/customers/{guest}/follow-ups", json=body, headers=staff)
        assert added.status_code == 201, added.text
    seen = {}
    for name, headers in (("till", till), ("staff", staff)):
        card = (await client.post("/v1/party", json={"members": TABLE}, headers=headers)).json()
        seen[name] = {g["id"]: [f["text"] for f in g["follow_ups"]] for g in card["guests"]}
    assert seen["till"] == {"ada": ["Comp the dessert we owe her"], "bob": [], "cy": []}
    assert seen["staff"]["bob"] == ["Ask how the knee surgery went"]


async def test_members_not_found_are_listed_and_the_rest_answered(
    client: Client, keymaker: KeyMaker
) -> None:
    staff = await keymaker.headers("write")
    await _seat(client, staff)
    members = [
        {"id": "nobody"},
        {"id": "ada"},
        {"phone": "not a phone"},
        {"email": "zed@example.com"},
        {"phone": "+14155550188"},  # Bob again, another way: listed once
        {"id": "bob"},
    ]
    answer = await client.post("/v1/party", json={"members": members}, headers=staff)
    assert answer.status_code == 200, answer.text
    card = answer.json()
    assert [g["id"] for g in card["guests"]] == ["ada", "bob"]
    missing = [(m["index"], m["kind"]) for m in card["not_found"]]
    assert missing == [(0, "id"), (2, "phone"), (3, "email")]
    assert all(m["reason"] for m in card["not_found"])


async def test_a_party_is_bounded_and_each_member_is_one_identifier(
    client: Client, keymaker: KeyMaker
) -> None:
    till = await keymaker.headers("lookup")
    for members in (
        [{"id": f"g{i}"} for i in range(21)],
        [],
        [{}],
        [{"id": "ada", "phone": "+14155550188"}],
        [{"ID": "ada"}],
        [{"id": ""}],
    ):
        answer = await client.post("/v1/party", json={"members": members}, headers=till)
        assert answer.status_code in (400, 422), (members, answer.text)
        assert answer.json()["field"].startswith("members"), answer.text
    twenty = [{"id": f"g{i}"} for i in range(20)]
    answer = await client.post("/v1/party", json={"members": twenty}, headers=till)
    assert answer.status_code == 200 and len(answer.json()["not_found"]) == 20


async def test_the_cart_check_for_a_party_says_whose_each_alert_is(
    client: Client, keymaker: KeyMaker
) -> None:
    staff = await keymaker.headers("write")
    till = await keymaker.headers("lookup")
    await _seat(client, staff)
    items = ["olive tapenade", "sesame bagel", "peanut butter cookie", "almond croissant"]
    answer = await client.post(
        "/v1/party/check",
        json={"members": [*TABLE, {"id": "nobody"}], "items": items},
        headers=till,
    )
    assert answer.status_code == 200, answer.text
    check = answer.json()
    assert check["customer_ids"] == ["ada", "bob", "cy"]
    assert [m["index"] for m in check["not_found"]] == [3]
    alerts = [(a["kind"], a["item"], a["label"], a["name"]) for a in check["alerts"]]
    # Severe allergies first (in the cart's order), then allergies, then dislikes; each
    # names the guest it is for.
    assert alerts[:3] == [
        ("allergy", "peanut butter cookie", "peanuts", "Ada Lovelace"),
        ("allergy", "almond croissant", "almonds", "Cy Hopper"),
        ("allergy", "sesame bagel", "sesame", "Cy Hopper"),
    ]
    assert ("dislike", "olive tapenade", "olives", "Cy Hopper") in alerts
    assert all(a["customer_id"] in ("ada", "bob", "cy") for a in check["alerts"])
    # Ada likes sesame: the bagel is her delight (it is not her allergy), never Cy's.
    delights = {(d["item"], d["name"]) for d in check["delights"]}
    assert ("sesame bagel", "Ada Lovelace") in delights
    assert not any(name == "Cy Hopper" and item == "sesame bagel" for item, name in delights)


async def test_the_party_check_refuses_a_cart_the_single_check_refuses(
    client: Client, keymaker: KeyMaker
) -> None:
    till = await keymaker.headers("lookup")
    for items, field in ((["x"] * 51, "items"), (["tea", "!!"], "items[1]")):
        answer = await client.post(
            "/v1/party/check", json={"members": [{"id": "ada"}], "items": items}, headers=till
        )
        assert answer.status_code == 422, answer.text
        assert answer.json()["field"] == field
