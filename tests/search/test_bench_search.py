"""The tantivy anchor of scripts/bench_search.py finds what issue 14 says a competent set-up
finds: a name in its own script and transliterated, a nickname, a typo, an email and a phone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from prefstore.models.records import CustomerRecord
from scripts.bench_search import Engine, build_tantivy, parse

PEOPLE = [
    CustomerRecord(id="olga", name="Ольга Смирнова", emails=["olga.smirnova@mail.ru"]),
    CustomerRecord(id="olga2", name="Olga Smith", phones=["+12125550123"]),
    CustomerRecord(id="wang", name="王秀英"),
    CustomerRecord(id="wang2", name="王伟"),
    CustomerRecord(id="william", name="William Whitfield"),
    CustomerRecord(id="margaret", name="Margaret Whitfield", phones=["+14155550199"]),
    CustomerRecord(id="walter", name="Walter Whitman"),
]


@pytest.fixture(scope="module")
def tantivy_engine() -> Iterator[Engine]:
    engine = build_tantivy(PEOPLE, prefix_all_too=True)
    yield engine
    engine.close()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Ольга Смирнова", "olga"),
        ("ольга смирнва", "olga"),
        ("Olga Smirnova", "olga"),
        ("Wang Xiuying", "wang"),
        ("Xiuying Wang", "wang"),
        ("王秀英", "wang"),
        ("bill whitfield", "william"),
        ("peggy whitfield", "margaret"),
        ("wiliam whitfeild", "william"),
        ("whitfield 0199", "margaret"),
        ("555 0123", "olga2"),
        ("olga.smirnova@mail.ru", "olga"),
        ("olga.smirnva@mail.ru", "olga"),
    ],
)
def test_tantivy_finds_first(tantivy_engine: Engine, query: str, expected: str) -> None:
    assert tantivy_engine.search(query)[:1] == [expected]


def test_only_the_prefix_all_variant_does_type_ahead(tantivy_engine: Engine) -> None:
    assert "margaret" not in tantivy_engine.search("marg whitf")
    assert tantivy_engine.variants["tantivy_prefix_all"]("marg whitf")[:1] == ["margaret"]


def test_queries_are_parsed_into_words_digits_and_emails() -> None:
    parsed = parse("O'Brien 555-0123 Jo@Example.com")
    assert parsed.words == ["obrien"]
    assert parsed.numbers == ["5550123"]
    assert parsed.emails == [("jo", "example.com")]
