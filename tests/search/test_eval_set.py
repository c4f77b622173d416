"""The evaluation set's own guarantees (scripts/gen_eval_set.py, scripts/eval_names.py): the
original set stays what it was, the extended set is reproducible and labels every query with
its target, and the independent romanizations spell as people do."""

from __future__ import annotations

import hashlib
import random

import msgspec
import pytest

from scripts.eval_names import (
    ROMANIZATIONS,
    HanHomophones,
    Person,
    greek_popular,
    hindi_hunterian,
    russian_icao,
    russian_popular,
)
from scripts.gen_eval_set import EXTENDED_KINDS, EvalSet, fold, make_eval_set

# The content (not the encoding: records gain fields) of the original set at seed 7, as the
# generator drew it before the extended set existed.
ORIGINAL_SEED_7 = "052b0e9c4cfb5b4c7886edcd5ca7c254db26344b71d78d8281eaa2f4badfec38"


def _content(data: EvalSet) -> str:
    people = [
        (c.id, c.name, c.emails, c.phones, c.tags, c.city, c.history.visits,
         str(c.history.last_visit), [(a.label, a.severity) for a in c.allergies],
         [(p.label, p.sentiment) for p in c.preferences])
        for c in data.customers
    ]  # fmt: skip
    asked = [(q.text, q.kind, q.target, q.relevant) for q in data.queries]
    return hashlib.sha256(msgspec.json.encode([people, asked])).hexdigest()


def test_the_original_set_is_unchanged() -> None:
    assert _content(make_eval_set(300, 170, 0, 7)) == ORIGINAL_SEED_7


@pytest.fixture(scope="module")
def extended() -> EvalSet:
    return make_eval_set(1500, len(EXTENDED_KINDS) * 12, 0, 7, extended=True)


def test_the_extended_set_is_reproducible(extended: EvalSet) -> None:
    again = make_eval_set(1500, len(EXTENDED_KINDS) * 12, 0, 7, extended=True)
    assert _content(again) == _content(extended)
    assert [q.note for q in again.queries] == [q.note for q in extended.queries]


def test_every_query_of_the_extended_set_counts_its_target(extended: EvalSet) -> None:
    kinds = {q.kind for q in extended.queries}
    assert kinds == set(EXTENDED_KINDS)
    for q in extended.queries:
        assert q.target in q.relevant, q


def test_the_script_classes_are_in_their_scripts(extended: EvalSet) -> None:
    names = {c.id: c.name for c in extended.customers}
    for q in extended.queries:
        if q.kind == "native":
            assert not q.text.isascii()
            assert fold(q.text) == fold(names[q.target])
        elif q.kind == "native_typo":
            assert not q.text.isascii()
            assert fold(q.text) != fold(names[q.target]), q
        elif q.kind.startswith("translit"):
            assert q.text.isascii() and not names[q.target].isascii(), q
            assert q.note.split()[1] in ROMANIZATIONS[q.note.split()[0]]


def test_some_transliterations_are_not_anyascii(extended: EvalSet) -> None:
    conventions = {q.note.split()[1] for q in extended.queries if q.kind.startswith("translit")}
    assert conventions - {"anyascii"}, conventions


def test_romanizations_spell_as_people_do() -> None:
    assert russian_popular("Ольга Смирнова") == "Olga Smirnova"
    assert russian_popular("Дмитрий Юлия") == "Dmitry Yuliya"
    assert russian_icao("Дмитрий Юлия") == "Dmitrii Iuliia"
    assert greek_popular("Ευάγγελος Μπακογιάννης") == "Evangelos Bakogiannis"
    assert hindi_hunterian("आदित्य शर्मा") == "Aditya Sharma"
    assert hindi_hunterian("राहुल कुमार") == "Rahul Kumar"
    hepburn = ROMANIZATIONS["ja_JP"]["hepburn_western"]
    assert hepburn(Person("ja_JP", "晃", "佐藤", ("Akira", "Sato"))) == "Akira Sato"
    assert ROMANIZATIONS["zh_CN"]["pinyin"](Person("zh_CN", "秀英", "王")) == "Wang Xiuying"
    assert ROMANIZATIONS["he_IL"]["popular"](Person("he_IL", "דוד", "כהן")) == "David Cohen"


def test_a_han_typo_is_a_same_sounding_character() -> None:
    homophones = HanHomophones(["王秀英", "汪伟"])
    assert homophones.alternatives["王"] == ["汪"]
    assert homophones.typo(random.Random(1), "王秀英") == "汪秀英"
