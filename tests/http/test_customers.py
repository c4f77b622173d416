"""The /v1 customer API end to end, through Litestar's AsyncTestClient."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from tests.support.keys import KeyMaker

Client = AsyncTestClient  # type: ignore[type-arg]

ADA: dict[str, Any] = {
    "id": "ada",
    "name": "Ada Lovelace",
    "emails": ["ada@example.com"],
    "phones": ["+1 415 555 0123"],
    "identifiers": {"loyalty": "L-1815"},
}


async def test_create_read_and_lookup(client: Client, keymaker: KeyMaker) -> None:
    staff = await keymaker.headers("write", name="Maya")
    created = await client.post("/v1/customers", json=ADA, headers=staff)
    assert created.status_code == 201, created.text
    assert created.headers["etag"] == '"1"'
    assert created.headers["location"] == "/v1/customers/ada"
    card = await client.get("/v1/customers/ada", headers=staff)
    assert card.status_code == 200
    assert card.headers["etag"] == '"1"'
    assert card.headers["content-type"].startswith("application/json")
    assert card.json()["phones"] == ["+14155550123"]
    for query in (
        "phone=%2B1%20415%20555%200123",
        "phone=4155550123",
        "email=ADA%40example.com",
        "loyalty=l-1815",
    ):
        found = await client.get(f"/v1/lookup?{query}", headers=staff)
        assert found.status_code == 200, (query, found.text)
        assert found.json()["id"] == "ada"


async def test_lookup_needs_exactly_one_identifier(client: Client, keymaker: KeyMaker) -> None:
    pos = await keymaker.headers("lookup")
    for query in ("", "?phone=1&email=a%40b.co"):
        response = await client.get(f"/v1/lookup{query}", headers=pos)
        assert response.status_code == 422
        assert response.json()["field"] == "query"
    missing = await client.get("/v1/lookup?email=nobody%40example.com", headers=pos)
    assert missing.status_code == 404
    bad = await client.get("/v1/lookup?phone=abc", headers=pos)
    assert bad.status_code == 422 and bad.json()["field"] == "phone"


async def test_notes_author_is_the_key_name_and_pos_sees_no_staff_notes(
    client: Client, keymaker: KeyMaker
) -> None:
    staff = await keymaker.headers("write", name="Maya at front desk")
    pos = await keymaker.headers("lookup", name="POS 3")
    await client.post("/v1/customers", json=ADA, headers=staff)
    await client.post(
        "/v1/customers/ada/notes", json={"text": "Prefers the quiet corner"}, headers=staff
    )
    staff_only = await client.post(
        "/v1/customers/ada/notes",
        json={"text": "Comped dessert 3 times", "visibility": "staff"},
        headers=staff,
    )
    assert staff_only.status_code == 201
    assert staff_only.json()["notes"][0]["author"] == "Maya at front desk"
    pos_card = await client.get("/v1/customers/ada", headers=pos)
    assert [n["text"] for n in pos_card.json()["notes"]] == ["Prefers the quiet corner"]
    pos_lookup = await client.get("/v1/lookup?phone=4155550123", headers=pos)
    assert "Comped" not in pos_lookup.text
    staff_card = await client.get("/v1/customers/ada", headers=staff)
    assert "Comped dessert" in staff_card.text


async def test_if_match(client: Client, keymaker: KeyMaker) -> None:
    staff = await keymaker.headers("write")
    await client.post("/v1/customers", json=ADA, headers=staff)
    ok = await client.patch(
        "/v1/customers/ada", json={"name": "Ada King"}, headers={**staff, "If-Match": '"1"'}
    )
    assert ok.status_code == 200 and ok.headers["etag"] == '"2"'
    stale = await client.post(
        "/v1/customers/ada/preferences",
        json={"label": "Popcorn"},
        headers={**staff, "If-Match": '"1"'},
    )
    assert stale.status_code == 412
    assert stale.json()["error"] == "stale_version"
    garbage = await client.patch(
        "/v1/customers/ada", json={"name": "X"}, headers={**staff, "If-Match": "yesterday"}
    )
    assert garbage.status_code == 422 and garbage.json()["field"] == "If-Match"
    card = await client.get("/v1/customers/ada", headers=staff)
    assert card.json()["likes"] == [] and card.json()["name"] == "Ada King"


async def test_allergy_preference_and_removal(client: Client, keymaker: KeyMaker) -> None:
    staff = await keymaker.headers("write")
    await client.post("/v1/customers", json=ADA, headers=staff)
    added = await client.post(
        "/v1/customers/ada/allergies",
        json={"label": "Peanuts", "severity": "severe"},
        headers=staff,
    )
    assert added.status_code == 201
    allergy = added.json()["allergies"][0]
    assert allergy["label"] == "Peanuts" and allergy["confirmed_by"] == "tester"
    liked = await client.post(
        "/v1/customers/ada/preferences",
        json={"label": "Oat milk", "category": "beverage"},
        headers=staff,
    )
    assert liked.json()["likes"][0]["label"] == "Oat milk"
    gone = await client.delete(f"/v1/customers/ada/allergies/{allergy['id']}", headers=staff)
    assert gone.status_code == 200, gone.text
    assert gone.json()["allergies"] == []
    wrong_kind = await client.delete("/v1/customers/ada/tags/x", headers=staff)
    assert wrong_kind.status_code in (404, 405)


async def test_events_idempotency_key_and_paging(client: Client, keymaker: KeyMaker) -> None:
    staff = await keymaker.headers("write")
    pos = await keymaker.headers("lookup")
    await client.post("/v1/customers", json=ADA, headers=staff)
    visit = {"type": "purchase", "items": ["Chai latte", "Almond croissant"], "amount": 9.5}
    first = await client.post(
        "/v1/customers/ada/events", json=visit, headers={**staff, "Idempotency-Key": "till-7:991"}
    )
    retry = await client.post(
        "/v1/customers/ada/events", json=visit, headers={**staff, "Idempotency-Key": "till-7:991"}
    )
    # The same Idempotency-Key is the same request: answered with its first outcome.
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json() and retry.json()["duplicate"] is False
    assert retry.headers["idempotent-replayed"] == "true"
    # The same event from another till (its operation id, another request): a duplicate.
    other_till = await client.post(
        "/v1/customers/ada/events", json={**visit, "operation_id": "till-7:991"}, headers=staff
    )
    assert other_till.status_code == 200 and other_till.json()["duplicate"] is True
    for i in range(3):
        await client.post(
            "/v1/customers/ada/events",
            json={"type": "visit", "operation_id": f"v{i}"},
            headers=staff,
        )
    page = await client.get("/v1/customers/ada/events?limit=2", headers=pos)
    assert page.status_code == 200
    body = page.json()
    assert len(body["events"]) == 2 and body["next_cursor"]
    rest = await client.get(
        f"/v1/customers/ada/events?limit=2&cursor={body['next_cursor']}", headers=pos
    )
    ids = [e["id"] for e in body["events"] + rest.json()["events"]]
    assert sorted(ids) == sorted(["till-7:991", "v0", "v1", "v2"])
    card = (await client.get("/v1/customers/ada", headers=pos)).json()
    assert card["history"]["purchases"] == 1 and card["history"]["visits"] == 3
    assert card["history"]["spend"] == 9.5


async def test_export_and_erase(client: Client, keymaker: KeyMaker) -> None:
    staff = await keymaker.headers("write")
    admin = await keymaker.headers("admin", name="dpo")
    await client.post("/v1/customers", json=ADA, headers=staff)
    export = await client.get("/v1/customers/ada/export", headers=admin)
    assert export.status_code == 200
    assert export.json()["customer"]["emails"] == ["ada@example.com"]
    erased = await client.delete("/v1/customers/ada", headers=admin)
    assert erased.status_code == 200 and erased.json()["id"] == "ada"
    assert (await client.get("/v1/customers/ada", headers=staff)).status_code == 404
    assert (
        await client.get("/v1/lookup?email=ada%40example.com", headers=staff)
    ).status_code == 404
    assert (await client.delete("/v1/customers/ada", headers=admin)).status_code == 404
    audit = await client.get("/v1/customers/ada/audit", headers=admin)
    assert audit.status_code == 200
    trail = audit.json()
    assert [e["op"] for e in trail["entries"]] == ["erase", "create"]
    assert trail["entries"][0]["actor"] == "dpo" and trail["complete"] is True
    assert "example.com" not in audit.text


async def test_duplicate_identifier_is_409_naming_the_field(
    client: Client, keymaker: KeyMaker
) -> None:
    staff = await keymaker.headers("write")
    await client.post("/v1/customers", json=ADA, headers=staff)
    other = await client.post(
        "/v1/customers", json={"name": "Imposter", "phones": ["415-555-0123"]}, headers=staff
    )
    assert other.status_code == 409
    assert other.json()["field"] == "phones"


async def test_health_and_docs_are_public(client: Client) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ok"
    schema = await client.get("/schema/openapi.json")
    assert schema.status_code == 200
    assert "/v1/lookup" in schema.json()["paths"]


async def test_metrics_need_admin_and_count_requests(client: Client, keymaker: KeyMaker) -> None:
    admin = await keymaker.headers("admin")
    await client.get("/v1/customers/nobody", headers=admin)
    metrics = await client.get("/metrics", headers=admin)
    assert metrics.status_code == 200
    assert "prefstore_request_duration_seconds" in metrics.text
    assert (
        await client.get("/metrics", headers=await keymaker.headers("write"))
    ).status_code == 403


async def _replayed_once(
    client: Client, method: str, path: str, body: dict[str, Any] | None, headers: dict[str, str]
) -> tuple[int, Any]:
    """Send a write twice with one Idempotency-Key: the second answer is the first."""
    first = await client.request(method, path, json=body, headers=headers)
    again = await client.request(method, path, json=body, headers=headers)
    assert first.status_code in (200, 201), (path, first.text)
    assert (again.status_code, again.content) == (first.status_code, first.content), path
    assert again.headers["idempotent-replayed"] == "true", path
    assert "idempotent-replayed" not in first.headers
    return first.status_code, first.json()


async def test_every_write_route_applies_a_keyed_request_once(
    client: Client, keymaker: KeyMaker
) -> None:
    staff = await keymaker.headers("write")

    def key(name: str) -> dict[str, str]:
        return {**staff, "Idempotency-Key": f"k-{name}"}

    _s, made = await _replayed_once(client, "POST", "/v1/customers", {"name": "Bo"}, key("new"))
    cid = made["id"]  # no id sent: derived from the key, so the retry found it
    base = f"/v1/customers/{cid}"
    await _replayed_once(client, "PATCH", base, {"city": "Leeds"}, key("patch"))
    _s, card = await _replayed_once(
        client, "POST", f"{base}/allergies", {"label": "Peanuts"}, key("allergy")
    )
    allergy = card["allergies"][0]["id"]
    await _replayed_once(
        client, "PATCH", f"{base}/allergies/{allergy}", {"severity": "severe"}, key("change")
    )
    _s, card = await _replayed_once(
        client, "POST", f"{base}/preferences", {"label": "Oat milk"}, key("like")
    )
    like = card["likes"][0]["id"]
    _s, card = await _replayed_once(client, "POST", f"{base}/notes", {"text": "hi"}, key("note"))
    note = card["notes"][0]["id"]
    for kind, item in (("allergies", allergy), ("preferences", like), ("notes", note)):
        await _replayed_once(client, "DELETE", f"{base}/{kind}/{item}", None, key(kind))
    status, _b = await _replayed_once(
        client, "POST", f"{base}/events", {"type": "visit"}, key("visit")
    )
    assert status == 201
    now = (await client.get(base, headers=staff)).json()
    # create, patch, allergy, change, like, note, three removals, the visit: 10 versions.
    assert now["version"] == 10 and now["history"]["visits"] == 1
    audit = await client.get(f"{base}/audit", headers=await keymaker.headers("admin"))
    assert len(audit.json()["entries"]) == 10


async def test_a_key_sent_with_another_request_is_refused(
    client: Client, keymaker: KeyMaker
) -> None:
    staff = await keymaker.headers("write")
    await client.post("/v1/customers", json=ADA, headers=staff)
    keyed = {**staff, "Idempotency-Key": "note-1"}
    first = await client.post("/v1/customers/ada/notes", json={"text": "one"}, headers=keyed)
    assert first.status_code == 201
    for path, body in (("notes", {"text": "two"}), ("preferences", {"label": "tea"})):
        other = await client.post(f"/v1/customers/ada/{path}", json=body, headers=keyed)
        assert other.status_code == 422, other.text
        assert other.json()["field"] == "Idempotency-Key"
    card = (await client.get("/v1/customers/ada", headers=staff)).json()
    assert [n["text"] for n in card["notes"]] == ["one"] and card["likes"] == []


async def test_event_with_body_id_and_key_retried_with_key_only_is_stored_once(
    client: Client, keymaker: KeyMaker
) -> None:
    """Found 16: the body's operation_id and the Idempotency-Key name one operation."""
    staff = await keymaker.headers("write")
    await client.post("/v1/customers", json=ADA, headers=staff)
    keyed = {**staff, "Idempotency-Key": "req-7"}
    visit = {"type": "visit", "location": "Soho"}
    first = await client.post(
        "/v1/customers/ada/events", json={**visit, "operation_id": "pos-1"}, headers=keyed
    )
    retry = await client.post("/v1/customers/ada/events", json=visit, headers=keyed)
    assert first.status_code == 201
    assert (retry.status_code, retry.json()) == (201, first.json())
    assert retry.headers["idempotent-replayed"] == "true"
    other_id = {**visit, "operation_id": "pos-2"}
    refused = await client.post("/v1/customers/ada/events", json=other_id, headers=keyed)
    assert refused.status_code == 422 and refused.json()["field"] == "operation_id"
    changed = await client.post(
        "/v1/customers/ada/events", json={**visit, "location": "Leeds"}, headers=keyed
    )
    assert changed.status_code == 422 and changed.json()["field"] == "Idempotency-Key"
    by_body = await client.post(
        "/v1/customers/ada/events", json={**visit, "operation_id": "pos-1"}, headers=staff
    )
    assert by_body.status_code == 200 and by_body.json()["duplicate"] is True
    events = (await client.get("/v1/customers/ada/events", headers=staff)).json()["events"]
    assert [e["id"] for e in events] == ["pos-1"]
    card = (await client.get("/v1/customers/ada", headers=staff)).json()
    assert card["history"]["visits"] == 1


async def test_likes_show_their_evidence_and_often_bought_items_are_suggested(
    client: Client, keymaker: KeyMaker
) -> None:
    staff = await keymaker.headers("write")
    till = await keymaker.headers("lookup")
    await client.post("/v1/customers", json=ADA, headers=staff)
    for day in (1, 2, 3):
        sale = {
            "type": "purchase",
            "items": ["Oat Milk Latte", "Popcorn"],
            "at": f"2026-01-0{day}T10:00:00Z",
            "operation_id": f"till:{day}",
        }
        assert (await client.post("/v1/customers/ada/events", json=sale, headers=staff)).is_success
    liked = await client.post(
        "/v1/customers/ada/preferences",
        json={"label": "popcorn", "over": "pretzels", "category": "food"},
        headers=staff,
    )
    assert liked.status_code == 201, liked.text
    (popcorn,) = liked.json()["likes"]
    assert (popcorn["seen"], popcorn["last_seen"]) == (3, "2026-01-03T10:00:00Z")
    assert popcorn["reads"] == "prefers popcorn over pretzels"
    card = (await client.get("/v1/customers/ada", headers=till)).json()
    suggested = card["suggested_likes"]
    assert suggested == [
        {"item": "oat milk latte", "count": 3, "last_seen": "2026-01-03T10:00:00Z"}
    ]
    # Staff confirm a suggestion by adding it as a like: it leaves the suggestions.
    confirmed = await client.post(
        "/v1/customers/ada/preferences",
        json={"label": suggested[0]["item"], "source": "pos"},
        headers=staff,
    )
    assert confirmed.json()["suggested_likes"] == []
    assert [like["seen"] for like in confirmed.json()["likes"]] == [3, 3]
    bad = await client.post(
        "/v1/customers/ada/preferences",
        json={"label": "olives", "sentiment": "dislikes", "over": "capers"},
        headers=staff,
    )
    assert bad.status_code == 422 and bad.json()["field"] == "over"
