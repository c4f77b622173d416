"""Applying one parsed shorthand entry to a customer record, and undoing it (pure).

An entry lands in one store transaction (`CustomerStore.update`), so its items are saved
together or not at all. What it changed is kept as an `Undo`: the ids it added and the
exact items it replaced, so undo restores the record as it was, authors and times included.

What an item does is decided by the record rules (`customers/rules/`), as for every
other write: `!peanuts` on a customer with a severe peanut allergy changes nothing;
`!!peanuts` on a plain peanut allergy upgrades it. A follow-up (`^…`) is added open, written
by the staff member; undo takes it back unless someone has resolved it since.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

import msgspec

from prefstore.customers import rules
from prefstore.customers.rules import ItemT
from prefstore.customers.shorthand import Entry, Item
from prefstore.models.fields import Sentiment, Severity
from prefstore.models.inputs import AllergyInput, FollowUpInput, NoteInput, PreferenceInput
from prefstore.models.records import Allergy, CustomerRecord, Preference

Outcome = Literal["add", "replace", "known"]
_SEVERITY: dict[str, Severity] = {"severe": "severe", "allergy": "allergy", "dietary": "dietary"}
_OUTCOME: dict[rules.Outcome, Outcome] = {
    "added": "add",
    "updated": "replace",
    "unchanged": "known",
}
_PREVIEW_TIME = datetime.fromtimestamp(0, UTC)
"""The preview builds items only to ask the rules what they would do; their stamps are
thrown away."""


class Effect(msgspec.Struct, kw_only=True):
    """What one item will do (preview) or did (after saving) to this customer's record."""

    kind: str
    label: str
    outcome: Outcome
    was: str | None = None
    """For `replace`: what it replaces, e.g. 'likes pretzels' or 'allergy'; for a known
    allergy, its severity."""
    over: str | None = None
    """For a comparative like (`+popcorn>pretzels`): what it is preferred over."""


class Undo(msgspec.Struct, kw_only=True):
    """How to take one entry back, and which change it takes back: the entry's id, and the
    record it was made on (its creation time: a re-created id is another record) at which
    version. Kept in the customer's own keys (`customers/desk.py`), never in a session."""

    customer_id: str
    entry_id: str = ""
    version: int = 0
    """The record's version the entry produced."""
    record_created_at: datetime | None = None
    allergy_ids: list[str] = []
    preference_ids: list[str] = []
    note_ids: list[str] = []
    tags: list[str] = []
    replaced_allergies: list[Allergy] = []
    replaced_preferences: list[Preference] = []
    follow_up_ids: list[str] = []

    @property
    def empty(self) -> bool:
        return not (
            self.allergy_ids
            or self.preference_ids
            or self.note_ids
            or self.tags
            or self.follow_up_ids
        )

    def undoes_on(self, record: CustomerRecord) -> bool:
        """Whether `record` is the one this entry changed (same creation, at or after the
        entry's version): not a record re-created under the same id after an erasure."""
        return record.created_at == self.record_created_at and record.version >= self.version


def effects(record: CustomerRecord, entry: Entry) -> list[Effect]:
    """What saving `entry` would do to `record` (the preview), item by item."""
    # The rules return new lists, so a shallow copy keeps `record` as it is.
    trial = msgspec.structs.replace(record)
    scratch = Undo(customer_id=record.id)
    placed = [_place(trial, item, "", _PREVIEW_TIME, scratch) for item in entry.items]
    return placed + [
        Effect(kind="follow_up", label=text, outcome="add") for text in entry.follow_ups
    ]


def apply(
    record: CustomerRecord, entry: Entry, actor: str, now: datetime, *, venue: str | None = None
) -> tuple[list[str], Undo]:
    """Apply `entry` to `record` in place; return the changed field names and the undo. The
    note and follow-ups it adds record `venue` (where the staff member is)."""
    undo = Undo(
        customer_id=record.id, version=record.version + 1, record_created_at=record.created_at
    )
    changed: set[str] = set()
    for item in entry.items:
        if _place(record, item, actor, now, undo).outcome != "known":
            changed.add(_FIELD[item.kind])
    if entry.note is not None:
        placed = rules.append_note(
            record.notes, rules.note_from(NoteInput(text=entry.note, venue=venue), actor, now)
        )
        record.notes = placed.items
        undo.note_ids.append(placed.item.id)
        changed.add("notes")
    for text in entry.follow_ups:
        given = rules.follow_up_from(FollowUpInput(text=text, venue=venue), actor, now)
        record.follow_ups = rules.add_follow_up(record.follow_ups, given, now).items
        undo.follow_up_ids.append(given.id)
        changed.add("follow_ups")
    return sorted(changed), undo


_FIELD = {
    "allergy": "allergies",
    "severe": "allergies",
    "dietary": "allergies",
    "like": "preferences",
    "dislike": "preferences",
    "tag": "tags",
}


def _place(record: CustomerRecord, item: Item, actor: str, now: datetime, undo: Undo) -> Effect:
    """Put one item on `record` by the rules, note in `undo` how to take it back, and say
    what it did."""
    if item.kind in _SEVERITY:
        return _place_allergy(record, item, actor, now, undo)
    if item.kind == "tag":
        if item.label in record.tags:
            return Effect(kind=item.kind, label=item.label, outcome="known")
        record.tags = rules.add_tags(record.tags, [item.label])
        undo.tags.append(item.label)
        return Effect(kind=item.kind, label=item.label, outcome="add")
    return _place_preference(record, item, actor, now, undo)


def _place_allergy(
    record: CustomerRecord, item: Item, actor: str, now: datetime, undo: Undo
) -> Effect:
    given = rules.allergy_from(
        AllergyInput(label=item.label, severity=_SEVERITY[item.kind]), actor, now
    )
    placed = rules.put_allergy(record.allergies, given)
    if placed.outcome != "unchanged":
        record.allergies = placed.items
        _remember(placed, undo.allergy_ids, undo.replaced_allergies)
    was = placed.before.severity if placed.before is not None else None
    return Effect(kind=item.kind, label=item.label, outcome=_OUTCOME[placed.outcome], was=was)


def _place_preference(
    record: CustomerRecord, item: Item, actor: str, now: datetime, undo: Undo
) -> Effect:
    sentiment: Sentiment = "likes" if item.kind == "like" else "dislikes"
    given = rules.preference_from(
        PreferenceInput(label=item.label, sentiment=sentiment, over=item.over), actor, now
    )
    placed = rules.put_preference(record.preferences, given)
    was = None
    if placed.outcome != "unchanged":
        record.preferences = placed.items
        _remember(placed, undo.preference_ids, undo.replaced_preferences)
        if placed.before is not None:
            was = f"{placed.before.sentiment} {placed.before.label}"
    outcome = _OUTCOME[placed.outcome]
    return Effect(kind=item.kind, label=item.label, outcome=outcome, was=was, over=item.over)


def _remember(placed: rules.Placed[ItemT], ids: list[str], replaced: list[ItemT]) -> None:
    """What undo needs: the id of the item now there, and the one it replaced."""
    ids.append(placed.item.id)
    if placed.before is not None:
        replaced.append(placed.before)


def revert(record: CustomerRecord, undo: Undo) -> list[str]:
    """Undo an entry in place: drop what it added (if still there), put back what it
    replaced (unless a newer item with that label has arrived since). Returns changed fields."""
    allergies = [a for a in record.allergies if a.id not in undo.allergy_ids]
    allergies += [
        old
        for old in undo.replaced_allergies
        if not any(rules.same_label(a.label, old.label) for a in allergies)
    ]
    prefs = [p for p in record.preferences if p.id not in undo.preference_ids]
    prefs += [
        old
        for old in undo.replaced_preferences
        if not any(rules.same_label(p.label, old.label) for p in prefs)
    ]
    after = {
        "allergies": allergies,
        "preferences": prefs,
        "notes": [n for n in record.notes if n.id not in undo.note_ids],
        "tags": [t for t in record.tags if t not in undo.tags],
        "follow_ups": [
            f for f in record.follow_ups if f.id not in undo.follow_up_ids or f.resolved is not None
        ],
    }
    changed = [name for name, value in after.items() if value != getattr(record, name)]
    for name in changed:
        setattr(record, name, after[name])
    return changed
