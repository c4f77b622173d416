"""Recall over one customer's record."""

from __future__ import annotations

from prefstore.models.records import Allergy, CustomerRecord, History, Note, Preference
from prefstore.search.recall import recall

RECORD = CustomerRecord(
    id="r",
    allergies=[Allergy(id="a1", label="Tree nuts", severity="severe", note="carries an EpiPen")],
    preferences=[
        Preference(id="p1", label="Oat milk"),
        Preference(id="p2", label="Window seat", category="seating", note="away from the door"),
        Preference(id="p3", label="Coriander", sentiment="dislikes"),
    ],
    notes=[
        Note(id="n1", text="Celebrating an anniversary in June", visibility="all"),
        Note(id="n2", text="Complained about the chai temperature", visibility="staff"),
    ],
    history=History(item_counts={"chai latte": 6, "almond croissant": 2, "espresso": 1}),
)


def test_chai_finds_the_item_they_order_most() -> None:
    hits = recall(RECORD, "chai", "touchpoint")
    assert (hits[0].kind, hits[0].text, hits[0].count, hits[0].score) == (
        "item",
        "chai latte",
        6,
        100,
    )
    assert all(h.kind != "note" for h in hits)  # the staff-only note stays hidden
    staff = recall(RECORD, "chai", "staff")
    assert {h.id for h in staff if h.kind == "note"} == {"n2"}


def test_compound_spacing_plurals_and_typos() -> None:
    assert recall(RECORD, "oatmilk", "touchpoint")[0].text == "Oat milk"
    assert recall(RECORD, "almond croissants", "touchpoint")[0].text == "almond croissant"
    assert recall(RECORD, "expresso", "touchpoint")[0].text == "espresso"
    nuts = recall(RECORD, "NUTS", "touchpoint")[0]
    assert (nuts.kind, nuts.field, nuts.severity) == ("allergy", "allergies.label", "severe")


def test_fields_and_sentiment_are_reported() -> None:
    [door] = recall(RECORD, "door", "touchpoint")
    assert (door.field, door.id) == ("preferences.note", "p2")
    [coriander] = recall(RECORD, "coriander", "touchpoint")
    assert coriander.sentiment == "dislikes"
    assert recall(RECORD, "epipen", "touchpoint")[0].field == "allergies.note"


def test_unrelated_query_finds_nothing() -> None:
    assert recall(RECORD, "motorbike", "staff") == []
    assert recall(RECORD, "--", "staff") == []
