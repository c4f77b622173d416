"""Venues in the domain: the venue a request acts at, what a venue's summary keeps (and its
bounds), venue-only notes, and "here"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from prefstore.customers import rules
from prefstore.customers.venues import acting_venue, check_venue, here, visible_at
from prefstore.errors import Forbidden, InvalidInput
from prefstore.models.inputs import EventInput, NoteInput
from prefstore.models.records import CustomerRecord, History

T0 = datetime(2031, 1, 1, 12, tzinfo=UTC)


def _event(venue: str | None, day: int, items: list[str], kind: str = "visit") -> EventInput:
    return EventInput(type=kind, at=T0 + timedelta(days=day), items=items, venue=venue)  # type: ignore[arg-type]


def _counted(*events: EventInput) -> History:
    history = History()
    for i, given in enumerate(events):
        rules.count_event(history, rules.event_from(given, f"op{i}", "pos", T0))
    return history


def test_the_venue_acted_at_is_the_keys_unless_a_key_of_none_names_one() -> None:
    known = ("soho", "camden")
    assert acting_venue("soho", None, known) == "soho"
    assert acting_venue("soho", "soho", known) == "soho"
    assert acting_venue(None, "camden", known) == "camden"
    assert acting_venue(None, None, known) is None
    with pytest.raises(Forbidden) as refused:
        acting_venue("soho", "camden", known)
    assert refused.value.field == "venue"
    with pytest.raises(InvalidInput, match="soho, camden"):
        acting_venue(None, "brixton", known)
    assert check_venue("brixton", ()) == "brixton"  # no venues listed: any well-formed name
    for bad in ("Soho", "", "so ho", "-soho", "x" * 41):
        with pytest.raises(InvalidInput):
            check_venue(bad, ())


def test_events_count_into_their_venues_summary_and_the_whole_history() -> None:
    history = _counted(
        _event("soho", 1, ["Flat White", "croissant"]),
        _event("soho", 3, ["flat white"], "purchase"),
        _event("camden", 2, ["tea"]),
        _event(None, 4, ["tea"]),
    )
    assert (history.visits, history.purchases) == (3, 1)
    soho = history.venues["soho"]
    assert (soho.visits, soho.purchases, soho.events) == (1, 1, 2)
    assert (soho.last_visit, soho.last_event) == (T0 + timedelta(days=1), T0 + timedelta(days=3))
    assert soho.item_counts == {"flat white": 2, "croissant": 1}
    assert set(history.venues) == {"soho", "camden"}
    copy = rules.history_copy(history)
    rules.count_event(copy, rules.event_from(_event("soho", 5, ["tea"]), "op9", "pos", T0))
    assert history.venues["soho"].events == 2 and "tea" not in history.venues["soho"].item_counts


def test_a_venue_summary_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefstore.customers.rules import history as module

    monkeypatch.setattr(module, "MAX_VENUES", 2)
    monkeypatch.setattr(module, "MAX_VENUE_ITEMS", 3)
    history = _counted(
        _event("a", 1, ["w", "x", "x"]),
        _event("b", 2, ["y", "z", "z", "v"]),
        _event("c", 3, []),
    )
    assert set(history.venues) == {"b", "c"}  # the venue seen longest ago went
    assert history.venues["b"].item_counts["z"] == 2 and len(history.venues["b"].item_counts) == 3


def test_venue_only_notes_are_their_venues_alone() -> None:
    record = CustomerRecord(id="ada", name="Ada")
    for text, venue, only, visibility in (
        ("window seat", "soho", False, "all"),
        ("own wine in the cellar", "soho", True, "all"),
        ("tab disputed", "soho", True, "staff"),
        ("knows the chef", "camden", True, "all"),
    ):
        given = NoteInput(text=text, venue=venue, venue_only=only, visibility=visibility)  # type: ignore[arg-type]
        record.notes.append(rules.note_from(given, "Maya", T0))
    with pytest.raises(ValueError, match="venue"):  # else it would show nowhere
        NoteInput(text="x", venue_only=True)
    at_soho = here(record, "soho", staff=False, notes_limit=10)
    assert [n.text for n in at_soho.notes] == ["own wine in the cellar"]
    staff = here(record, "soho", staff=True, notes_limit=10)
    assert [n.text for n in staff.notes] == ["tab disputed", "own wine in the cellar"]
    assert [n.text for n in here(record, "camden", staff=True, notes_limit=10).notes] == [
        "knows the chef"
    ]
    assert here(record, "brixton", staff=True, notes_limit=10).visits == 0
    seen = [n.text for n in visible_at(record, "camden").notes]
    assert seen == ["window seat", "knows the chef"]
    assert [n.text for n in visible_at(record, None).notes] == ["window seat"]
