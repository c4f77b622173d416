"""The record rules for what one import row, one shorthand line or one API call brings:
text a person typed, items built from input, and how an allergy, a like or dislike, a note,
a tag or an identifier joins a record (pure). See the package docstring for the rules.

Everything an import row's items need is in this one file: the row's path stays short."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Literal, TypeVar

import msgspec

from prefstore.customers.rules.limits import (
    MAX_ALLERGIES,
    MAX_EMAILS,
    MAX_IDENTIFIERS,
    MAX_NOTE_CHARS,
    MAX_NOTES,
    MAX_PHONES,
    MAX_PREFERENCES,
    MAX_TAGS,
)
from prefstore.errors import InvalidInput, NotFound
from prefstore.models.fields import HIDDEN_CHARS, SEVERITY_RANK, Severity
from prefstore.models.inputs import AllergyChange, AllergyInput, NoteInput, PreferenceInput
from prefstore.models.records import Allergy, FollowUp, Note, Preference

__all__ = [
    "ItemT",
    "Outcome",
    "Placed",
    "add_note_once",
    "add_tags",
    "allergy_from",
    "append_note",
    "change_allergy",
    "check_items",
    "check_profile",
    "check_text",
    "clean_text",
    "keep_known_allergies",
    "new_id",
    "note_from",
    "note_key",
    "over_limit",
    "preference_from",
    "put_allergy",
    "put_preference",
    "replaced",
    "same_label",
    "same_text",
    "set_identifiers",
    "stronger",
]

Outcome = Literal["added", "updated", "unchanged"]
ItemT = TypeVar("ItemT", Allergy, Preference, Note, FollowUp)


@dataclass(frozen=True, slots=True)
class Placed(Generic[ItemT]):
    """What a rule did: the new list, the item as it now stands, and the one it replaced."""

    items: list[ItemT]
    item: ItemT
    before: ItemT | None = None
    """The item with that label (or id) before the write; None when the item is new."""

    @property
    def outcome(self) -> Outcome:
        if self.before is None:
            return "added"
        return "unchanged" if self.item is self.before else "updated"


def same_label(a: str, b: str) -> bool:
    return a.casefold() == b.casefold()


def stronger(a: Severity, b: Severity) -> Severity:
    """The more serious of two severities (`SEVERITY_RANK`: 0 is the most serious)."""
    return a if SEVERITY_RANK[a] <= SEVERITY_RANK[b] else b


def replaced(items: list[ItemT], old: ItemT, new: ItemT) -> list[ItemT]:
    return [new if item is old else item for item in items]


# ---------------------------------------------------------------- text, limits, items from input
_HIDDEN = re.compile(f"[{HIDDEN_CHARS}]")
"""Control characters (tab and newline aside), bidi overrides, isolates and marks, and
zero-width characters: they hide or reorder text on a card (the models' patterns refuse the
same set at the API's edge; this check holds on every path)."""


def over_limit(field: str, count: int, limit: int, what: str) -> None:
    """InvalidInput naming `field` when `count` exceeds `limit`."""
    if count > limit:
        raise InvalidInput(field, f"at most {limit} {what} per customer (this would be {count})")


def check_text(value: str, field: str) -> str:
    """`value` unless it holds a hidden character (`_HIDDEN`)."""
    bad = _HIDDEN.search(value)
    if bad is not None:
        raise InvalidInput(
            field, f"contains the invisible or control character U+{ord(bad[0]):04X}"
        )
    return value


def check_profile(
    emails: list[str], phones: list[str], identifiers: dict[str, str], tags: list[str]
) -> None:
    """The profile limits, for a whole record (a create, a patch, an import, a restore)."""
    over_limit("emails", len(emails), MAX_EMAILS, "emails")
    over_limit("phones", len(phones), MAX_PHONES, "phones")
    over_limit("identifiers", len(identifiers), MAX_IDENTIFIERS, "identifiers")
    over_limit("tags", len(tags), MAX_TAGS, "tags")


def check_items(allergies: list[Allergy], preferences: list[Preference], notes: list[Note]) -> None:
    """The item limits, for a whole record (a restore brings its lists whole)."""
    over_limit("allergies", len(allergies), MAX_ALLERGIES, "allergies")
    over_limit("preferences", len(preferences), MAX_PREFERENCES, "likes and dislikes")
    over_limit("notes", len(notes), MAX_NOTES, "notes")
    chars = sum(len(n.text) for n in notes)
    over_limit("notes", chars, MAX_NOTE_CHARS, "characters of notes")


def same_text(a: str, b: str) -> bool:
    """Case and spacing aside, the same words."""
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def clean_text(value: str, field: str) -> str:
    """Text a person typed, trimmed: no hidden characters, not blank."""
    text = check_text(value, field).strip()
    if not text:
        raise InvalidInput(field, "must not be blank")
    return text


def new_id() -> str:
    return secrets.token_hex(8)


def allergy_from(
    data: AllergyInput, actor: str, now: datetime, *, item_id: str | None = None
) -> Allergy:
    """The item an add brings; `item_id` for ids that must not be random (an import's)."""
    return Allergy(
        id=item_id or new_id(),
        label=clean_text(data.label, "label"),
        severity=data.severity,
        note=check_text(data.note, "note") if data.note else None,
        confirmed_by=actor,
        confirmed_at=now,
    )


def preference_from(
    data: PreferenceInput, actor: str, now: datetime, *, item_id: str | None = None
) -> Preference:
    """`over` (a comparative like: popcorn over pretzels) needs a like of something else."""
    label = clean_text(data.label, "label")
    if data.over and (data.sentiment != "likes" or same_text(data.over, label)):
        raise InvalidInput("over", "a like may be preferred over something else, not itself")
    return Preference(
        id=item_id or new_id(),
        label=label,
        sentiment=data.sentiment,
        category=data.category,
        strength=data.strength,
        note=check_text(data.note, "note") if data.note else None,
        source=data.source,
        added_by=actor,
        added_at=now,
        over=clean_text(data.over, "over") if data.over else None,
    )


def note_from(data: NoteInput, actor: str, now: datetime, *, item_id: str | None = None) -> Note:
    """A note as written (a venue-only one names its venue: `NoteInput` holds to that)."""
    return Note(
        id=item_id or new_id(),
        text=clean_text(data.text, "text"),
        visibility=data.visibility,
        author=actor,
        at=now,
        venue=data.venue,
        venue_only=data.venue_only,
    )


# ---------------------------------------------------------------- the safety track
def put_allergy(allergies: list[Allergy], given: Allergy) -> Placed[Allergy]:
    """Add `given`, or fold it into the known allergy of that label without weakening it."""
    old = next((a for a in allergies if same_label(a.label, given.label)), None)
    if old is None:
        over_limit("allergies", len(allergies) + 1, MAX_ALLERGIES, "allergies")
        return Placed([*allergies, given], given)
    severity = stronger(old.severity, given.severity)
    note = given.note or old.note
    if (severity, note) == (old.severity, old.note):
        return Placed(allergies, old, old)
    new = msgspec.structs.replace(given, id=old.id, severity=severity, note=note)
    return Placed(replaced(allergies, old, new), new, old)


def change_allergy(
    allergies: list[Allergy], allergy_id: str, change: AllergyChange, actor: str, now: datetime
) -> Placed[Allergy]:
    """Set the severity and/or note of one allergy, stronger or weaker: the explicit change
    a person confirms. The caller becomes the one who confirmed it."""
    old = next((a for a in allergies if a.id == allergy_id), None)
    if old is None:
        raise NotFound(f"no allergy {allergy_id}")
    severity = change.severity or old.severity
    note = old.note if change.note is None else (change.note.strip() or None)
    if (severity, note) == (old.severity, old.note):
        return Placed(allergies, old, old)
    new = msgspec.structs.replace(
        old, severity=severity, note=note, confirmed_by=actor, confirmed_at=now
    )
    return Placed(replaced(allergies, old, new), new, old)


def keep_known_allergies(allergies: list[Allergy], known: list[Allergy]) -> list[Allergy]:
    """`allergies` (a whole list that is to replace `known`, e.g. a restored backup) with
    every known allergy kept, and none of them weaker than it is now."""
    result = list(allergies)
    for allergy in known:
        match = next((a for a in result if same_label(a.label, allergy.label)), None)
        if match is None:
            result.append(allergy)
        elif stronger(match.severity, allergy.severity) != match.severity:
            result = replaced(result, match, allergy)
    return result


# ---------------------------------------------------------------- likes and dislikes
def _stated_details(old: Preference, given: Preference) -> Preference:
    """`old` with the details `given` states (a category other than `other`, a strength,
    a note, what it is preferred over); the rest of `old` is kept."""
    return msgspec.structs.replace(
        old,
        category=given.category if given.category != "other" else old.category,
        strength=given.strength if given.strength is not None else old.strength,
        note=given.note or old.note,
        over=given.over or old.over,
    )


def put_preference(preferences: list[Preference], given: Preference) -> Placed[Preference]:
    """One opinion per label, the newer wins (see the module docstring)."""
    old = next((p for p in preferences if same_label(p.label, given.label)), None)
    if old is None:
        over_limit("preferences", len(preferences) + 1, MAX_PREFERENCES, "likes and dislikes")
        return Placed([*preferences, given], given)
    if given.sentiment != old.sentiment:
        new = msgspec.structs.replace(given, id=old.id)
        return Placed(replaced(preferences, old, new), new, old)
    details = _stated_details(old, given)
    if details == old:
        return Placed(preferences, old, old)
    new = msgspec.structs.replace(
        given,
        id=old.id,
        category=details.category,
        strength=details.strength,
        note=details.note,
        over=details.over,
    )
    return Placed(replaced(preferences, old, new), new, old)


# ---------------------------------------------------------------- notes and tags
def note_key(text: str) -> str:
    """Two notes with this key say the same thing (case and spacing aside)."""
    return " ".join(text.split()).casefold()


def append_note(notes: list[Note], note: Note) -> Placed[Note]:
    """A note from the desk: always a new line, even if an older one says the same."""
    _check_room(notes, note)
    return Placed([*notes, note], note)


def _check_room(notes: list[Note], note: Note) -> None:
    over_limit("notes", len(notes) + 1, MAX_NOTES, "notes")
    chars = sum(len(n.text) for n in notes) + len(note.text)
    over_limit("notes", chars, MAX_NOTE_CHARS, "characters of notes")


def add_note_once(notes: list[Note], note: Note) -> Placed[Note]:
    """A note from an import: added unless a note with the same text exists, so running
    an import again changes nothing."""
    key = note_key(note.text)
    old = next((n for n in notes if note_key(n.text) == key), None)
    if old is not None:
        return Placed(notes, old, old)
    _check_room(notes, note)
    return Placed([*notes, note], note)


def set_identifiers(held: dict[str, str], given: dict[str, str]) -> dict[str, str]:
    """`held` with the identifiers `given` set (normalised already), within the limit."""
    result = {**held, **given}
    over_limit("identifiers", len(result), MAX_IDENTIFIERS, "identifiers")
    return result


def add_tags(tags: list[str], new: list[str]) -> list[str]:
    """`tags` followed by those of `new` it lacks (tags are already normalised)."""
    result = list(dict.fromkeys([*tags, *new]))
    if len(result) > len(tags):
        over_limit("tags", len(result), MAX_TAGS, "tags")
    return result
