"""The store against a model, on a real Redis: hypothesis drives random sequences of
creates, writes (notes, allergies, preferences, patches), concurrent writes, erasures,
imports and exports, and after every step checks what must always hold:

* each card view is the rendering of the stored record (nothing stale, nothing half written);
* the identifier index and the records agree, both ways;
* an erased person's identifiers resolve to nothing;
* a record's version rises by exactly one per change (and not at all for a no-op);
* no duplicate items (allergies and preferences one per label, notes and events by id);
* what the model says each live customer holds (allergy severities never weakened, the
  latest opinion per label, every note once).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from prefstore.customers.cards import card_fields, render
from prefstore.customers.store import CustomerStore, Written
from prefstore.models.fields import SEVERITY_RANK
from prefstore.models.inputs import (
    AllergyInput,
    CustomerCreate,
    CustomerPatch,
    NoteInput,
    PreferenceInput,
)
from prefstore.redis.connection import as_text, connect
from prefstore.redis.keyspace import KeySpace, decode_record, identifier_keys
from tests.support.backends import delete_prefix, new_prefix
from tests.support.imports import export_bytes, run_import
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.real_redis
T = TypeVar("T")

IDS = [f"p{i}" for i in range(5)]
ALLERGENS = ["peanuts", "sesame", "shellfish"]
LIKES = ["oat milk", "window seat", "jazz"]
SEVERITIES = list(SEVERITY_RANK)
CITIES = ["Leeds", "York", None]


@dataclass
class Person:
    name: str
    email: str
    version: int = 1
    city: str | None = None
    allergies: dict[str, str] = field(default_factory=dict)
    likes: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    imported: bool = False
    """Made by an import: its id is also a `Record ID` identifier, which erasure suppresses."""


class StoreMachine(RuleBasedStateMachine):
    server: RedisServer

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.redis = connect(self.server.url, timeout=2.0)
        self.keys = KeySpace(new_prefix("sm"))
        self.store = CustomerStore(self.redis, self.keys)
        self.people: dict[str, Person] = {}
        self.erased_emails: set[str] = set()
        self.suppressed_ids: set[str] = set()
        self.ever_indexed: set[str] = set()
        self.serial = 0

    def run(self, work: Awaitable[T]) -> T:
        return self.loop.run_until_complete(work)

    def teardown(self) -> None:
        self.run(delete_prefix(self.redis, self.keys.prefix))
        self.run(self.redis.aclose())
        self.loop.close()

    def fresh_email(self) -> str:
        self.serial += 1
        return f"person{self.serial}@example.com"

    def changed(self, cid: str, written: Written) -> None:
        """The version rose by one for a change, by nothing for a no-op."""
        person = self.people[cid]
        expected = person.version + (1 if written.changed else 0)
        assert written.card.version == expected, (cid, written.card.version, expected)
        person.version = expected

    # ------------------------------------------------------------------ rules
    @precondition(lambda self: len(self.people) < len(IDS))
    @rule(data=st.data(), name=st.sampled_from(["Ada Lovelace", "Grace Hopper", "Bo"]))
    def create(self, data: st.DataObject, name: str) -> None:
        cid = data.draw(st.sampled_from([i for i in IDS if i not in self.people]))
        email = self.fresh_email()
        written = self.run(
            self.store.create(CustomerCreate(id=cid, name=name, emails=[email]), actor="t")
        )
        assert written.changed and written.card.version == 1
        self.people[cid] = Person(name=name, email=email)

    @precondition(lambda self: len(self.people) < len(IDS))
    @rule(data=st.data())
    def import_new(self, data: st.DataObject) -> None:
        cid = data.draw(st.sampled_from([i for i in IDS if i not in self.people]))
        email = self.fresh_email()
        csv = f"Record ID,First Name,Last Name,Email\n{cid},Imported,Person,{email}\n"
        summary = self.run(run_import(self.store, csv))
        if cid in self.suppressed_ids:  # an erased person's Record ID: not brought back
            assert (summary.created, summary.suppressed) == (0, 1), summary
            return
        assert (summary.created, summary.rejected) == (1, 0), summary
        self.people[cid] = Person(name="Imported Person", email=email, imported=True)

    @precondition(lambda self: bool(self.people))
    @rule(data=st.data(), text=st.sampled_from(["likes the corner", "regular", "tips well"]))
    def note(self, data: st.DataObject, text: str) -> None:
        cid = data.draw(st.sampled_from(sorted(self.people)))
        self.serial += 1
        text = f"{text} {self.serial}"
        written = self.run(
            self.store.add_note(cid, NoteInput(text=text), actor="t", expect_version=None)
        )
        assert written.changed
        self.changed(cid, written)
        self.people[cid].notes.append(text)

    @precondition(lambda self: bool(self.people))
    @rule(
        data=st.data(),
        label=st.sampled_from(ALLERGENS),
        severity=st.sampled_from(SEVERITIES),
    )
    def allergy(self, data: st.DataObject, label: str, severity: str) -> None:
        cid = data.draw(st.sampled_from(sorted(self.people)))
        given = AllergyInput(label=label, severity=severity)  # type: ignore[arg-type]
        written = self.run(self.store.add_allergy(cid, given, actor="t", expect_version=None))
        self.changed(cid, written)
        known = self.people[cid].allergies
        old = known.get(label)
        if old is None or SEVERITY_RANK[severity] < SEVERITY_RANK[old]:
            known[label] = severity  # never weaker: only a stronger one replaces it

    @precondition(lambda self: bool(self.people))
    @rule(data=st.data(), label=st.sampled_from(LIKES), likes=st.booleans())
    def preference(self, data: st.DataObject, label: str, likes: bool) -> None:
        cid = data.draw(st.sampled_from(sorted(self.people)))
        sentiment = "likes" if likes else "dislikes"
        given = PreferenceInput(label=label, sentiment=sentiment)
        written = self.run(self.store.add_preference(cid, given, actor="t", expect_version=None))
        self.changed(cid, written)
        self.people[cid].likes[label] = sentiment

    @precondition(lambda self: bool(self.people))
    @rule(data=st.data(), city=st.sampled_from(CITIES))
    def patch(self, data: st.DataObject, city: str | None) -> None:
        cid = data.draw(st.sampled_from(sorted(self.people)))
        written = self.run(
            self.store.patch(cid, CustomerPatch(city=city or ""), actor="t")
            if city
            else self.store.patch(cid, CustomerPatch(name=self.people[cid].name), actor="t")
        )
        self.changed(cid, written)
        if city:
            self.people[cid].city = city

    @precondition(lambda self: bool(self.people))
    @rule(data=st.data(), writers=st.integers(min_value=2, max_value=6))
    def concurrent_notes(self, data: st.DataObject, writers: int) -> None:
        """Several writers on one customer at once: every one lands, once."""
        cid = data.draw(st.sampled_from(sorted(self.people)))
        texts = []
        for _ in range(writers):
            self.serial += 1
            texts.append(f"together {self.serial}")

        async def all_at_once() -> list[Written]:
            return await asyncio.gather(
                *(
                    self.store.add_note(cid, NoteInput(text=t), actor="t", expect_version=None)
                    for t in texts
                )
            )

        written = self.run(all_at_once())
        person = self.people[cid]
        versions = sorted(w.card.version for w in written)
        assert versions == list(range(person.version + 1, person.version + writers + 1))
        person.version += writers
        person.notes.extend(texts)

    @precondition(lambda self: bool(self.people))
    @rule(data=st.data())
    def erase(self, data: st.DataObject) -> None:
        cid = data.draw(st.sampled_from(sorted(self.people)))
        self.run(self.store.erase(cid, actor="admin"))
        person = self.people.pop(cid)
        self.erased_emails.add(person.email)
        if person.imported:
            self.suppressed_ids.add(cid)

    @rule()
    def export(self) -> None:
        lines = self.run(export_bytes(self.redis, self.store)).splitlines()
        exported = {}
        for line in lines:
            row = json.loads(line)
            record = row.get("customer", row)
            exported[record["id"]] = record
        assert sorted(exported) == sorted(self.people)
        for cid, record in exported.items():
            assert record["name"] == self.people[cid].name
            assert sorted(n["text"] for n in record["notes"]) == sorted(self.people[cid].notes)

    # ------------------------------------------------------------------ invariants
    @invariant()
    def records_cards_and_model_agree(self) -> None:
        for cid, person in self.people.items():
            raw = self.run(self.redis.get(self.keys.record(cid)))
            assert raw is not None, cid
            record = decode_record(raw)
            stored = self.run(self.redis.hgetall(self.keys.card(cid)))
            expected = card_fields(render(record, self.store.notes_on_card))
            assert {k: v if isinstance(v, bytes) else v.encode() for k, v in expected.items()} == {
                k: v for k, v in stored.items() if k in expected
            }, f"card of {cid} is not the rendering of its record"
            assert record.version == person.version
            assert record.name == person.name and record.city == person.city
            assert {a.label.casefold(): a.severity for a in record.allergies} == person.allergies
            assert {p.label.casefold(): p.sentiment for p in record.preferences} == person.likes
            assert sorted(n.text for n in record.notes) == sorted(person.notes)
            assert len({a.label.casefold() for a in record.allergies}) == len(record.allergies)
            assert len({n.id for n in record.notes}) == len(record.notes)

    @invariant()
    def identifier_index_matches_records(self) -> None:
        """Each live record's identifiers point at it; every other identifier ever used
        points at nothing (no SCAN: the session's Redis is shared)."""
        wanted: dict[str, str] = {}
        for cid in self.people:
            record = decode_record(self.run(self.redis.get(self.keys.record(cid))))
            for key in identifier_keys(self.keys, record):
                wanted[key] = cid
        self.ever_indexed |= set(wanted)
        keys = sorted(self.ever_indexed)
        owners = self.run(self.redis.mget(keys)) if keys else []
        assert {k: as_text(o) for k, o in zip(keys, owners, strict=True) if o is not None} == wanted

    @invariant()
    def erased_identifiers_resolve_to_nothing(self) -> None:
        for email in self.erased_emails:
            key = self.keys.identifier("email", email)
            assert self.run(self.redis.get(key)) is None, email


PHASES = [Phase.explicit, Phase.reuse, Phase.generate]
"""No shrinking: it could run past the per-test timeout. A failure prints its steps as run."""


def test_store_against_a_model(redis_server: RedisServer) -> None:
    StoreMachine.server = redis_server
    run_state_machine_as_test(
        StoreMachine,
        settings=settings(
            max_examples=40,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
            database=None,
            phases=PHASES,
        ),
    )
