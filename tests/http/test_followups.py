"""Follow-ups through the API: shown on every card until resolved, who may add, resolve and
see them, retries applied once, and the audit trail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.testing import AsyncTestClient

from tests.support.keys import KeyMaker

Client = AsyncTestClient  # type: ignore[type-arg]

ADA: dict[str, Any] = {
    "id": "ada",
    "name": "Ada Lovelace",
    "phones": ["+1 415 555 0123"],
    "allergies": [{"label": "peanuts", "severity": "severe"}],
}
DESSERT = {"text": "Comp the dessert we owe her", "due": "2031-05-01"}


async def _ada(client: Client, staff: dict[str, str]) -> None:
    assert (await client.post("/v1/customers", json=ADA, headers=staff)).status_code == 201


async def test_a_follow_up_is_on_every_card_after_the_allergies_until_resolved(
    client: Client, keymaker: KeyMaker
) -> None:
    maya = await keymaker.headers("write", name="Maya")
    leo = await keymaker.headers("write", name="Leo")
    till = await keymaker.headers("lookup", name="till 3")
    call_centre = await keymaker.headers("contact")
    await _ada(client, maya)
    added = await client.post("/v1/customers/ada/follow-ups", json=DESSERT, headers=maya)
    assert added.status_code == 201, added.text
    (follow_up,) = added.json()["follow_ups"]
    assert follow_up["text"] == DESSERT["text"] and follow_up["created_by"] == "Maya"
    assert follow_up["due"] == "2031-05-01" and follow_up["resolved"] is None
    for headers in (till, call_centre, maya):
        for url in ("/v1/customers/ada", "/v1/lookup?phone=4155550123"):
            card = (await client.get(url, headers=headers)).json()
            assert [f["text"] for f in card["follow_ups"]] == [DESSERT["text"]], url
            keys = list(card)
            assert keys.index("follow_ups") == keys.index("allergies") + 1
    resolved = await client.post(
        f"/v1/customers/ada/follow-ups/{follow_up['id']}/resolve",
        json={"note": "comped the tiramisu"},
        headers=leo,
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["follow_ups"] == []
    for headers in (till, maya):
        assert (await client.get("/v1/customers/ada", headers=headers)).json()["follow_ups"] == []
    listed = await client.get("/v1/customers/ada/follow-ups", headers=till)
    assert listed.status_code == 200
    (kept,) = listed.json()["follow_ups"]
    resolution = kept["resolved"]
    assert resolution["by"] == "Leo" and resolution["note"] == "comped the tiramisu"
    assert resolution["venue"] is None and resolution["at"]


async def test_who_may_add_resolve_and_see_a_follow_up(client: Client, keymaker: KeyMaker) -> None:
    staff = await keymaker.headers("write")
    till = await keymaker.headers("lookup")
    await _ada(client, staff)
    refused = await client.post("/v1/customers/ada/follow-ups", json=DESSERT, headers=till)
    assert refused.status_code == 403
    private = await client.post(
        "/v1/customers/ada/follow-ups",
        json={"text": "Ask how the knee surgery went", "visibility": "staff"},
        headers=staff,
    )
    assert private.status_code == 201
    (follow_up,) = private.json()["follow_ups"]
    till_card = await client.get("/v1/customers/ada", headers=till)
    assert till_card.json()["follow_ups"] == [] and "knee" not in till_card.text
    till_list = await client.get("/v1/customers/ada/follow-ups", headers=till)
    assert till_list.json()["follow_ups"] == []
    staff_list = await client.get("/v1/customers/ada/follow-ups", headers=staff)
    assert [f["id"] for f in staff_list.json()["follow_ups"]] == [follow_up["id"]]
    resolve = f"/v1/customers/ada/follow-ups/{follow_up['id']}/resolve"
    assert (await client.post(resolve, headers=till)).status_code == 403
    assert (await client.post(resolve, headers=staff)).status_code == 200  # no body needed
    unknown = await client.post("/v1/customers/ada/follow-ups/nope/resolve", headers=staff)
    assert unknown.status_code == 404
    nobody = await client.post("/v1/customers/nobody/follow-ups", json=DESSERT, headers=staff)
    assert nobody.status_code == 404


async def test_a_retried_add_or_resolve_is_applied_once_and_the_first_resolution_stands(
    client: Client, keymaker: KeyMaker
) -> None:
    maya = await keymaker.headers("write", name="Maya")
    leo = await keymaker.headers("write", name="Leo")
    await _ada(client, maya)
    keyed = {**maya, "Idempotency-Key": "desk-1:fu-1"}
    first = await client.post("/v1/customers/ada/follow-ups", json=DESSERT, headers=keyed)
    again = await client.post("/v1/customers/ada/follow-ups", json=DESSERT, headers=keyed)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["idempotent-replayed"] == "true" and again.json() == first.json()
    other = await client.post(
        "/v1/customers/ada/follow-ups", json={"text": "something else"}, headers=keyed
    )
    assert other.status_code == 422 and other.json()["field"] == "Idempotency-Key"
    listed = (await client.get("/v1/customers/ada/follow-ups", headers=maya)).json()
    (follow_up,) = listed["follow_ups"]
    resolve = f"/v1/customers/ada/follow-ups/{follow_up['id']}/resolve"
    done = await client.post(
        resolve, json={"note": "done"}, headers={**maya, "Idempotency-Key": "r1"}
    )
    replay = await client.post(
        resolve, json={"note": "done"}, headers={**maya, "Idempotency-Key": "r1"}
    )
    assert replay.headers["idempotent-replayed"] == "true" and replay.json() == done.json()
    late = await client.post(resolve, json={"note": "me too"}, headers=leo)
    assert late.status_code == 200 and late.json()["version"] == done.json()["version"]
    kept = (await client.get("/v1/customers/ada/follow-ups", headers=maya)).json()
    assert kept["follow_ups"][0]["resolved"]["by"] == "Maya"
    assert kept["follow_ups"][0]["resolved"]["note"] == "done"


async def test_follow_ups_are_audited_and_bad_input_is_named(
    client: Client, keymaker: KeyMaker
) -> None:
    maya = await keymaker.headers("write", name="Maya")
    dpo = await keymaker.headers("admin", name="dpo")
    await _ada(client, maya)
    added = await client.post("/v1/customers/ada/follow-ups", json=DESSERT, headers=maya)
    follow_up_id = added.json()["follow_ups"][0]["id"]
    await client.post(f"/v1/customers/ada/follow-ups/{follow_up_id}/resolve", headers=dpo)
    trail = (await client.get("/v1/customers/ada/audit", headers=dpo)).json()["entries"]
    assert [(e["op"], e["actor"], e["fields"]) for e in trail[:2]] == [
        ("follow_up.resolve", "dpo", ["follow_ups"]),
        ("follow_up.add", "Maya", ["follow_ups"]),
    ]
    assert "dessert" not in str(trail)
    for body, field in [
        ({"text": ""}, "text"),
        ({"text": "   "}, "text"),
        ({"text": "x", "colour": "red"}, "colour"),
    ]:
        bad = await client.post("/v1/customers/ada/follow-ups", json=body, headers=maya)
        assert bad.status_code == 422, (body, bad.text)
        assert bad.json()["field"] == field, (body, bad.json())


async def test_a_follow_up_already_expired_is_kept_in_history_not_on_the_card(
    client: Client, keymaker: KeyMaker
) -> None:
    """A CRM's history brings follow-ups whose expiry has passed: accepted (the schema allows
    any time), recorded, never shown as open."""
    maya = await keymaker.headers("write", name="Maya")
    await _ada(client, maya)
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    body = {"text": "Ask about the gala", "expires_at": past}
    added = await client.post("/v1/customers/ada/follow-ups", json=body, headers=maya)
    assert added.status_code == 201, added.text
    assert added.json()["follow_ups"] == []
    kept = (await client.get("/v1/customers/ada/follow-ups", headers=maya)).json()
    assert [f["text"] for f in kept["follow_ups"]] == ["Ask about the gala"]
