"""Follow-ups: the rules (added open, resolved once, imported once, bounded), how cards show
them (open ones, after allergies, staff-only ones to staff), the shorthand `^` and its undo,
and records written before follow-ups existed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import msgspec
import pytest

from prefstore.customers import rules
from prefstore.customers.cards import render
from prefstore.customers.followups import open_now, visible
from prefstore.customers.quick_entry import apply, effects, revert
from prefstore.customers.shorthand import parse
from prefstore.customers.store import CustomerStore
from prefstore.errors import InvalidInput, NotFound
from prefstore.models.inputs import CustomerCreate, FollowUpInput, FollowUpResolve
from prefstore.models.records import CustomerRecord, FollowUp, Resolution
from prefstore.redis.keyspace import decode_record

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def follow_up(text: str, **fields: object) -> FollowUp:
    given = FollowUpInput(text=text, **fields)  # type: ignore[arg-type]
    return rules.follow_up_from(given, "maya", NOW)


def resolution(by: str = "leo", note: str | None = None) -> Resolution:
    return Resolution(by=by, at=NOW, note=note)


def test_a_follow_up_is_added_open_and_resolved_once() -> None:
    first = follow_up("Comp the dessert we owe her")
    placed = rules.add_follow_up([], first, NOW)
    assert placed.outcome == "added" and rules.is_open(first, NOW)
    done = rules.resolve_follow_up(placed.items, first.id, resolution(note=" comped "))
    assert done.outcome == "updated" and done.item.resolved == Resolution(
        by="leo", at=NOW, note="comped"
    )
    assert not rules.is_open(done.item, NOW) and placed.items[0].resolved is None
    again = rules.resolve_follow_up(done.items, first.id, resolution(by="ana"))
    assert again.outcome == "unchanged" and again.item.resolved.by == "leo"  # type: ignore[union-attr]
    with pytest.raises(NotFound):
        rules.resolve_follow_up(done.items, "nope", resolution())


def test_an_expired_follow_up_is_closed_and_a_past_expiry_is_kept_closed() -> None:
    soon = follow_up("Birthday cake", expires_at=NOW + timedelta(hours=1))
    assert rules.is_open(soon, NOW) and not rules.is_open(soon, NOW + timedelta(hours=2))
    late = follow_up("too late", expires_at=NOW - timedelta(seconds=1))
    assert not rules.is_open(late, NOW)
    naive = follow_up("naive", expires_at=datetime(2026, 3, 2))
    assert naive.expires_at == datetime(2026, 3, 2, tzinfo=UTC)


def test_an_import_adds_a_follow_up_once_per_text_open_or_closed() -> None:
    first = follow_up("Ask about the  Knee")
    items = rules.add_follow_up([], first, NOW).items
    items = rules.resolve_follow_up(items, first.id, resolution()).items
    again = rules.add_follow_up(items, follow_up("ask about the knee"), NOW, once=True)
    assert again.outcome == "unchanged" and len(again.items) == 1
    assert len(rules.add_follow_up(items, follow_up("ask about the knee"), NOW).items) == 2


def test_open_follow_ups_are_bounded_and_the_oldest_closed_ones_are_dropped() -> None:
    items: list[FollowUp] = []
    for i in range(rules.MAX_OPEN_FOLLOW_UPS):
        items = rules.add_follow_up(items, follow_up(f"open {i}"), NOW).items
    with pytest.raises(InvalidInput) as full:
        rules.add_follow_up(items, follow_up("one more"), NOW)
    assert full.value.field == "follow_ups"
    closed = [
        msgspec.structs.replace(follow_up(f"done {i}"), resolved=resolution())
        for i in range(rules.MAX_CLOSED_FOLLOW_UPS + 3)
    ]
    kept = rules.add_follow_up(closed, follow_up("new"), NOW).items
    assert len(kept) == rules.MAX_CLOSED_FOLLOW_UPS + 1
    assert kept[0].text == "done 3" and kept[-1].text == "new"


def test_cards_show_open_follow_ups_after_allergies_due_first_staff_ones_to_staff() -> None:
    later = follow_up("later", due=date(2026, 4, 1))
    sooner = follow_up("sooner", due=date(2026, 3, 5))
    undated = follow_up("undated")
    private = follow_up("private", visibility="staff")
    gone = msgspec.structs.replace(follow_up("resolved"), resolved=resolution())
    expiring = follow_up("expiring", expires_at=NOW + timedelta(minutes=5))
    record = CustomerRecord(
        id="ada", name="Ada", follow_ups=[undated, later, private, gone, expiring, sooner]
    )
    card = render(record, 10, NOW)
    for view in ("touchpoint", "contact"):
        shown = msgspec.json.decode(card.body(view))
        assert [f["text"] for f in shown["follow_ups"]] == [
            "sooner",
            "later",
            "undated",
            "expiring",
        ]
        assert list(shown).index("follow_ups") == list(shown).index("allergies") + 1
    staff = msgspec.json.decode(card.staff)
    assert [f["text"] for f in staff["follow_ups"]] == [
        "sooner",
        "later",
        "undated",
        "private",
        "expiring",
    ]
    after = msgspec.json.decode(render(record, 10, NOW + timedelta(hours=1)).staff)
    assert "expiring" not in [f["text"] for f in after["follow_ups"]]
    assert [f.text for f in open_now(record, NOW)] == [
        "undated",
        "later",
        "private",
        "expiring",
        "sooner",
    ]
    assert [f.text for f in visible(record.follow_ups, staff=False)] == [
        "undated",
        "later",
        "resolved",
        "expiring",
        "sooner",
    ]


def test_the_shorthand_adds_a_follow_up_and_undo_takes_it_back_unless_resolved() -> None:
    entry = parse("+popcorn window seat ^comp the dessert, we owe her")
    assert entry.follow_ups == ["comp the dessert, we owe her"]
    assert entry.note == "window seat"
    record = CustomerRecord(id="ada", name="Ada")
    assert [(e.kind, e.label, e.outcome) for e in effects(record, entry)] == [
        ("like", "popcorn", "add"),
        ("follow_up", "comp the dessert, we owe her", "add"),
    ]
    changed, undo = apply(record, entry, "maya", NOW)
    assert "follow_ups" in changed and record.follow_ups[0].created_by == "maya"
    assert undo.follow_up_ids == [record.follow_ups[0].id] and not undo.empty
    kept = msgspec.structs.replace(
        record,
        follow_ups=[msgspec.structs.replace(record.follow_ups[0], resolved=resolution())],
    )
    assert "follow_ups" not in revert(kept, undo) and len(kept.follow_ups) == 1
    assert "follow_ups" in revert(record, undo) and record.follow_ups == []


@pytest.mark.parametrize(
    ("text", "follow_ups", "note"),
    [
        ('^"ask about the knee" quiet table', ["ask about the knee"], "quiet table"),
        ("^“call back” ^“send menu”", ["call back", "send menu"], None),
        ("^ comp dessert", ["comp dessert"], None),
        ("quiet ^", [], "quiet ^"),
        ("\\^not a follow-up", [], "^not a follow-up"),
        ("5^2 is 25", [], "5^2 is 25"),
    ],
)
def test_follow_up_syntax(text: str, follow_ups: list[str], note: str | None) -> None:
    entry = parse(text)
    assert (entry.follow_ups, entry.note) == (follow_ups, note)


def test_a_follow_up_too_long_or_unclosed_is_refused() -> None:
    for text in ("^" + "x" * 501, '^"never closed'):
        with pytest.raises(InvalidInput):
            parse(text)


def test_a_record_stored_before_follow_ups_and_consent_still_decodes() -> None:
    # The shape 0.x wrote: no follow_ups, consent, preference `over`, or item last-seen times.
    old = msgspec.msgpack.encode(
        {
            "id": "ada",
            "name": "Ada",
            "version": 4,
            "preferences": [{"id": "p1", "label": "Oat milk", "sentiment": "likes"}],
            "history": {"purchases": 2, "item_counts": {"oat milk": 2}},
        }
    )
    record = decode_record(old)
    assert record.follow_ups == [] and record.consent.email.status == "unknown"
    assert record.preferences[0].over is None and record.history.item_last_seen == {}
    card = msgspec.json.decode(render(record, 10, NOW).staff)
    assert card["likes"][0]["seen"] == 2 and card["likes"][0]["last_seen"] is None


async def test_the_store_adds_and_resolves_with_the_callers_names(store: CustomerStore) -> None:
    await store.create(CustomerCreate(id="ada", name="Ada"), actor="t")
    added = await store.add_follow_up(
        "ada", FollowUpInput(text="Comp the dessert"), actor="maya", expect_version=None
    )
    (fid,) = [f.id for f in (await store.get_record("ada")).follow_ups]
    assert added.changed and added.card.version == 2
    done = await store.resolve_follow_up(
        "ada", fid, FollowUpResolve(note="done"), actor="leo", expect_version=2
    )
    again = await store.resolve_follow_up(
        "ada", fid, FollowUpResolve(), actor="ana", expect_version=None
    )
    assert done.changed and not again.changed and again.card.version == 3
    (kept,) = (await store.get_record("ada")).follow_ups
    assert (kept.created_by, kept.resolved.by, kept.resolved.note) == ("maya", "leo", "done")  # type: ignore[union-attr]
    with pytest.raises(NotFound):
        await store.resolve_follow_up(
            "ada", "nope", FollowUpResolve(), actor="leo", expect_version=None
        )
