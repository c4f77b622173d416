"""The safety rule through every write path, on every backend: the API, the quick-entry
page and the CRM import (restores too) never weaken a known allergy; only an explicit
change lowers it."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from prefstore.customers.apikeys import KeyStore
from prefstore.customers.changes import ChangeFeed
from prefstore.customers.store import CustomerStore
from prefstore.http.web import CSRF_COOKIE, CSRF_HEADER
from prefstore.models.records import Allergy, ChangeEntry, CustomerRecord
from prefstore.transfer import merge
from prefstore.transfer.rows import Incoming
from tests.support.imports import run_import
from tests.support.keys import KeyMaker

Client = AsyncTestClient  # type: ignore[type-arg]

ADA: dict[str, Any] = {
    "id": "ada",
    "name": "Ada Lovelace",
    "emails": ["ada@example.com"],
    "allergies": [
        {"label": "Peanuts", "severity": "severe", "note": "carries an EpiPen"},
        {"label": "Sesame", "severity": "allergy"},
        {"label": "Soy", "severity": "intolerance"},
        {"label": "Celery", "severity": "dietary"},
    ],
}


async def severities(store: CustomerStore) -> dict[str, str]:
    record = await store.get_record("ada")
    return {a.label.casefold(): a.severity for a in record.allergies}


async def feed(redis: Redis, store: CustomerStore) -> list[ChangeEntry]:
    return [e for _id, e in await ChangeFeed(redis, store.keys).read_after("0")]


async def test_no_add_weakens_a_known_allergy_and_only_a_change_lowers_it(
    client: Client, keymaker: KeyMaker, store: CustomerStore, redis_client: Redis
) -> None:
    staff = await keymaker.headers("write", name="maya")
    assert (await client.post("/v1/customers", json=ADA, headers=staff)).status_code == 201
    await through_the_api(client, staff, store, redis_client)
    await through_the_shorthand_page(client, store, redis_client)
    await through_an_import(store, redis_client)
    await only_an_explicit_change_lowers_it(client, keymaker, store, redis_client)


async def through_the_api(
    client: Client, staff: dict[str, str], store: CustomerStore, redis: Redis
) -> None:
    peanut_id = (await store.get_record("ada")).allergies[0].id
    for weaker in ({"label": "PEANUTS"}, {"label": "peanuts", "severity": "dietary"}):
        added = await client.post("/v1/customers/ada/allergies", json=weaker, headers=staff)
        assert added.status_code == 200, "already known, at least as strong: nothing added"
        assert added.headers["etag"] == '"1"', "nothing changed: no new version"
        [peanuts] = [a for a in added.json()["allergies"] if a["id"] == peanut_id]
        assert (peanuts["severity"], peanuts["note"]) == ("severe", "carries an EpiPen")
    upgraded = await client.post(
        "/v1/customers/ada/allergies", json={"label": "sesame", "severity": "severe"}, headers=staff
    )
    assert upgraded.headers["etag"] == '"2"'
    assert (await severities(store))["sesame"] == "severe"
    assert [(e.op, e.previous) for e in await feed(redis, store)] == [
        ("create", {}),
        ("allergy.add", {"severity": "allergy"}),
    ]


async def through_the_shorthand_page(client: Client, store: CustomerStore, redis: Redis) -> None:
    assert (await client.get("/")).status_code == 200  # the page sets the CSRF cookie
    csrf = {CSRF_HEADER: client.cookies[CSRF_COOKIE]}
    made = await KeyStore(redis, store.keys).create("ana", ["write"])
    signed_in = await client.post("/ui/session", json={"key": made.key}, headers=csrf)
    assert signed_in.status_code == 200, signed_in.text
    preview = await client.post(
        "/ui/customers/ada/preview", json={"text": "!peanuts ~peanuts !!soy"}, headers=csrf
    )
    assert [(e["label"], e["outcome"], e["was"]) for e in preview.json()["effects"]] == [
        ("peanuts", "known", "severe"),
        ("soy", "replace", "intolerance"),
    ]
    for text in ("!peanuts", "~Peanuts"):
        saved = await client.post(
            "/ui/customers/ada/entries", json={"text": text, "customer_id": "ada"}, headers=csrf
        )
        assert saved.status_code == 201, saved.text
        assert (saved.json()["card"]["version"], saved.json()["undo"]) == (2, False)
    saved = await client.post(
        "/ui/customers/ada/entries", json={"text": "!!soy", "customer_id": "ada"}, headers=csrf
    )
    assert saved.json()["card"]["version"] == 3
    assert await severities(store) == {
        "peanuts": "severe",
        "sesame": "severe",
        "soy": "severe",
        "celery": "dietary",
    }


async def through_an_import(store: CustomerStore, redis: Redis) -> None:
    weaker = (
        "email,allergies,Dietary restrictions\n"
        "ada@example.com,PEANUTS,\n"
        "ada@example.com,Peanuts (intolerance),\n"
        "ada@example.com,,peanuts\n"
    )
    summary = await run_import(store, weaker, preset="prefstore")
    assert (summary.rows, summary.unchanged, summary.updated) == (3, 3, 0)
    assert (await store.get_record("ada")).version == 3
    stronger = "email,allergies\nada@example.com,Celery (allergy)\n"
    summary = await run_import(store, stronger, preset="prefstore")
    assert summary.updated == 1
    assert (await severities(store))["celery"] == "allergy"
    assert (await severities(store))["peanuts"] == "severe"


async def only_an_explicit_change_lowers_it(
    client: Client, keymaker: KeyMaker, store: CustomerStore, redis: Redis
) -> None:
    record = await store.get_record("ada")
    peanuts = next(a for a in record.allergies if a.label == "Peanuts")
    doctor = await keymaker.headers("write", name="dr-lee")
    path = f"/v1/customers/ada/allergies/{peanuts.id}"
    stale = await client.patch(
        path, json={"severity": "allergy"}, headers={**doctor, "if-match": '"1"'}
    )
    assert stale.status_code == 412, "a change of an allergy the caller has not seen is refused"
    empty = await client.patch(path, json={}, headers=doctor)
    assert empty.status_code == 422, empty.text
    unknown = await client.patch(
        "/v1/customers/ada/allergies/nope", json={"severity": "allergy"}, headers=doctor
    )
    assert unknown.status_code == 404
    changed = await client.patch(
        path,
        json={"severity": "allergy"},
        headers={**doctor, "if-match": f'"{record.version}"'},
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == f'"{record.version + 1}"'
    after = next(a for a in (await store.get_record("ada")).allergies if a.id == peanuts.id)
    assert (after.severity, after.note, after.confirmed_by) == ("allergy", peanuts.note, "dr-lee")
    last = (await feed(redis, store))[-1]
    assert (last.op, last.actor, last.fields, last.previous) == (
        "allergy.change",
        "dr-lee",
        ["allergies"],
        {"severity": "severe"},
    )
    removed = await client.delete(path, headers=doctor)
    assert removed.status_code == 200, removed.text
    assert (await feed(redis, store))[-1].previous == {"severity": "allergy"}
    admin = await keymaker.headers("admin")
    audit = await client.get("/v1/customers/ada/audit", headers=admin)
    assert audit.json()["entries"][1]["previous"] == {"severity": "severe"}
    assert "EpiPen" not in audit.text and "Peanuts" not in audit.text, "no PII in the audit"


def test_a_restore_line_keeps_what_is_known_now() -> None:
    """A restored backup replaces the record, but not its allergies' strength."""
    now = Allergy(id="a1", label="Peanuts", severity="severe", note="EpiPen")
    current = CustomerRecord(id="ada", name="Ada", version=4, allergies=[now])
    backup = CustomerRecord(
        id="ada", name="Ada L.", allergies=[Allergy(id="a1", label="Peanuts", severity="allergy")]
    )
    restored = merge.restored(current, Incoming(line=1, raw={}, restore=backup), [], "import")
    assert (restored.name, restored.version, restored.allergies) == ("Ada L.", 4, [now])
