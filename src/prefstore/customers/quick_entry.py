"""Applying one parsed shorthand entry to a customer record, and undoing it (pure).

An entry lands in one store transaction (`CustomerStore.update`), so its items are saved
together or not at all. What it changed is kept as an `Undo`: the ids it added and the
exact items it replaced, so undo restores the record as it was, authors and times included.

Safety rule: an entry never weakens what is known. `!peanuts` on a customer with a severe
peanut allergy changes nothing; `!!peanuts` on a plain peanut allergy upgrades it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from prefstore.customers import records
from prefstore.customers.shorthand import Entry, Item
from prefstore.models import (
    SEVERITY_RANK,
    Allergy,
    AllergyInput,
    CustomerRecord,
    NoteInput,
    Preference,
    PreferenceInput,
    Sentiment,
    Severity,
)

Outcome = Literal["add", "replace", "known"]
_SEVERITY: dict[str, Severity] = {"severe": "severe", "allergy": "allergy", "dietary": "dietary"}


class Effect(msgspec.Struct, kw_only=True):
    """What one item will do (preview) or did (after saving) to this customer's record."""

    kind: str
    label: str
    outcome: Outcome
    was: str | None = None
    """For `replace`: what it replaces, e.g. 'likes pretzels' or 'allergy'."""


class Undo(msgspec.Struct, kw_only=True):
    customer_id: str
    allergy_ids: list[str] = []
    preference_ids: list[str] = []
    note_ids: list[str] = []
    tags: list[str] = []
    replaced_allergies: list[Allergy] = []
    replaced_preferences: list[Preference] = []

    @property
    def empty(self) -> bool:
        return not (self.allergy_ids or self.preference_ids or self.note_ids or self.tags)


def _same(a: str, b: str) -> bool:
    return a.casefold() == b.casefold()


def effects(record: CustomerRecord, entry: Entry) -> list[Effect]:
    """What saving `entry` would do to `record` (the preview), item by item."""
    return [_effect(record, item) for item in entry.items]


def _effect(record: CustomerRecord, item: Item) -> Effect:
    if item.kind in _SEVERITY:
        old = next((a for a in record.allergies if _same(a.label, item.label)), None)
        if old is None:
            return Effect(kind=item.kind, label=item.label, outcome="add")
        if SEVERITY_RANK[old.severity] <= SEVERITY_RANK[_SEVERITY[item.kind]]:
            return Effect(kind=item.kind, label=item.label, outcome="known", was=old.severity)
        return Effect(kind=item.kind, label=item.label, outcome="replace", was=old.severity)
    if item.kind == "tag":
        outcome: Outcome = "known" if item.label in record.tags else "add"
        return Effect(kind=item.kind, label=item.label, outcome=outcome)
    sentiment = "likes" if item.kind == "like" else "dislikes"
    pref = next((p for p in record.preferences if _same(p.label, item.label)), None)
    if pref is None:
        return Effect(kind=item.kind, label=item.label, outcome="add")
    if pref.sentiment == sentiment:
        return Effect(kind=item.kind, label=item.label, outcome="known")
    return Effect(
        kind=item.kind, label=item.label, outcome="replace", was=f"{pref.sentiment} {pref.label}"
    )


def apply(
    record: CustomerRecord, entry: Entry, actor: str, now: datetime
) -> tuple[list[str], Undo]:
    """Apply `entry` to `record` in place; return the changed field names and the undo."""
    undo = Undo(customer_id=record.id)
    changed: set[str] = set()
    for item, effect in zip(entry.items, effects(record, entry), strict=True):
        if effect.outcome == "known":
            continue
        if item.kind in _SEVERITY:
            _put_allergy(record, item, actor, now, undo)
            changed.add("allergies")
        elif item.kind == "tag":
            record.tags = [*record.tags, item.label]
            undo.tags.append(item.label)
            changed.add("tags")
        else:
            _put_preference(record, item, actor, now, undo)
            changed.add("preferences")
    if entry.note is not None:
        note = records.note_from(NoteInput(text=entry.note), actor, now)
        record.notes = [*record.notes, note]
        undo.note_ids.append(note.id)
        changed.add("notes")
    return sorted(changed), undo


def _put_allergy(record: CustomerRecord, item: Item, actor: str, now: datetime, undo: Undo) -> None:
    new = records.allergy_from(
        AllergyInput(label=item.label, severity=_SEVERITY[item.kind]), actor, now
    )
    undo.replaced_allergies += [a for a in record.allergies if _same(a.label, item.label)]
    record.allergies = [a for a in record.allergies if not _same(a.label, item.label)] + [new]
    undo.allergy_ids.append(new.id)


def _put_preference(
    record: CustomerRecord, item: Item, actor: str, now: datetime, undo: Undo
) -> None:
    sentiment: Sentiment = "likes" if item.kind == "like" else "dislikes"
    new = records.preference_from(
        PreferenceInput(label=item.label, sentiment=sentiment), actor, now
    )
    undo.replaced_preferences += [p for p in record.preferences if _same(p.label, item.label)]
    record.preferences = [p for p in record.preferences if not _same(p.label, item.label)] + [new]
    undo.preference_ids.append(new.id)


def revert(record: CustomerRecord, undo: Undo) -> list[str]:
    """Undo an entry in place: drop what it added (if still there), put back what it
    replaced (unless a newer item with that label has arrived since). Returns changed fields."""
    allergies = [a for a in record.allergies if a.id not in undo.allergy_ids]
    allergies += [
        old
        for old in undo.replaced_allergies
        if not any(_same(a.label, old.label) for a in allergies)
    ]
    prefs = [p for p in record.preferences if p.id not in undo.preference_ids]
    prefs += [
        old
        for old in undo.replaced_preferences
        if not any(_same(p.label, old.label) for p in prefs)
    ]
    after = {
        "allergies": allergies,
        "preferences": prefs,
        "notes": [n for n in record.notes if n.id not in undo.note_ids],
        "tags": [t for t in record.tags if t not in undo.tags],
    }
    changed = [name for name, value in after.items() if value != getattr(record, name)]
    for name in changed:
        setattr(record, name, after[name])
    return changed
