"""The card views rendered at write time: what each shows of notes and contact details."""

from __future__ import annotations

import msgspec
import pytest

from prefstore.customers.cards import (
    CONTACT_VIEWS,
    STAFF_NOTE_VIEWS,
    card_fields,
    mask_email,
    mask_phone,
    masked_bytes,
    render,
)
from prefstore.models.records import CustomerRecord, Note
from prefstore.redis.keyspace import (
    CARD_FIELD_CONTACT,
    CARD_FIELD_STAFF,
    CARD_FIELD_TOUCHPOINT,
    CARD_FIELD_VERSION,
)

RECORD = CustomerRecord(
    id="ada",
    version=3,
    name="Ada Lovelace",
    phones=["+14155550123", "+442071838750"],
    emails=["ada@example.com", "countess@example.org"],
    identifiers={"loyalty": "L-77"},
    notes=[Note(id="n1", text="window seat"), Note(id="n2", text="bill", visibility="staff")],
)


def _decoded(body: bytes) -> dict[str, object]:
    decoded: dict[str, object] = msgspec.json.decode(body)
    return decoded


def test_touchpoint_view_masks_every_phone_and_email_and_keeps_the_rest() -> None:
    card = _decoded(render(RECORD, 10).touchpoint)
    assert card["phones"] == ["•••• 0123", "•••• 8750"]
    assert card["emails"] == ["a•••@example.com", "c•••@example.org"]
    assert card["contacts_masked"] is True
    assert card["identifiers"] == {"loyalty": "L-77"} and card["name"] == "Ada Lovelace"
    body = render(RECORD, 10).touchpoint
    assert not any(value.encode() in body for value in RECORD.phones + RECORD.emails)
    assert b"ada@" not in body and b"0123" in body


@pytest.mark.parametrize(
    ("view", "full", "notes"),
    [
        ("touchpoint", False, ["window seat"]),
        ("contact", True, ["window seat"]),
        ("staff", True, ["bill", "window seat"]),
    ],
)
def test_each_view_shows_what_its_callers_may_see(view: str, full: bool, notes: list[str]) -> None:
    card = _decoded(render(RECORD, 10).body(view))  # type: ignore[arg-type]
    assert (card["phones"] == RECORD.phones) is full and (card["emails"] == RECORD.emails) is full
    assert card["contacts_masked"] is not full
    assert [n["text"] for n in card["notes"]] == notes  # type: ignore[attr-defined]
    assert (view in CONTACT_VIEWS) is full and (view in STAFF_NOTE_VIEWS) is (len(notes) == 2)


def test_card_fields_hold_every_view() -> None:
    card = render(RECORD, 10)
    assert card_fields(card) == {
        CARD_FIELD_VERSION: "3",
        CARD_FIELD_TOUCHPOINT: card.touchpoint,
        CARD_FIELD_CONTACT: card.contact,
        CARD_FIELD_STAFF: card.staff,
    }


def test_masking_an_old_contact_view_gives_the_bytes_render_gives() -> None:
    card = render(RECORD, 10)
    assert masked_bytes(card.contact) == card.touchpoint
    old = _decoded(card.contact)
    del old["contacts_masked"]  # cards stored before masking do not have the field
    assert masked_bytes(msgspec.json.encode(old)) == card.touchpoint


def test_masks() -> None:
    assert mask_phone("+1 (415) 555-4471") == "•••• 4471"
    assert mask_email("someone@example.org") == "s•••@example.org"
    assert mask_email("") == "•••@"
