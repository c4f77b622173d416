"""Contact consent through the API: per channel with source and time, on the cards of keys
that see contacts, audited, and an opt-in never replacing a later opt-out."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from tests.support.keys import KeyMaker

Client = AsyncTestClient  # type: ignore[type-arg]
ADA = {"id": "ada", "name": "Ada Lovelace", "emails": ["ada@example.com"]}


async def test_consent_per_channel_is_on_contact_and_staff_cards_only(
    client: Client, keymaker: KeyMaker
) -> None:
    staff = await keymaker.headers("write")
    till = await keymaker.headers("lookup")
    call_centre = await keymaker.headers("contact")
    await client.post("/v1/customers", json=ADA, headers=staff)
    fresh = (await client.get("/v1/customers/ada", headers=staff)).json()
    assert {c: v["status"] for c, v in fresh["consent"].items()} == {
        "email": "unknown",
        "sms": "unknown",
        "phone": "unknown",
        "post": "unknown",
    }
    said = await client.patch(
        "/v1/customers/ada/consent",
        json={"email": "opted_out", "post": "opted_in", "at": "2030-03-01T10:00:00Z"},
        headers=staff,
    )
    assert said.status_code == 200, said.text
    email = said.json()["consent"]["email"]
    assert email == {"status": "opted_out", "source": "api", "at": "2030-03-01T10:00:00Z"}
    assert said.json()["consent"]["post"]["status"] == "opted_in"
    assert said.json()["consent"]["sms"]["status"] == "unknown"
    contact_card = (await client.get("/v1/customers/ada", headers=call_centre)).json()
    assert contact_card["consent"]["email"]["status"] == "opted_out"
    for url in ("/v1/customers/ada", "/v1/lookup?email=ada%40example.com"):
        till_card = await client.get(url, headers=till)
        assert till_card.json()["consent"] is None and "opted" not in till_card.text
    refused = await client.patch(
        "/v1/customers/ada/consent", json={"email": "opted_in"}, headers=till
    )
    assert refused.status_code == 403


async def test_an_opt_in_never_replaces_a_later_opt_out_and_changes_are_audited(
    client: Client, keymaker: KeyMaker
) -> None:
    staff = await keymaker.headers("write", name="Maya")
    dpo = await keymaker.headers("admin", name="dpo")
    await client.post("/v1/customers", json=ADA, headers=staff)
    out = {"email": "opted_out", "at": "2025-03-01T10:00:00Z"}
    assert (await client.patch("/v1/customers/ada/consent", json=out, headers=staff)).is_success
    stale = await client.patch(
        "/v1/customers/ada/consent",
        json={"email": "opted_in", "sms": "opted_in", "at": "2025-02-01T10:00:00Z"},
        headers=staff,
    )
    assert stale.status_code == 409 and stale.json()["field"] == "email"
    card = (await client.get("/v1/customers/ada", headers=staff)).json()
    assert card["consent"]["email"]["status"] == "opted_out"
    assert card["consent"]["sms"]["status"] == "unknown"  # the refused write wrote nothing
    now = await client.patch("/v1/customers/ada/consent", json={"email": "opted_in"}, headers=staff)
    assert now.status_code == 200 and now.json()["consent"]["email"]["status"] == "opted_in"
    same = await client.patch(
        "/v1/customers/ada/consent", json={"email": "opted_in"}, headers=staff
    )
    assert same.json()["version"] == now.json()["version"]  # already so: no write
    trail = (await client.get("/v1/customers/ada/audit", headers=dpo)).json()["entries"]
    assert [(e["op"], e["fields"], e["previous"]) for e in trail[:2]] == [
        ("consent.change", ["consent.email"], {"consent.email": "opted_out"}),
        ("consent.change", ["consent.email"], {"consent.email": "unknown"}),
    ]
    assert trail[0]["actor"] == "Maya"


async def test_a_retried_consent_change_is_applied_once_and_bad_input_is_named(
    client: Client, keymaker: KeyMaker
) -> None:
    staff = await keymaker.headers("write")
    await client.post("/v1/customers", json=ADA, headers=staff)
    keyed = {**staff, "Idempotency-Key": "crm-sync:77"}
    body = {"sms": "opted_in"}
    first = await client.patch("/v1/customers/ada/consent", json=body, headers=keyed)
    again = await client.patch("/v1/customers/ada/consent", json=body, headers=keyed)
    assert again.headers["idempotent-replayed"] == "true" and again.json() == first.json()
    for bad, field in [
        ({}, "body"),
        ({"email": "maybe"}, "email"),
        ({"fax": "opted_out"}, "fax"),
        ({"email": "unknown"}, "email"),
    ]:
        answer = await client.patch("/v1/customers/ada/consent", json=bad, headers=staff)
        assert answer.status_code in (400, 422), (bad, answer.text)
        assert answer.json().get("field", "body") == field, (bad, answer.json())
