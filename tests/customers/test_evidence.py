"""Evidence on preferences: the event rule keeps how often and when last each item was seen;
cards show it on likes and dislikes, suggest often-bought items as likes, and read
comparative likes naturally."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from prefstore.customers import rules
from prefstore.customers.cards import reads, render
from prefstore.customers.evidence import SUGGEST_AFTER, seen_items, suggested_likes
from prefstore.customers.store import CustomerStore
from prefstore.errors import InvalidInput
from prefstore.models.inputs import (
    AllergyInput,
    CustomerCreate,
    EventInput,
    PreferenceInput,
)
from prefstore.models.records import Allergy, CustomerRecord, Event, History, Preference

DAY = datetime(2026, 3, 1, 12, tzinfo=UTC)


def bought(history: History, day: int, *items: str) -> None:
    rules.count_event(
        history,
        Event(
            id=f"e{day}-{items}", type="purchase", at=DAY + timedelta(days=day), items=list(items)
        ),
    )


def test_the_event_rule_keeps_how_often_and_when_last_each_item_was_seen() -> None:
    history = History()
    bought(history, 3, "Oat milk", "Scone")
    bought(history, 1, "oat milk")  # recorded late: the last-seen time stays the later one
    bought(history, 5, "OAT MILK")
    assert history.item_counts == {"oat milk": 3, "scone": 1}
    assert history.item_last_seen == {
        "oat milk": DAY + timedelta(days=5),
        "scone": DAY + timedelta(days=3),
    }
    copy = rules.history_copy(history)
    bought(copy, 9, "tea")
    assert "tea" not in history.item_counts and "tea" not in history.item_last_seen


def test_last_seen_times_are_trimmed_with_the_counters() -> None:
    history = History()
    for i in range(rules.MAX_DISTINCT_ITEMS):
        bought(history, 0, f"item {i}", "staple")
    bought(history, 1, "one more")
    assert len(history.item_counts) == rules.MAX_DISTINCT_ITEMS
    assert set(history.item_last_seen) == set(history.item_counts)


def test_likes_show_evidence_matched_case_and_accent_blind() -> None:
    history = History()
    for day, item in enumerate(["Crème brûlée", "creme brulee", "CRÈME-BRÛLÉE", "Flat white"]):
        bought(history, day, item)
    record = CustomerRecord(
        id="ada",
        name="Ada",
        preferences=[
            Preference(id="p1", label="Creme Brulee"),
            Preference(id="p2", label="olives", sentiment="dislikes"),
        ],
        history=history,
    )
    card = msgspec.json.decode(render(record, 10, DAY).staff)
    (like,) = card["likes"]
    assert (like["seen"], like["last_seen"]) == (3, "2026-03-03T12:00:00Z")
    assert like["reads"] == "likes Creme Brulee"
    (dislike,) = card["dislikes"]
    assert (dislike["seen"], dislike["last_seen"], dislike["reads"]) == (
        0,
        None,
        "dislikes olives",
    )


def test_often_bought_items_not_yet_recorded_are_suggested_as_likes() -> None:
    history = History()
    for day in range(4):
        bought(history, day, "Flat white", "Peanut cookie", "Olive bread")
    for day in range(SUGGEST_AFTER - 1):
        bought(history, day, "Muffin")
    bought(history, 9, "Chai", "Chai", "Chai")
    record = CustomerRecord(
        id="ada",
        name="Ada",
        preferences=[Preference(id="p", label="olive bread", sentiment="dislikes")],
        allergies=[Allergy(id="a", label="peanut cookie")],
        history=history,
    )
    suggested = suggested_likes(record, seen_items(history))
    assert [(s.item, s.count) for s in suggested] == [("flat white", 4), ("chai", 3)]
    assert suggested[0].last_seen == DAY + timedelta(days=3)
    card = msgspec.json.decode(render(record, 10, DAY).touchpoint)
    assert [s["item"] for s in card["suggested_likes"]] == ["flat white", "chai"]


def test_a_comparative_like_reads_naturally() -> None:
    popcorn = rules.preference_from(PreferenceInput(label="popcorn", over="pretzels"), "maya", DAY)
    assert reads(popcorn) == "prefers popcorn over pretzels"
    for bad in (
        PreferenceInput(label="popcorn", over="Popcorn"),
        PreferenceInput(label="olives", sentiment="dislikes", over="capers"),
    ):
        with pytest.raises(InvalidInput) as refused:
            rules.preference_from(bad, "maya", DAY)
        assert refused.value.field == "over"
    placed = rules.put_preference(
        [popcorn], rules.preference_from(PreferenceInput(label="Popcorn"), "x", DAY)
    )
    assert placed.outcome == "unchanged"  # a plain like says no more than the comparative one
    newer = PreferenceInput(label="popcorn", over="crisps")
    assert (
        rules.put_preference([popcorn], rules.preference_from(newer, "x", DAY)).item.over
        == "crisps"
    )


async def test_events_through_the_store_turn_into_evidence_and_a_suggestion(
    store: CustomerStore,
) -> None:
    await store.create(
        CustomerCreate(
            id="ada",
            name="Ada",
            preferences=[PreferenceInput(label="Oat milk")],
            allergies=[AllergyInput(label="almonds")],
        ),
        actor="t",
    )
    for n in range(3):
        await store.record_event(
            "ada",
            EventInput(
                type="purchase",
                items=["oat-milk latte", "Oat Milk", "Almonds", "Scone"],
                at=DAY + timedelta(days=n),
                operation_id=f"till:{n}",
            ),
            actor="pos",
        )
    written = await store.add_preference(
        "ada", PreferenceInput(label="scone"), actor="t", expect_version=None
    )
    card = msgspec.json.decode(written.card.staff)
    likes = {like["label"]: (like["seen"], like["last_seen"]) for like in card["likes"]}
    assert likes == {"Oat milk": (3, "2026-03-03T12:00:00Z"), "scone": (3, "2026-03-03T12:00:00Z")}
    assert [s["item"] for s in card["suggested_likes"]] == ["oat-milk latte"]
