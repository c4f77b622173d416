"""Models: published schemas match the code; old records decode; inputs round-trip."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from prefstore.customers.cards import render
from prefstore.customers.records import record_from_create
from prefstore.models.inputs import CustomerCreate
from prefstore.models.records import CustomerRecord
from prefstore.models.views import Card
from prefstore.redis.keyspace import decode_record
from prefstore.schemas import render_schemas

_NOW = datetime(2026, 1, 1, tzinfo=UTC)
SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"


def test_published_schemas_match_the_code() -> None:
    rendered = render_schemas()
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in SCHEMA_DIR.glob("*.schema.json")}
    assert set(on_disk) == set(rendered), "run scripts/gen_schemas.py"
    for name, text in rendered.items():
        assert on_disk[name] == text, f"{name} drifted from the code: run scripts/gen_schemas.py"


def test_a_record_from_an_older_version_still_decodes() -> None:
    # What version 0.1 wrote before history, notes and identifiers existed.
    old = msgspec.msgpack.encode({"id": "ada", "name": "Ada", "version": 3, "emails": ["a@b.co"]})
    record = decode_record(old)
    assert record.name == "Ada" and record.version == 3
    assert record.notes == [] and record.history.visits == 0 and record.identifiers == {}


def test_a_record_from_a_newer_version_still_decodes() -> None:
    newer = msgspec.msgpack.encode({"id": "ada", "name": "Ada", "loyalty_tier": "gold"})
    assert decode_record(newer).name == "Ada"


names = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=200
).filter(lambda s: s.strip() != "")


@settings(max_examples=200, deadline=None)
@given(
    name=names, tags=st.lists(st.from_regex(r"[a-z][a-z0-9 -]{0,20}", fullmatch=True), max_size=5)
)
def test_card_round_trips_any_name_and_tags(name: str, tags: list[str]) -> None:
    record = record_from_create(CustomerCreate(name=name, tags=tags), "US", "t", _NOW)
    card = msgspec.json.decode(render(record, 10).staff, type=Card)
    assert card.name == name.strip()
    assert card.tags == list(dict.fromkeys(t.strip().casefold() for t in tags))
    again = msgspec.msgpack.decode(msgspec.msgpack.encode(record), type=CustomerRecord)
    assert again == record
