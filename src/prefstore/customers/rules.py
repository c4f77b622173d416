"""The record rules: how an allergy, a preference, a note, a tag or an event joins a record
(pure).

Every write path uses these and nothing else to add or update items: the store's API
methods, the quick-entry shorthand and the CRM import. They differ only in how they build
the item they bring (random ids at the desk, ids derived from the label in an import).

* Items are matched by label, case-insensitively. A matched item keeps its id (so a link
  to it stays good) and takes the newer spelling of the label when it changes.
* The safety rule: an add never weakens a known allergy or dietary need. The severity
  becomes the stronger of the two; a note given replaces the old one, else the old stays.
  Only `change_allergy`, an explicit change of one allergy by id, may lower it.
* Preferences: one opinion per label, the newer wins. A different sentiment replaces the
  old opinion; the same sentiment updates only the details the newer one states.
* Notes: the desk appends every note; an import adds a note once per text.
* Tags: added once.
* Events: an event is built from its input (`event_from`) and counted into the record's
  history summary (`count_event`); the history keeps at most `MAX_DISTINCT_ITEMS` item
  counters. A time without an offset is read as UTC (`event_time`), on every path.
* Limits: a record holds at most `MAX_ALLERGIES` allergies, `MAX_PREFERENCES` likes and
  dislikes, `MAX_NOTES` notes of at most `MAX_NOTE_CHARS` characters in all, `MAX_TAGS` tags
  and `MAX_IDENTIFIERS` other identifiers; an add past a limit is refused (InvalidInput,
  422) and nothing is written. Sizes and why: docs/SECURITY.md#limits.
* Text a person typed (names, labels, notes) holds no control, bidi-override or zero-width
  characters (`clean_text`): they hide or reorder what staff read on a card.

Each item rule returns a new list and never modifies the one it is given, so a caller can
ask what an add would do (the shorthand preview) without doing it. `count_event` folds into
the history it is given: a caller that must keep the old one passes a copy.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, Literal, TypeVar

import msgspec

from prefstore.errors import InvalidInput, NotFound
from prefstore.models.fields import HIDDEN_CHARS, SEVERITY_RANK, Severity
from prefstore.models.inputs import (
    AllergyChange,
    AllergyInput,
    EventInput,
    NoteInput,
    PreferenceInput,
)
from prefstore.models.records import Allergy, Event, History, Note, Preference

Outcome = Literal["added", "updated", "unchanged"]
ItemT = TypeVar("ItemT", Allergy, Preference, Note)
MAX_DISTINCT_ITEMS = 500
"""Item counters kept per customer; the rarest are dropped past this, bounding the record."""

# ---------------------------------------------------------------- limits (one home)
# Sized for a real regular of twenty years (docs/SECURITY.md#limits says why each one) and
# small enough that recall and the cart check over a full record stay under 10 ms
# (docs/BENCHMARKS.md, scripts/bench_limits.py).
MAX_ALLERGIES = 40
MAX_PREFERENCES = 200
MAX_NOTES = 300
MAX_NOTE_CHARS = 120_000
"""Characters of all notes together: 300 notes of 400 characters."""
MAX_TAGS = 50
MAX_IDENTIFIERS = 10
"""Identifiers other than emails and phones (loyalty, crm, …); emails and phones: 10 each."""
MAX_EMAILS = 10
MAX_PHONES = 10
MAX_QUERY_WORDS = 8
"""Words in one recall query: what is typed at a till, not a paragraph."""
MAX_CART_ITEMS = 50
"""Items in one cart check: a table's order or a basket, not a warehouse (the check costs
items x the record's allergies and likes)."""
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
"""Times outside these are typing errors (and far ones overflow with their offset)."""
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


def event_time(value: datetime | None, field: str = "at") -> datetime | None:
    """A time as stored: aware, in UTC. Without an offset it is read as UTC (spreadsheets
    drop offsets); outside 1900-2200 it is refused."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        value = value.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(field, "date-time out of range") from None
    if not EARLIEST <= value < LATEST:
        raise InvalidInput(field, "date-time must be between 1900 and 2200")
    return value


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


def _replaced(items: list[ItemT], old: ItemT, new: ItemT) -> list[ItemT]:
    return [new if item is old else item for item in items]


# ---------------------------------------------------------------- items from input
def new_id() -> str:
    return secrets.token_hex(8)


def clean_text(value: str, field: str) -> str:
    text = check_text(value, field).strip()
    if not text:
        raise InvalidInput(field, "must not be blank")
    return text


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
    return Preference(
        id=item_id or new_id(),
        label=clean_text(data.label, "label"),
        sentiment=data.sentiment,
        category=data.category,
        strength=data.strength,
        note=check_text(data.note, "note") if data.note else None,
        source=data.source,
        added_by=actor,
        added_at=now,
    )


def note_from(data: NoteInput, actor: str, now: datetime, *, item_id: str | None = None) -> Note:
    return Note(
        id=item_id or new_id(),
        text=clean_text(data.text, "text"),
        visibility=data.visibility,
        author=actor,
        at=now,
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
    return Placed(_replaced(allergies, old, new), new, old)


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
    return Placed(_replaced(allergies, old, new), new, old)


def keep_known_allergies(allergies: list[Allergy], known: list[Allergy]) -> list[Allergy]:
    """`allergies` (a whole list that is to replace `known`, e.g. a restored backup) with
    every known allergy kept, and none of them weaker than it is now."""
    result = list(allergies)
    for allergy in known:
        match = next((a for a in result if same_label(a.label, allergy.label)), None)
        if match is None:
            result.append(allergy)
        elif stronger(match.severity, allergy.severity) != match.severity:
            result = _replaced(result, match, allergy)
    return result


# ---------------------------------------------------------------- likes and dislikes
def _stated_details(old: Preference, given: Preference) -> Preference:
    """`old` with the details `given` states (a category other than `other`, a strength,
    a note); the rest of `old` is kept."""
    return msgspec.structs.replace(
        old,
        category=given.category if given.category != "other" else old.category,
        strength=given.strength if given.strength is not None else old.strength,
        note=given.note or old.note,
    )


def put_preference(preferences: list[Preference], given: Preference) -> Placed[Preference]:
    """One opinion per label, the newer wins (see the module docstring)."""
    old = next((p for p in preferences if same_label(p.label, given.label)), None)
    if old is None:
        over_limit("preferences", len(preferences) + 1, MAX_PREFERENCES, "likes and dislikes")
        return Placed([*preferences, given], given)
    if given.sentiment != old.sentiment:
        new = msgspec.structs.replace(given, id=old.id)
        return Placed(_replaced(preferences, old, new), new, old)
    details = _stated_details(old, given)
    if details == old:
        return Placed(preferences, old, old)
    new = msgspec.structs.replace(
        given,
        id=old.id,
        category=details.category,
        strength=details.strength,
        note=details.note,
    )
    return Placed(_replaced(preferences, old, new), new, old)


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


# ---------------------------------------------------------------- events
def event_from(data: EventInput, operation_id: str, actor: str, now: datetime) -> Event:
    return Event(
        id=operation_id,
        type=data.type,
        at=event_time(data.at) or now,
        location=data.location,
        channel=data.channel,
        items=[" ".join(i.split()) for i in data.items if i.strip()],
        amount=data.amount,
        currency=data.currency,
        note=data.note,
        recorded_by=actor,
    )


def count_event(history: History, event: Event) -> None:
    """Fold one event into the running history summary. Times are compared as UTC: a
    record written before `event_time` existed may hold a time without an offset."""
    event.at = _as_utc(event.at)
    history.last_visit = _as_utc(history.last_visit)
    history.last_event = _as_utc(history.last_event)
    if event.type == "visit":
        history.visits += 1
        if event.at and (history.last_visit is None or event.at > history.last_visit):
            history.last_visit = event.at
    elif event.type == "purchase":
        history.purchases += 1
    elif event.type == "contact":
        history.contacts += 1
    else:
        history.feedback += 1
    if event.at and (history.last_event is None or event.at > history.last_event):
        history.last_event = event.at
    if event.amount:
        history.spend += event.amount
    counts = history.item_counts
    for item in event.items:
        key = item.casefold()
        counts[key] = counts.get(key, 0) + 1
    if len(counts) > MAX_DISTINCT_ITEMS:
        keep = sorted(counts.items(), key=lambda kv: -kv[1])[:MAX_DISTINCT_ITEMS]
        history.item_counts = dict(keep)


def _as_utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value
