"""Name folding in every script, transliteration, CJK words and the nickname table."""

from __future__ import annotations

from pathlib import Path

import pytest

from prefstore.customers.names import (
    Nicknames,
    default_nicknames,
    fold,
    is_initial,
    joined_readings,
    latin,
    name_words,
)


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Crème-Brûlée", "creme brulee"),
        ("Jürgen MÜLLER", "jurgen muller"),
        ("Straße", "strasse"),
        ("İzmir", "izmir"),
        ("Ольга Смирнова", "ольга смирнова"),
        ("Дмитрий Ёлкин", "дмитрий елкин"),  # the diaeresis goes, the breve stays (a letter)
        ("Γιώργος", "γιωργοσ"),  # accents and final sigma folded
        ("مُحَمَّد", "محمد"),  # Arabic vowel points are optional: folded away
        ("דָּוִד", "דוד"),  # so are Hebrew points
        ("राहुल शर्मा", "राहुल शर्मा"),  # Devanagari vowel signs are part of the letters
        ("สมชาย", "สมชาย"),  # so are Thai ones
        ("ガンダム", "ガンダム"),  # and Japanese voicing marks
        ("王小明", "王小明"),
        ("ＡＢＣ１２３", "abc123"),  # noqa: RUF001 (full-width forms, NFKC)
        ("арахис!", "арахис"),
        ("+()-", ""),
    ],
)
def test_fold_keeps_every_script(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_name_words_split_characters_and_keep_runs() -> None:
    assert name_words("王小明") == ("王", "小", "明")
    assert name_words("山田 さくら") == ("山", "田", "さくら")
    assert name_words("김민준") == ("김", "민", "준")
    # An apostrophe inside a name joins it (a transliterated soft sign too).
    assert name_words("Siobhán O'Brien") == ("siobhan", "obrien")
    assert name_words("Ol'ga Smirnova") == ("olga", "smirnova")


def test_latin_forms() -> None:
    assert [latin(w) for w in name_words("Ольга Смирнова")] == ["olga", "smirnova"]
    assert latin("王") == "wang" and latin("smith") == "smith"
    assert joined_readings("王小明") == ["xiaoming"]
    assert joined_readings("Olga") == []
    assert is_initial("j") and not is_initial("王") and not is_initial("jo")


def test_nicknames_both_ways_sorted() -> None:
    table = default_nicknames()
    assert "margaret" in table.related("peggy")
    assert "peggy" in table.related("margaret")
    assert table.same_person("bill", "william") and table.same_person("william", "bill")
    assert not table.same_person("bill", "margaret")
    related = table.related("william")
    assert list(related) == sorted(related)


def test_deployment_list_adds_nicknames(tmp_path: Path) -> None:
    extra = tmp_path / "nicknames.csv"
    extra.write_text("# ours\nAlexandra,Sasha\nКонстантин,Костя\n", encoding="utf-8")  # noqa: RUF001
    table = Nicknames.load(extra)
    assert table.same_person("sasha", "alexandra")
    assert table.same_person("костя", "константин")
    assert table.same_person("peggy", "margaret")  # the package's table is still there
    assert not default_nicknames().same_person("sasha", "alexandra")
