"""Batch import: presets, mapping, rejections, idempotence, suppression, dry run."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from redis.asyncio import Redis

from prefstore.customers.cards import render
from prefstore.customers.changes import ChangeFeed
from prefstore.customers.reader import CardReader
from prefstore.customers.store import CustomerStore
from prefstore.errors import InvalidInput
from prefstore.models.inputs import CustomerCreate, CustomerPatch
from prefstore.models.results import DuplicateCandidate
from prefstore.redis.keyspace import KeySpace, decode_record, identifier_keys
from prefstore.transfer import Mapping
from tests.support.backends import delete_prefix
from tests.support.imports import Sink, run_import
from tests.support.keyspace import snapshot

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "customers.csv"

HUBSPOT = (
    "Record ID,First Name,Last Name,Email,Phone Number,Allergies,Dietary restrictions,"
    "Favourite drink,Dislikes,Tags,Notes,Shoe size\n"
    "501,Ada,Lovelace,Ada@Example.com,(415) 555-0123,Peanuts (severe),vegan,Oat milk latte,"
    'Pretzels,vip;regular,"Window seat, always",42\n'
    "502,Grace,Hopper,grace@example.com,415-555-0199,,,Chai latte,,,,40\n"
)


async def test_hubspot_preset_creates_cards(store: CustomerStore, redis_client: Redis) -> None:
    summary = await run_import(store, HUBSPOT)
    assert (summary.preset, summary.rows, summary.created, summary.rejected) == ("hubspot", 2, 2, 0)
    assert summary.unknown_columns == ["Shoe size"]
    ada = await store.get_record("501")
    assert ada.name == "Ada Lovelace"
    assert ada.emails == ["ada@example.com"] and ada.phones == ["+14155550123"]
    assert ada.identifiers == {"crm": "501"}
    assert [(a.label, a.severity) for a in ada.allergies] == [
        ("Peanuts", "severe"),
        ("vegan", "dietary"),
    ]
    assert [(p.label, p.sentiment, p.category) for p in ada.preferences] == [
        ("Oat milk latte", "likes", "beverage"),
        ("Pretzels", "dislikes", "other"),
    ]
    assert ada.tags == ["vip", "regular"]
    assert [n.text for n in ada.notes] == ["Window seat, always"]
    reader = CardReader(redis_client, store.keys, "US")
    found = await reader.by_identifier("phone", "+1 415 555 0123", "staff")
    assert found is not None and json.loads(found.body)["id"] == "501"


async def test_written_state_is_what_the_store_writes(
    store: CustomerStore, redis_client: Redis
) -> None:
    """Record, every card view, index keys and the change feed, as the store makes them."""
    await run_import(store, HUBSPOT)
    raw = await redis_client.get(store.keys.record("501"))
    record = decode_record(raw)
    card = render(record, store.notes_on_card)
    stored = await redis_client.hgetall(store.keys.card("501"))
    assert stored == {
        b"v": b"1",
        b"tp": card.touchpoint,
        b"all": card.contact,
        b"staff": card.staff,
    }
    assert b"+14155550123" not in card.touchpoint and b"+14155550123" in card.contact
    for key in identifier_keys(store.keys, record):
        assert await redis_client.get(key) == b"501"
    entries = await ChangeFeed(redis_client, store.keys).read_after("0")
    assert sorted((e.op, e.customer_id, e.version) for _id, e in entries) == [
        ("create", "501", 1),
        ("create", "502", 1),
    ]
    # The store keeps working on an imported customer.
    written = await store.patch("501", CustomerPatch(tags=["vip"]), actor="t")
    assert written.card.version == 2


async def test_salesforce_preset_is_recognised(store: CustomerStore) -> None:
    data = (
        "Contact ID,FirstName,LastName,Email,MobilePhone,Birthdate,Description,AccountId\n"
        "003A000001AbCdE,Alan,Turing,alan@example.org,+44 20 7946 0958,1912-06-23,"
        "Quiet room please,001X\n"
    )
    summary = await run_import(store, data)
    assert (summary.preset, summary.created, summary.unknown_columns) == ("salesforce", 1, [])
    alan = await store.get_record("003A000001AbCdE")
    assert alan.identifiers == {"crm": "003a000001abcde"}
    assert str(alan.dates["birthday"]) == "1912-06-23"
    assert alan.notes[0].text == "Quiet room please"


async def test_custom_mapping_file_and_columns(store: CustomerStore, tmp_path: Path) -> None:
    map_file = tmp_path / "map.json"
    map_file.write_text(
        json.dumps({"preset": "prefstore", "columns": {"Cust #": "crm_id", "Fav": "likes:food"}})
    )
    mapping = Mapping.build("auto", map_file, ("Full name=name", "Staff remark=notes:staff"))
    data = (
        "Cust #,Full name,email,Fav,Staff remark\nC-9,Bo Diddley,bo@example.com,Gumbo,tips well\n"
    )
    summary = await run_import(store, data, mapping=mapping)
    assert (summary.preset, summary.created) == ("prefstore", 1)
    bo = await store.get_record("C-9")
    assert bo.preferences[0].label == "Gumbo" and bo.preferences[0].category == "food"
    assert bo.notes[0].visibility == "staff"


def test_mapping_errors_name_the_entry(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as bad_target:
        Mapping.build("auto", None, ("Drink=likes:cocktails",))
    assert bad_target.value.field == "column 'Drink'"
    with pytest.raises(InvalidInput) as bad_preset:
        Mapping.build("zoho")
    assert bad_preset.value.field == "preset"
    map_file = tmp_path / "m.json"
    map_file.write_text('{"colums": {}}')
    with pytest.raises(InvalidInput, match="unknown keys"):
        Mapping.build("auto", map_file)


HEADER = "Record ID,First Name,Last Name,Email,Phone Number,Tags,Date of birth,Create Date\n"


@pytest.mark.parametrize(
    ("row", "field", "reason"),
    [
        ("1,A,B,not-an-email,,,,", "Email", "not a valid email address"),
        ("1,A,B,,123,,,", "Phone Number", "phone"),
        (",A,B,,,vip,,", "row", "no CRM id, email, phone"),
        ("1,,,a@example.com,,,,", "name", "a name is needed"),
        ("1,A,B,a@example.com,,b@d!,,", "Tags", "regex"),
        ("1,A,B,a@example.com,,,31/12/1999,", "Date of birth", "date"),
        ("1,A,B,a@example.com,,,,yesterday", "Create Date", "ISO 8601"),
        ('1,A,B,"a@example.com', "row", "unterminated quoted field"),
    ],
)
async def test_every_csv_rejection_names_line_and_field(
    store: CustomerStore, row: str, field: str, reason: str
) -> None:
    sink = Sink()
    summary = await run_import(store, HEADER + "7,Ok,Row,ok@example.com,,,,\n" + row + "\n", sink)
    assert (summary.created, summary.rejected) == (1, 1)
    [rejection] = summary.rejections
    assert (rejection.line, rejection.field) == (3, field)
    assert reason in rejection.reason
    assert sink.rows[0][0] == 3


async def test_identifier_owned_by_another_customer_is_rejected(store: CustomerStore) -> None:
    await store.create(
        CustomerCreate(id="walk-in", name="Walk In", emails=["taken@example.com"]), actor="t"
    )
    await run_import(store, HEADER + "9,New,Person,new@example.com,,,,\n")
    # CRM contact 9 now claims the walk-in's email: refused, the field named.
    summary = await run_import(store, HEADER + "9,New,Person,taken@example.com,,,,\n")
    assert (summary.rejected, summary.updated) == (1, 0)
    assert summary.rejections[0].field == "Email"
    assert "belongs to another customer" in summary.rejections[0].reason
    # Another CRM id matched by that email is not the same person either.
    other = await run_import(store, HEADER + "10,Third,Person,new@example.com,,,,\n")
    assert (other.rejected, other.rejections[0].field) == (1, "Email")
    assert (await store.get_record("walk-in")).name == "Walk In"
    assert (await store.get_record("9")).emails == ["new@example.com"]


async def test_crm_row_links_to_a_customer_made_at_the_desk(store: CustomerStore) -> None:
    await store.create(
        CustomerCreate(id="walk-in", name="Walk In", emails=["desk@example.com"]), actor="t"
    )
    summary = await run_import(store, HEADER + "12,Walk,In,desk@example.com,,,,\n")
    assert summary.updated == 1
    assert (await store.get_record("walk-in")).identifiers == {"crm": "12"}


@pytest.mark.parametrize(
    ("line", "field", "reason"),
    [
        ("not json", "row", "not JSON"),
        ("[1, 2]", "row", "expected a JSON object"),
        (
            '{"crm_id": "5", "name": "X", "email": "x@example.com", "events": [{"type": "nap"}]}',
            "events[0].type",
            "Invalid enum value",
        ),
        ('{"customer": {"id": "bad id!", "name": "X"}}', "customer.id", "letters"),
    ],
)
async def test_ndjson_rejections(store: CustomerStore, line: str, field: str, reason: str) -> None:
    data = '{"crm_id": "1", "name": "Fine", "email": "fine@example.com"}\n' + line + "\n"
    summary = await run_import(store, data)
    assert (summary.created, summary.rejected) == (1, 1)
    assert (summary.rejections[0].line, summary.rejections[0].field) == (2, field)
    assert reason in summary.rejections[0].reason


async def test_many_bad_rows_never_stop_the_import(store: CustomerStore) -> None:
    bad = "".join(f"{i},A,B,nope{i},,,,\n" for i in range(300))
    summary = await run_import(store, HEADER + bad + "1000,Last,One,last@example.com,,,,\n")
    assert (summary.rejected, summary.created, len(summary.rejections)) == (300, 1, 300)


async def test_rejects_file_can_be_fixed_and_reimported(
    store: CustomerStore, tmp_path: Path
) -> None:
    from prefstore.transfer.rejects import RejectsFile

    path = tmp_path / "rejects.csv"
    sink = RejectsFile(path, "csv")
    await run_import(store, HEADER + "11,Kay,Oh,kay-at-example.com,,,,\n", sink)  # type: ignore[arg-type]
    sink.close()
    text = path.read_text()
    assert text.splitlines()[0].endswith(",_line,_field,_reason")
    assert "11,Kay,Oh,kay-at-example.com" in text and ",2,Email," in text
    fixed = text.replace("kay-at-example.com", "kay@example.com")
    summary = await run_import(store, fixed)
    assert (summary.created, summary.rejected, summary.unknown_columns) == (1, 0, [])


async def test_rerun_changes_nothing(store: CustomerStore, redis_client: Redis) -> None:
    await run_import(store, SAMPLE.read_bytes())
    before = await snapshot(redis_client, store.keys.prefix)
    summary = await run_import(store, SAMPLE.read_bytes())
    assert summary.created == summary.updated == 0
    assert summary.unchanged == summary.rows - summary.rejected
    assert await snapshot(redis_client, store.keys.prefix) == before


async def test_changed_row_updates_card_and_version(store: CustomerStore) -> None:
    await run_import(store, HUBSPOT)
    changed = HUBSPOT.replace("Chai latte", "Matcha").replace("502,Grace", "502,Amazing Grace")
    summary = await run_import(store, changed)
    assert (summary.updated, summary.unchanged) == (1, 1)
    grace = await store.get_record("502")
    assert grace.version == 2 and grace.name == "Amazing Grace Hopper"
    assert [p.label for p in grace.preferences] == ["Chai latte", "Matcha"]


async def test_rows_match_by_email_then_phone(store: CustomerStore) -> None:
    await store.create(
        CustomerCreate(id="desk-1", name="Desk Made", phones=["+1 415 555 0142"]), actor="t"
    )
    data = "email,phone,name,likes\n,415-555-0142,Desk Made,Tea\n"
    summary = await run_import(store, data, preset="prefstore")
    assert summary.updated == 1
    assert (await store.get_record("desk-1")).preferences[0].label == "Tea"


async def test_events_count_once_across_reruns(store: CustomerStore) -> None:
    line = json.dumps(
        {
            "crm_id": "77",
            "name": "Eve Visit",
            "email": "eve@example.com",
            "events": [
                {"type": "visit", "at": "2024-05-01T12:00:00Z", "items": ["Latte"]},
                {
                    "type": "purchase",
                    "operation_id": "pos-1",
                    "at": "2024-05-01T12:01:00Z",
                    "amount": 4.5,
                },
            ],
        }
    )
    first = await run_import(store, line + "\n")
    again = await run_import(store, line + "\n")
    assert (first.created, again.unchanged) == (1, 1)
    eve = await store.get_record("77")
    assert (eve.history.visits, eve.history.purchases, eve.history.spend) == (1, 1, 4.5)
    assert len(await store.all_events("77")) == 2


async def test_erased_people_are_not_recreated(store: CustomerStore, redis_client: Redis) -> None:
    await run_import(store, HUBSPOT)
    await store.erase("501", actor="dpo")
    summary = await run_import(store, HUBSPOT)
    assert (summary.suppressed, summary.unchanged, summary.created) == (1, 1, 0)
    assert not await redis_client.exists(store.keys.record("501"))
    # Suppression is by keyed hash: no email or phone of the erased person is stored.
    members = await redis_client.smembers(store.keys.suppressed)
    assert members and all(re.fullmatch(rb"[0-9a-f]{64}", m) for m in members)


async def test_dry_run_writes_nothing_and_lists_duplicates(
    store: CustomerStore, redis_client: Redis
) -> None:
    await store.create(
        CustomerCreate(id="old-1", name="Katherine Johnson", phones=["+1 415 555 0142"]),
        actor="t",
    )
    before = await snapshot(redis_client, store.keys.prefix)
    summary = await run_import(store, SAMPLE.read_bytes(), dry_run=True)
    assert await snapshot(redis_client, store.keys.prefix) == before
    assert summary.dry_run and summary.created == 4 and summary.rejected == 2
    # Katherine's phone is owned already: she is an update, not a duplicate.
    assert summary.updated == 1
    doubles = await run_import(
        store,
        "Record ID,Name,Phone\n"
        "88,Katherine Jonson,+1 212 555 0142\n"  # same last four digits, name one letter off
        "89,Dorothy Vaughan,+1 646 555 0142\n"  # same last four digits, another name
        "90,Katherine Johnson,+1 646 555 0100\n",  # same name, nothing else in common
        dry_run=True,
        columns=("Name=name", "Phone=phone"),
    )
    assert doubles.dry_run and (doubles.created, doubles.rejected) == (3, 0)
    # One hint: the row, the existing customer it resembles, and what it matched on.
    assert doubles.duplicates == [
        DuplicateCandidate(
            line=2,
            name="Katherine Jonson",
            customer_id="old-1",
            existing_name="Katherine Johnson",
            score=97.0,  # token-sort ratio of the two names, one decimal
            matched_on="phone …0142",
        )
    ]
    assert await snapshot(redis_client, store.keys.prefix) == before


async def test_gzip_input(store: CustomerStore) -> None:
    import gzip

    summary = await run_import(store, gzip.compress(HUBSPOT.encode()))
    assert summary.created == 2


async def test_store_keyspace_unaffected_by_other_prefix(
    redis_client: Redis, store: CustomerStore
) -> None:
    """Two deployments on one Redis: an import under one prefix leaves the other's keys as
    they were, and lands wholly under its own."""
    await run_import(store, HUBSPOT)
    before = await snapshot(redis_client, store.keys.prefix)
    other = CustomerStore(redis_client, KeySpace(f"{store.keys.prefix}other:"))
    try:
        summary = await run_import(other, HUBSPOT)
        assert summary.created == 2
        mine = {k for k in await snapshot(redis_client, store.keys.prefix) if b"other:" not in k}
        assert mine == set(before), "the first deployment's keys are untouched"
        theirs = await snapshot(redis_client, other.keys.prefix)
        assert sum(k.endswith(b":rec") for k in theirs) == 2
    finally:
        await delete_prefix(redis_client, other.keys.prefix)
