"""The record rules, pure: what an add does to allergies, preferences, notes and tags."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prefstore.customers import rules
from prefstore.errors import NotFound
from prefstore.models.fields import SEVERITY_RANK, Severity
from prefstore.models.inputs import AllergyChange
from prefstore.models.records import Allergy, Note, Preference

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
EARLIER = datetime(2026, 1, 1, tzinfo=UTC)
SEVERITIES: list[Severity] = ["dietary", "intolerance", "allergy", "severe"]
"""Weakest first, as the `Severity` docstring lists them."""


def allergy(label: str, severity: Severity, **fields: object) -> Allergy:
    fields.setdefault("id", f"id-{label.casefold()}")
    return Allergy(label=label, severity=severity, **fields)  # type: ignore[arg-type]


def severe_peanuts() -> Allergy:
    return allergy("Peanuts", "severe", note="EpiPen", confirmed_by="lead", confirmed_at=EARLIER)


# ---------------------------------------------------------------- severity order
def test_severity_rank_puts_the_most_serious_first() -> None:
    assert sorted(SEVERITIES, key=SEVERITY_RANK.__getitem__) == list(reversed(SEVERITIES))


def test_stronger_is_the_more_serious_of_any_two() -> None:
    for i, a in enumerate(SEVERITIES):
        for j, b in enumerate(SEVERITIES):
            assert rules.stronger(a, b) == SEVERITIES[max(i, j)], (a, b)


# ---------------------------------------------------------------- adding an allergy
def test_a_new_allergy_is_added() -> None:
    known = [severe_peanuts()]
    sesame = allergy("Sesame", "allergy", id="new")
    placed = rules.put_allergy(known, sesame)
    assert placed.outcome == "added" and placed.before is None
    assert placed.items == [severe_peanuts(), sesame]
    assert known == [severe_peanuts()], "the given list is never modified"


@pytest.mark.parametrize("weaker", ["allergy", "intolerance", "dietary"])
def test_a_weaker_add_of_a_known_allergy_changes_nothing(weaker: Severity) -> None:
    known = [severe_peanuts()]
    placed = rules.put_allergy(known, allergy("PEANUTS", weaker, id="new", confirmed_by="ana"))
    assert placed.outcome == "unchanged"
    assert placed.items is known
    assert placed.item is known[0]


def test_a_stronger_add_upgrades_in_place_and_keeps_the_id_and_note() -> None:
    old = allergy("peanuts", "allergy", note="hives", confirmed_by="lead", confirmed_at=EARLIER)
    other = allergy("Sesame", "dietary")
    given = allergy("Peanuts", "severe", id="new", confirmed_by="ana", confirmed_at=NOW)
    placed = rules.put_allergy([old, other], given)
    assert placed.outcome == "updated" and placed.before is old
    upgraded = placed.items[0]
    assert placed.items == [upgraded, other], "the allergy keeps its place"
    assert (upgraded.id, upgraded.label, upgraded.severity) == (old.id, "Peanuts", "severe")
    assert upgraded.note == "hives", "no note given: the old note stays"
    assert (upgraded.confirmed_by, upgraded.confirmed_at) == ("ana", NOW)


def test_a_weaker_add_with_a_note_keeps_the_severity_and_takes_the_note() -> None:
    given = allergy("peanuts", "allergy", id="new", note="carries two pens", confirmed_by="ana")
    placed = rules.put_allergy([severe_peanuts()], given)
    assert placed.outcome == "updated"
    assert (placed.item.severity, placed.item.note) == ("severe", "carries two pens")
    assert placed.item.id == severe_peanuts().id


def test_the_same_allergy_again_is_unchanged() -> None:
    placed = rules.put_allergy([severe_peanuts()], allergy("peanuts", "severe", note="EpiPen"))
    assert placed.outcome == "unchanged"


@given(
    old=st.sampled_from(SEVERITIES),
    new=st.sampled_from(SEVERITIES),
    note=st.none() | st.just("a note"),
)
def test_an_add_never_weakens_a_known_allergy(
    old: Severity, new: Severity, note: str | None
) -> None:
    known = allergy("Peanuts", old, note="old note")
    placed = rules.put_allergy([known], allergy("peanuts", new, id="x", note=note))
    [after] = placed.items
    assert SEVERITY_RANK[after.severity] == min(SEVERITY_RANK[old], SEVERITY_RANK[new])
    assert after.id == known.id
    assert after.note == (note or "old note")


# ---------------------------------------------------------------- the explicit change
def test_an_explicit_change_may_lower_the_severity() -> None:
    placed = rules.change_allergy(
        [severe_peanuts()], "id-peanuts", AllergyChange(severity="intolerance"), "dr-lee", NOW
    )
    assert placed.outcome == "updated"
    assert placed.before == severe_peanuts()
    assert placed.item.severity == "intolerance"
    assert placed.item.note == "EpiPen", "a change without a note keeps the note"
    assert (placed.item.confirmed_by, placed.item.confirmed_at) == ("dr-lee", NOW)


def test_an_explicit_change_can_replace_or_clear_the_note() -> None:
    known = [severe_peanuts()]
    noted = rules.change_allergy(known, "id-peanuts", AllergyChange(note="two pens"), "a", NOW)
    assert (noted.item.severity, noted.item.note) == ("severe", "two pens")
    cleared = rules.change_allergy(known, "id-peanuts", AllergyChange(note=" "), "a", NOW)
    assert cleared.item.note is None


def test_an_explicit_change_to_what_is_there_is_unchanged() -> None:
    placed = rules.change_allergy(
        [severe_peanuts()], "id-peanuts", AllergyChange(severity="severe"), "a", NOW
    )
    assert placed.outcome == "unchanged"


def test_an_explicit_change_needs_a_known_id_and_something_to_change() -> None:
    with pytest.raises(NotFound):
        rules.change_allergy(
            [severe_peanuts()], "nope", AllergyChange(severity="allergy"), "a", NOW
        )
    with pytest.raises(ValueError, match="severity"):
        AllergyChange()


# ---------------------------------------------------------------- a restore keeps what is known
def test_a_restore_keeps_known_allergies_and_their_strength() -> None:
    known = [severe_peanuts(), allergy("Sesame", "allergy")]
    restored = [allergy("peanuts", "allergy", id="old"), allergy("Vegan", "dietary")]
    kept = rules.keep_known_allergies(restored, known)
    assert [(a.label, a.severity) for a in kept] == [
        ("Peanuts", "severe"),
        ("Vegan", "dietary"),
        ("Sesame", "allergy"),
    ]
    assert rules.keep_known_allergies(kept, known) == kept


# ---------------------------------------------------------------- preferences
def pref(label: str, sentiment: str = "likes", **fields: object) -> Preference:
    fields.setdefault("id", f"p-{label.casefold()}")
    return Preference(label=label, sentiment=sentiment, **fields)  # type: ignore[arg-type]


def test_a_new_opinion_replaces_the_old_one_of_that_label() -> None:
    old = pref("Pretzels", category="food", strength=4, note="salted")
    placed = rules.put_preference([old], pref("pretzels", "dislikes", id="new", added_by="ana"))
    assert placed.outcome == "updated"
    assert placed.items == [pref("pretzels", "dislikes", id=old.id, added_by="ana")]


def test_the_same_opinion_updates_only_the_details_it_states() -> None:
    old = pref("Tea", category="beverage", strength=3, note="green", added_by="lead")
    assert rules.put_preference([old], pref("tea", id="new")).outcome == "unchanged"
    placed = rules.put_preference([old], pref("tea", id="new", strength=5, added_by="ana"))
    assert placed.outcome == "updated"
    assert placed.item == pref(
        "tea", id=old.id, category="beverage", strength=5, note="green", added_by="ana"
    )


def test_a_new_label_is_appended() -> None:
    placed = rules.put_preference([pref("Tea")], pref("Scones"))
    assert [p.label for p in placed.items] == ["Tea", "Scones"]
    assert placed.outcome == "added"


# ---------------------------------------------------------------- notes and tags
def note(text: str, note_id: str) -> Note:
    return Note(id=note_id, text=text)


def test_desk_notes_append_and_import_notes_are_added_once_per_text() -> None:
    notes = [note("Window seat, always", "n1")]
    appended = rules.append_note(notes, note("Window seat, always", "n2"))
    assert [n.id for n in appended.items] == ["n1", "n2"]
    again = rules.add_note_once(notes, note("window  seat, ALWAYS", "n3"))
    assert again.outcome == "unchanged" and again.items is notes
    fresh = rules.add_note_once(notes, note("Quiet table", "n4"))
    assert [n.id for n in fresh.items] == ["n1", "n4"]


def test_tags_are_added_once_in_order() -> None:
    assert rules.add_tags(["vip", "regular"], ["late", "vip", "late"]) == [
        "vip",
        "regular",
        "late",
    ]
