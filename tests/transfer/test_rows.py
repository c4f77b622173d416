"""One row -> a change or a rejection naming the column: spreadsheet cells as Excel writes
them, phones rejected in words (issue 13), NDJSON values given as lists."""

from __future__ import annotations

from typing import Any

import pytest

from prefstore.errors import InvalidInput
from prefstore.transfer.mapping import Mapping
from prefstore.transfer.rows import Incoming, convert


def _row(header: list[str], cells: list[str] | dict[str, Any]) -> Incoming | InvalidInput:
    keys = list(cells) if isinstance(cells, dict) else header
    return convert(2, cells, Mapping.build("prefstore").resolve(keys), "US")


def _ok(header: list[str], cells: list[str] | dict[str, Any]) -> Incoming:
    found = _row(header, cells)
    assert isinstance(found, Incoming), found
    return found


def test_excel_text_formulas_give_their_text() -> None:
    """`="0123"` is how a spreadsheet keeps a leading zero; the text is what is imported."""
    found = _ok(
        ["crm_id", "name", "phone", "Loyalty number", "notes"],
        ['="00123"', "Ann", '="(415) 555-0123"', '="007"', '="He said ""hi"""'],
    )
    assert (found.crm_id, found.phones) == ("00123", ["+14155550123"])
    assert found.identifiers == {"crm": "00123", "loyalty": "007"}
    assert found.notes[0].text == 'He said "hi"'
    # A cell that only looks like a formula start is left alone; an empty formula is empty.
    other = _ok(["crm_id", "name", "tags"], ["=A1", "Bo", '=""'])
    assert (other.crm_id, other.tags) == ("=A1", [])


@pytest.mark.parametrize("phone", ["12", "0", "+1", "1" * 41])
def test_a_bad_phone_says_so_in_words(phone: str) -> None:
    """Too short or too long for a phone: "not a valid phone number", naming the column,
    never msgspec's "Expected `str` of length >= 3"."""
    refused = _row(["crm_id", "name", "Phone"], ["1", "Ann", phone])
    assert isinstance(refused, InvalidInput)
    assert (refused.field, refused.reason) == ("Phone", "not a valid phone number")


def test_phones_that_parse_but_are_invalid_say_so_too() -> None:
    refused = _row(["crm_id", "name", "phone"], ["1", "Ann", "+44 12"])
    assert isinstance(refused, InvalidInput)
    assert refused.reason.startswith("not a valid phone number")


def test_a_short_email_is_not_a_valid_email_address() -> None:
    refused = _row(["crm_id", "name", "email"], ["1", "Ann", "a@"])
    assert isinstance(refused, InvalidInput) and refused.field == "email"
    assert refused.reason.startswith("not a valid email address")


def test_ndjson_values_may_be_lists() -> None:
    found = _ok(
        [],
        {
            "crm_id": "1",
            "name": "Ann",
            "email": ["a@example.com", "b@example.com"],
            "phone": ["415-555-0123", 4155550199],
            "tags": ["VIP", "regular"],
            "Favourite drink": ["Tea"],
            "allergies": ["Peanuts (severe)"],
        },
    )
    assert found.emails == ["a@example.com", "b@example.com"]
    assert found.phones == ["+14155550123", "+14155550199"]
    assert found.tags == ["vip", "regular"]
    assert [p.label for p in found.preferences] == ["Tea"]
    assert [(a.label, a.severity) for a in found.allergies] == [("Peanuts", "severe")]


@pytest.mark.parametrize("value", [True, {"a": 1}, [None], [["nested"]]])
def test_values_that_are_not_text_are_refused_naming_the_column(value: object) -> None:
    refused = _row([], {"crm_id": "1", "name": "Ann", "tags": value})
    assert isinstance(refused, InvalidInput)
    assert (refused.field, refused.reason) == ("tags", "expected a string")
