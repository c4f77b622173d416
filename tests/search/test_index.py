"""The search index on its own: typo classes, phone suffixes, emails, accents, updates."""

from __future__ import annotations

import pytest

from prefstore.customers.cards import mask_email, mask_phone
from prefstore.models.records import CustomerRecord
from prefstore.search.index import SearchIndex
from prefstore.search.query import parse_query

PEOPLE = [
    ("jsmith", "John Smith", "john.smith@example.com", "+14155554471"),
    ("jsmyth", "Jane Smyth", "jane@smyth.org", "+12125550188"),
    ("ada", "Ada Lovelace", "ada@example.com", "+16175550142"),
    ("jose", "José Álvarez", "jose.alvarez@mail.es", "+13125550199"),
    ("muller", "Jürgen Müller", "jm@mail.de", "+12025550111"),
    ("obrien", "Siobhan O'Brien", "siobhan@example.ie", "+15035550123"),
    ("chen", "Wei Chen", "wei.chen@example.com", "+12065550177"),
    ("tjohnson", "Thomas Johnson", "tj@example.com", "+14155551234"),
    ("kjohnston", "Kate Johnston", "kate.j@example.com", "+14155559876"),
    ("mgarcia", "Maria Garcia Lopez", "maria.garcia@example.com", "+17185550155"),
]


@pytest.fixture
def index() -> SearchIndex:
    built = SearchIndex()
    for cid, name, email, phone in PEOPLE:
        built.upsert(CustomerRecord(id=cid, name=name, emails=[email], phones=[phone]))
    # filler so that candidate generation has something to choose from
    for i in range(300):
        built.upsert(CustomerRecord(id=f"f{i}", name=f"Filler{i} Person{i % 17}"))
    return built


def top(index: SearchIndex, q: str) -> str | None:
    hits = index.search(q, 5, "staff")
    return hits[0].id if hits else None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("John Smith", "jsmith"),
        ("JOHN SMITH", "jsmith"),  # case
        ("john smitth", "jsmith"),  # insertion
        ("john smth", "jsmith"),  # deletion
        ("john smoth", "jsmith"),  # substitution
        ("john smtih", "jsmith"),  # transposition
        ("smith john", "jsmith"),  # swapped first/last
        ("lovelace", "ada"),  # missing first name
        ("lovelcae", "ada"),  # missing first name and a transposition
        ("jose alvarez", "jose"),  # accents dropped in the query
        ("Jurgen Mueller", "muller"),  # accents dropped, umlaut spelled out
        ("jürgen müller", "muller"),
        ("siobhan obrien", "obrien"),  # punctuation
        ("ada lovel", "ada"),  # typing in progress
        ("johnsmith", "jsmith"),  # space forgotten
        ("maria lopez", "mgarcia"),  # one of two surnames
        ("j smith", "jsmith"),  # initial
        ("thomas jonhson", "tjohnson"),
    ],
)
def test_typo_classes_find_the_person(index: SearchIndex, query: str, expected: str) -> None:
    assert top(index, query) == expected


def test_exact_name_beats_close_name(index: SearchIndex) -> None:
    assert top(index, "jane smyth") == "jsmyth"
    hits = index.search("smyth", 5, "staff")
    assert hits[0].id == "jsmyth" and hits[0].score > hits[1].score


def test_phone_suffix_and_digits(index: SearchIndex) -> None:
    first, *others = index.search("smith 4471", 5, "staff")
    assert first.id == "jsmith" and first.score >= 95
    assert all(h.score < first.score - 20 for h in others)  # a Smith without 4471, or none
    assert top(index, "4471") == "jsmith"
    assert index.search("4471", 5, "staff")[0].matched == "phone"
    assert top(index, "415-555-4471") == "jsmith"
    assert top(index, "555 1234") == "tjohnson"
    assert index.search("0000", 5, "staff") == []  # no phone ends so
    assert index.search("12", 5, "staff") == []  # too few digits to mean a phone


def test_email_exact_and_typos(index: SearchIndex) -> None:
    for query in (
        "ada@example.com",
        "ada@exmaple.com",
        "ADA@Example.COM",
        "john.smiht@example.com",
    ):
        hits = index.search(query, 5, "staff")
        assert hits and hits[0].matched == "email", query
    assert top(index, "ada@exmaple.com") == "ada"
    assert top(index, "john.smiht@example.com") == "jsmith"
    assert index.search("ada@example.com", 1, "staff")[0].score == 100


def test_no_match_returns_nothing(index: SearchIndex) -> None:
    assert index.search("zzyzx qwrtp", 5, "staff") == []


def test_masked_cues_for_touchpoints(index: SearchIndex) -> None:
    [pos] = index.search("ada lovelace", 1, "touchpoint")
    assert pos.cues.phone == "•••• 0142" and pos.cues.email == "a•••@example.com"
    [staff] = index.search("ada lovelace", 1, "staff")
    assert staff.cues.phone == "+16175550142" and staff.cues.email == "ada@example.com"
    assert mask_phone("+1 (415) 555-4471") == "•••• 4471"
    assert mask_email("someone@example.org") == "s•••@example.org"


def test_rename_and_remove_update_every_key(index: SearchIndex) -> None:
    index.upsert(
        CustomerRecord(id="ada", name="Ada King", emails=["countess@example.org"], phones=[])
    )
    assert top(index, "ada king") == "ada"
    assert "ada" not in [h.id for h in index.search("lovelace", 5, "staff")]
    assert "ada" not in [h.id for h in index.search("0142", 5, "staff")]
    assert top(index, "countess@example.org") == "ada"
    assert index.remove("ada") and not index.remove("ada")
    assert "ada" not in index
    assert index.search("ada king", 5, "staff") == []
    # the freed slot is reused by the next new customer, and nothing of Ada leaks into it
    index.upsert(CustomerRecord(id="new", name="Nora Newcomer"))
    assert top(index, "nora newcomer") == "new"
    assert index.search("countess@example.org", 5, "staff") == []


def test_limit_and_order(index: SearchIndex) -> None:
    hits = index.search("person3", 50, "staff")
    assert len(hits) > 5
    assert len(index.search("person3", 3, "staff")) == 3
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)


def test_parse_query_splits_parts() -> None:
    parsed = parse_query("Smith 555-4471 ada@Example.com")
    assert parsed.words == ["smith"]
    assert parsed.numbers == ["5554471"]
    assert parsed.emails == [("ada", "example.com")]
