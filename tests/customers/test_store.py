"""The store contract: the same behaviour on fakeredis, a real redis-server, and CI's Redis."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from prefstore.customers.reader import CardReader
from prefstore.customers.store import CustomerStore
from prefstore.errors import Conflict, InvalidInput, NotFound, StaleVersion, Suppressed
from prefstore.models import inputs
from prefstore.models.records import CustomerRecord
from prefstore.models.views import Card

ADA = inputs.CustomerCreate(
    id="ada",
    name="Ada Lovelace",
    emails=["Ada@Example.com"],
    phones=["(415) 555-0123"],
    identifiers={"loyalty": " L-1815 "},
    tags=["VIP"],
)


def card_of(body: bytes) -> Card:
    return msgspec.json.decode(body, type=Card)


async def test_create_normalises_identifiers_and_renders_card(store: CustomerStore) -> None:
    written = await store.create(ADA, actor="ana")
    card = card_of(written.card.staff)
    assert card.version == 1
    assert card.emails == ["ada@example.com"]
    assert card.phones == ["+14155550123"]
    assert card.identifiers == {"loyalty": "l-1815"}
    assert card.tags == ["vip"]


async def test_card_read_is_the_stored_bytes(store: CustomerStore) -> None:
    written = await store.create(ADA, actor="ana")
    reader = CardReader(store.redis, store.keys, "US")
    found = await reader.by_id("ada", "staff")
    assert found is not None
    assert found.body == written.card.staff
    assert found.version == b"1"


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        ("phone", "+1 415-555-0123"),
        ("phone", "4155550123"),
        ("email", "ADA@example.COM"),
        ("loyalty", "l-1815"),
    ],
)
async def test_lookup_by_identifier_one_and_two_trips(
    store: CustomerStore, kind: str, raw: str
) -> None:
    await store.create(ADA, actor="ana")
    reader = CardReader(store.redis, store.keys, "US")
    one = await reader.by_identifier(kind, raw, "touchpoint")
    two = await reader.by_identifier_two_trips(kind, raw, "touchpoint")
    assert one is not None and two is not None
    assert one == two
    assert card_of(one.body).id == "ada"


async def test_lookup_unknown_identifier_is_none(store: CustomerStore) -> None:
    reader = CardReader(store.redis, store.keys, "US")
    assert await reader.by_identifier("email", "nobody@example.com", "staff") is None
    assert await reader.by_id("nobody", "staff") is None


async def test_duplicate_id_is_a_conflict(store: CustomerStore) -> None:
    await store.create(ADA, actor="ana")
    with pytest.raises(Conflict):
        await store.create(inputs.CustomerCreate(id="ada", name="Other"), actor="ana")


async def test_identifier_owned_by_another_is_refused_and_nothing_written(
    store: CustomerStore,
) -> None:
    await store.create(ADA, actor="ana")
    thief = inputs.CustomerCreate(
        id="bob", name="Bob", emails=["bob@example.com", "ada@example.com"]
    )
    with pytest.raises(Conflict) as caught:
        await store.create(thief, actor="ana")
    assert caught.value.field == "emails"
    with pytest.raises(NotFound):
        await store.get_record("bob")
    reader = CardReader(store.redis, store.keys, "US")
    assert await reader.by_identifier("email", "bob@example.com", "staff") is None


async def test_patch_moves_identifier_index(store: CustomerStore) -> None:
    await store.create(ADA, actor="ana")
    written = await store.patch(
        "ada", inputs.CustomerPatch(emails=["ada@newmail.com"], name="Ada King"), actor="ana"
    )
    assert written.card.version == 2
    reader = CardReader(store.redis, store.keys, "US")
    assert await reader.by_identifier("email", "ada@example.com", "staff") is None
    moved = await reader.by_identifier("email", "ada@newmail.com", "staff")
    assert moved is not None and card_of(moved.body).name == "Ada King"


async def test_patch_without_change_keeps_version(store: CustomerStore) -> None:
    await store.create(ADA, actor="ana")
    written = await store.patch("ada", inputs.CustomerPatch(name="Ada Lovelace"), actor="ana")
    assert written.card.version == 1
    assert not written.changed


async def test_if_match_refuses_stale_version(store: CustomerStore) -> None:
    await store.create(ADA, actor="ana")
    await store.add_note("ada", inputs.NoteInput(text="first"), actor="ana", expect_version=1)
    with pytest.raises(StaleVersion) as caught:
        await store.add_note("ada", inputs.NoteInput(text="second"), actor="bo", expect_version=1)
    assert caught.value.current == 2
    record = await store.get_record("ada")
    assert [n.text for n in record.notes] == ["first"]


async def test_invalid_phone_names_the_field(store: CustomerStore) -> None:
    with pytest.raises(InvalidInput) as caught:
        await store.create(
            inputs.CustomerCreate(name="X", phones=["+1 555", "not a phone"]), actor="a"
        )
    assert caught.value.field == "phones[0]"


async def test_touchpoint_view_hides_staff_notes(store: CustomerStore) -> None:
    await store.create(ADA, actor="ana")
    await store.add_note(
        "ada",
        inputs.NoteInput(text="loud at bar", visibility="staff"),
        actor="ana",
        expect_version=None,
    )
    written = await store.add_note(
        "ada", inputs.NoteInput(text="window seat"), actor="ana", expect_version=None
    )
    staff = card_of(written.card.staff)
    touchpoint = card_of(written.card.touchpoint)
    assert [n.text for n in staff.notes] == ["window seat", "loud at bar"]
    assert [n.text for n in touchpoint.notes] == ["window seat"]
    assert b"loud at bar" not in written.card.touchpoint


async def test_allergies_come_first_by_severity_and_replace_same_label(
    store: CustomerStore,
) -> None:
    await store.create(ADA, actor="ana")
    for label, severity in [
        ("Lactose", "intolerance"),
        ("Peanuts", "allergy"),
        ("peanuts", "severe"),
        ("Vegan", "dietary"),
    ]:
        written = await store.add_allergy(
            "ada",
            inputs.AllergyInput(label=label, severity=severity),
            actor="ana",  # type: ignore[arg-type]
            expect_version=None,
        )
    card = card_of(written.card.touchpoint)
    assert [(a.label, a.severity) for a in card.allergies] == [
        ("peanuts", "severe"),
        ("Lactose", "intolerance"),
        ("Vegan", "dietary"),
    ]
    assert card.allergies[0].confirmed_by == "ana"


async def test_preference_flip_replaces_old_opinion(store: CustomerStore) -> None:
    await store.create(ADA, actor="ana")
    await store.add_preference(
        "ada", inputs.PreferenceInput(label="Pretzels"), actor="a", expect_version=None
    )
    written = await store.add_preference(
        "ada",
        inputs.PreferenceInput(label="pretzels", sentiment="dislikes"),
        actor="a",
        expect_version=None,
    )
    card = card_of(written.card.staff)
    assert card.likes == []
    assert [p.label for p in card.dislikes] == ["pretzels"]


async def test_remove_item(store: CustomerStore) -> None:
    await store.create(ADA, actor="ana")
    written = await store.add_allergy(
        "ada", inputs.AllergyInput(label="Sesame"), actor="a", expect_version=None
    )
    allergy_id = card_of(written.card.staff).allergies[0].id
    removed = await store.remove_item(
        "ada", "allergies", allergy_id, actor="a", expect_version=None
    )
    assert card_of(removed.card.staff).allergies == []
    with pytest.raises(NotFound):
        await store.remove_item("ada", "allergies", allergy_id, actor="a", expect_version=None)


async def test_events_count_once_per_operation_id(store: CustomerStore) -> None:
    await store.create(ADA, actor="ana")
    visit = inputs.EventInput(type="visit", operation_id="pos-1", items=["Chai latte"], amount=4.5)
    _w, first, first_dup = await store.record_event("ada", visit, actor="pos")
    written, again, second_dup = await store.record_event("ada", visit, actor="pos2")
    assert (first_dup, second_dup) == (False, True)
    assert again == first, "a retry must be answered with the event recorded first"
    history = card_of(written.card.staff).history
    assert history.visits == 1
    assert history.spend == 4.5
    assert history.top_items[0].item == "chai latte"
    page = await store.list_events("ada")
    assert [e.id for e in page.events] == ["pos-1"]


async def test_event_paging_is_stable_and_newest_first(store: CustomerStore) -> None:
    await store.create(ADA, actor="ana")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(7):
        event = inputs.EventInput(
            type="purchase", operation_id=f"op{i}", at=start + timedelta(days=i)
        )
        await store.record_event("ada", event, actor="pos")
    seen: list[str] = []
    cursor = None
    while True:
        page = await store.list_events("ada", limit=3, cursor=cursor)
        seen += [e.id for e in page.events]
        if page.next_cursor is None:
            break
        # A newer event landing between pages must not shift what the next page holds.
        await store.record_event(
            "ada",
            inputs.EventInput(
                type="visit",
                operation_id=f"new{len(seen)}",
                at=start + timedelta(days=30 + len(seen)),
            ),
            actor="pos",
        )
        cursor = page.next_cursor
    assert seen == [f"op{i}" for i in reversed(range(7))]


async def test_bad_cursor_is_invalid_input(store: CustomerStore) -> None:
    await store.create(ADA, actor="ana")
    with pytest.raises(InvalidInput):
        await store.list_events("ada", cursor="garbage")


async def test_erase_removes_everything_and_suppresses(store: CustomerStore) -> None:
    await store.create(ADA, actor="ana")
    await store.record_event("ada", inputs.EventInput(type="visit", operation_id="v1"), actor="pos")
    await store.erase("ada", actor="dpo")
    with pytest.raises(NotFound):
        await store.get_record("ada")
    reader = CardReader(store.redis, store.keys, "US")
    assert await reader.by_id("ada", "staff") is None
    assert await reader.by_identifier("phone", "4155550123", "staff") is None
    came_back = CustomerRecord(id="x", name="A", emails=["ada@example.com"])
    assert await store.is_suppressed(came_back)
    with pytest.raises(Suppressed):
        await store.create(
            inputs.CustomerCreate(name="Ada", emails=["ada@example.com"]),
            actor="import",
            respect_suppression=True,
        )
    with pytest.raises(NotFound):
        await store.erase("ada", actor="dpo")


async def test_concurrent_writers_lose_nothing(store: CustomerStore) -> None:
    await store.create(ADA, actor="ana")
    notes = [inputs.NoteInput(text=f"note {i}") for i in range(12)]
    await asyncio.gather(
        *(store.add_note("ada", n, actor=f"w{i}", expect_version=None) for i, n in enumerate(notes))
    )
    record = await store.get_record("ada")
    assert sorted(n.text for n in record.notes) == sorted(n.text for n in notes)
    assert record.version == 13


async def test_export_holds_record_and_events(store: CustomerStore) -> None:
    await store.create(ADA, actor="ana")
    await store.record_event("ada", inputs.EventInput(type="visit", operation_id="v1"), actor="pos")
    export = await store.export("ada")
    assert export.customer.emails == ["ada@example.com"]
    assert [e.id for e in export.events] == ["v1"]


async def test_change_feed_records_who_and_what_without_pii(store: CustomerStore) -> None:
    from prefstore.customers.changes import ChangeFeed

    await store.create(ADA, actor="ana")
    await store.patch("ada", inputs.CustomerPatch(phones=["4155550199"]), actor="bo")
    entries = await ChangeFeed(store.redis, store.keys).read_after("0-0")
    assert [(e.op, e.actor, e.version) for _id, e in entries] == [
        ("create", "ana", 1),
        ("update", "bo", 2),
    ]
    assert entries[1][1].fields == ["phones"]
    raw = msgspec.json.encode([e for _id, e in entries])
    assert b"555" not in raw and b"example.com" not in raw
