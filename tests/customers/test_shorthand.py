"""The quick-entry shorthand parser and the pure apply/undo of an entry."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prefstore.customers.quick_entry import apply, effects, revert
from prefstore.customers.shorthand import MAX_ITEMS, MAX_LABEL, MAX_TEXT, Item, parse
from prefstore.errors import InvalidInput
from prefstore.models.records import Allergy, CustomerRecord, Preference

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def kinds(text: str) -> list[tuple[str, str]]:
    return [(i.kind, i.label) for i in parse(text).items]


def test_the_example_line() -> None:
    entry = parse("+popcorn -pretzels !peanuts #vip window seat please")
    assert entry.items == [
        Item(kind="like", label="popcorn"),
        Item(kind="dislike", label="pretzels"),
        Item(kind="allergy", label="peanuts"),
        Item(kind="tag", label="vip"),
    ]
    assert entry.note == "window seat please"
    assert entry.warnings == []


def test_every_marker() -> None:
    assert kinds("!!shellfish ~vegan ~halal") == [
        ("severe", "shellfish"),
        ("dietary", "vegan"),
        ("dietary", "halal"),
    ]


def test_note_words_keep_their_order_around_items() -> None:
    entry = parse("prefers +tea in the morning #regular, quiet table")
    assert entry.note == "prefers in the morning quiet table"
    assert kinds("prefers +tea in the morning #regular, quiet table") == [
        ("like", "tea"),
        ("tag", "regular"),
    ]


@pytest.mark.parametrize("text", ["", "   ", "\t\n  "])
def test_empty_input_is_an_empty_entry(text: str) -> None:
    entry = parse(text)
    assert entry.empty
    assert entry.items == []
    assert entry.note is None


@pytest.mark.parametrize(
    ("text", "warned"),
    [("+", 1), ("+ - ! !! ~ #", 6), ("!!!", 1), ("---", 1), ("+... #?!", 2)],
)
def test_only_symbols_become_note_text_with_a_warning(text: str, warned: int) -> None:
    entry = parse(text)
    assert entry.items == []
    assert entry.note == " ".join(text.split())
    assert len(entry.warnings) == warned


def test_symbols_inside_words_are_plain_text() -> None:
    entry = parse("well-done steak, 5-10 minutes wait is fine!")
    assert entry.items == []
    assert entry.note == "well-done steak, 5-10 minutes wait is fine!"


def test_quotes_hold_several_words_including_smart_quotes() -> None:
    assert kinds('+"oat milk latte" -“blue cheese” !„tree nuts“ #"window seat"') == [
        ("like", "oat milk latte"),
        ("dislike", "blue cheese"),
        ("allergy", "tree nuts"),
        ("tag", "window seat"),
    ]


def test_an_unclosed_quote_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse('+"oat milk')
    assert caught.value.field == "text"
    assert "quote" in caught.value.reason


def test_backslash_keeps_a_marker_as_text() -> None:
    entry = parse(r"\-5 degrees outside, \#1 fan")
    assert entry.items == []
    assert entry.note == "-5 degrees outside, #1 fan"


def test_trailing_punctuation_is_not_part_of_a_label() -> None:
    assert kinds("+popcorn, -pretzels. !peanuts! +chai;") == [
        ("like", "popcorn"),
        ("dislike", "pretzels"),
        ("allergy", "peanuts"),
        ("like", "chai"),
    ]


def test_repeats_merge_and_the_most_severe_marker_wins() -> None:
    assert kinds("+Tea +tea !nuts !!NUTS ~nuts #VIP #vip") == [
        ("like", "Tea"),
        ("severe", "NUTS"),
        ("tag", "vip"),
    ]


def test_liking_and_disliking_one_thing_is_refused() -> None:
    with pytest.raises(InvalidInput, match="both liked"):
        parse("+coffee -Coffee")


def test_unicode_labels_and_notes() -> None:
    decomposed = "+cafe\u0301 !雞蛋 ~halal #stammgäste Grüße aus Köln 👋"
    entry = parse(decomposed)
    assert [(i.kind, i.label) for i in entry.items] == [
        ("like", "café"),
        ("allergy", "雞蛋"),
        ("dietary", "halal"),
        ("tag", "stammgäste"),
    ]
    # Normalised to NFC: the same word typed two ways is one label.
    assert unicodedata.is_normalized("NFC", entry.items[0].label)
    assert entry.note == "Grüße aus Köln 👋"


def test_a_tag_takes_only_tag_characters() -> None:
    with pytest.raises(InvalidInput, match="tag"):
        parse("#vip🎉")


def test_very_long_input_is_refused_with_the_limit() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse("a" * (MAX_TEXT + 1))
    assert str(MAX_TEXT) in caught.value.reason
    assert parse("a " * (MAX_TEXT // 2)).note is not None  # exactly at the limit is fine


def test_a_very_long_label_or_too_many_items_is_refused() -> None:
    with pytest.raises(InvalidInput, match="longer than"):
        parse("+" + "x" * (MAX_LABEL + 1))
    with pytest.raises(InvalidInput, match="longer than"):
        parse("#" + "x" * 41)
    with pytest.raises(InvalidInput, match="items"):
        parse(" ".join(f"+item{i}" for i in range(MAX_ITEMS + 1)))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_any_text_parses_or_is_refused_cleanly(text: str) -> None:
    try:
        entry = parse(text)
    except InvalidInput as exc:
        field = exc.field
        assert field == "text"
        return
    for item in entry.items:
        assert item.label.strip() == item.label
        assert any(ch.isalnum() for ch in item.label)
    assert entry.note is None or entry.note.strip()


# ---------------------------------------------------------------- applying an entry
def customer(**fields: object) -> CustomerRecord:
    return CustomerRecord(id="c1", name="Ada", **fields)  # type: ignore[arg-type]


def test_apply_adds_every_item_and_undo_removes_them() -> None:
    record = customer(tags=["regular"])
    entry = parse("+popcorn -pretzels !peanuts #vip window seat please")
    changed, undo = apply(record, entry, "ana", NOW)
    assert changed == ["allergies", "notes", "preferences", "tags"]
    assert [a.label for a in record.allergies] == ["peanuts"]
    assert record.allergies[0].confirmed_by == "ana"
    assert {(p.label, p.sentiment) for p in record.preferences} == {
        ("popcorn", "likes"),
        ("pretzels", "dislikes"),
    }
    assert record.tags == ["regular", "vip"]
    assert record.notes[0].text == "window seat please"
    assert record.notes[0].author == "ana"

    assert sorted(revert(record, undo)) == ["allergies", "notes", "preferences", "tags"]
    assert record == customer(tags=["regular"])


def test_an_entry_never_weakens_a_known_allergy() -> None:
    severe = Allergy(id="a1", label="Peanuts", severity="severe", confirmed_by="lead")
    record = customer(allergies=[severe])
    entry = parse("!peanuts ~peanuts")
    assert [e.outcome for e in effects(record, entry)] == ["known"]
    changed, undo = apply(record, entry, "ana", NOW)
    assert changed == []
    assert undo.empty
    assert record.allergies == [severe]


def test_an_upgrade_replaces_and_undo_restores_the_original_item() -> None:
    old = Allergy(id="a1", label="peanuts", severity="allergy", confirmed_by="lead")
    liked = Preference(id="p1", label="Pretzels", sentiment="likes", added_by="lead")
    record = customer(allergies=[old], preferences=[liked])
    entry = parse("!!peanuts -pretzels")
    preview = effects(record, entry)
    assert [(e.outcome, e.was) for e in preview] == [
        ("replace", "allergy"),
        ("replace", "likes Pretzels"),
    ]
    _changed, undo = apply(record, entry, "ana", NOW)
    assert [(a.label, a.severity) for a in record.allergies] == [("peanuts", "severe")]
    assert [(p.label, p.sentiment) for p in record.preferences] == [("pretzels", "dislikes")]
    revert(record, undo)
    assert record.allergies == [old]
    assert record.preferences == [liked]


def test_undo_keeps_what_others_wrote_since() -> None:
    record = customer()
    _changed, undo = apply(record, parse("+tea"), "ana", NOW)
    record.preferences.append(Preference(id="p9", label="scones", added_by="ben"))
    record.tags.append("late")
    revert(record, undo)
    assert [p.label for p in record.preferences] == ["scones"]
    assert record.tags == ["late"]


# ---------------------------------------------------------------- comparative likes
@pytest.mark.parametrize(
    ("text", "like"),
    [
        ("+popcorn>pretzels", ("popcorn", "pretzels")),
        ('+"oat milk">"soy milk"', ("oat milk", "soy milk")),
        ("+“oat milk”>soy,", ("oat milk", "soy")),
        ('+popcorn>"salted pretzels".', ("popcorn", "salted pretzels")),
        ("+tea>Tea", ("tea", None)),
        ("+tea>", ("tea", None)),
    ],
)
def test_a_like_may_say_what_it_is_preferred_over(text: str, like: tuple[str, str | None]) -> None:
    (item,) = parse(text).items
    assert (item.kind, item.label, item.over) == ("like", *like)


def test_only_a_like_compares_and_it_needs_something_to_like() -> None:
    entry = parse("+>pretzels")
    assert entry.items == [] and entry.note == "+>pretzels" and entry.warnings
    (dislike,) = parse("-olives>capers").items
    assert (dislike.label, dislike.over) == ("olives>capers", None)


def test_a_comparative_like_is_saved_and_previewed_with_what_it_beats() -> None:
    record = customer(preferences=[Preference(id="p1", label="popcorn", added_by="lead")])
    entry = parse("+popcorn>pretzels")
    (preview,) = effects(record, entry)
    assert (preview.outcome, preview.over, preview.was) == ("replace", "pretzels", "likes popcorn")
    apply(record, entry, "ana", NOW)
    (saved,) = record.preferences
    assert (saved.id, saved.label, saved.over) == ("p1", "popcorn", "pretzels")
