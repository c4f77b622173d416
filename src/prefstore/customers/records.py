"""Pure functions that turn validated input into record changes (no I/O).

Identifiers are normalised here, once; errors name the input field that caused them.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from prefstore.customers.identifiers import normalise_email, normalise_other, normalise_phone
from prefstore.errors import InvalidInput
from prefstore.models import (
    Allergy,
    AllergyInput,
    CustomerCreate,
    CustomerPatch,
    CustomerRecord,
    Event,
    EventInput,
    History,
    Note,
    NoteInput,
    Preference,
    PreferenceInput,
)

MAX_DISTINCT_ITEMS = 500
"""Item counters kept per customer; the rarest are dropped past this, bounding the record."""


def new_id() -> str:
    return secrets.token_hex(8)


def _dedupe(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def emails_of(raw: list[str], field: str = "emails") -> list[str]:
    return _dedupe([normalise_email(e, f"{field}[{i}]") for i, e in enumerate(raw)])


def phones_of(raw: list[str], region: str, field: str = "phones") -> list[str]:
    return _dedupe([normalise_phone(p, region, f"{field}[{i}]") for i, p in enumerate(raw)])


def identifiers_of(raw: dict[str, str], field: str = "identifiers") -> dict[str, str]:
    return {k: normalise_other(k, v, f"{field}.{k}") for k, v in raw.items()}


def tags_of(raw: list[str]) -> list[str]:
    return _dedupe([t.strip().casefold() for t in raw])


def clean_text(value: str, field: str) -> str:
    text = value.strip()
    if not text:
        raise InvalidInput(field, "must not be blank")
    return text


def allergy_from(data: AllergyInput, actor: str, now: datetime) -> Allergy:
    return Allergy(
        id=new_id(),
        label=clean_text(data.label, "label"),
        severity=data.severity,
        note=data.note,
        confirmed_by=actor,
        confirmed_at=now,
    )


def preference_from(data: PreferenceInput, actor: str, now: datetime) -> Preference:
    return Preference(
        id=new_id(),
        label=clean_text(data.label, "label"),
        sentiment=data.sentiment,
        category=data.category,
        strength=data.strength,
        note=data.note,
        source=data.source,
        added_by=actor,
        added_at=now,
    )


def note_from(data: NoteInput, actor: str, now: datetime) -> Note:
    return Note(
        id=new_id(),
        text=clean_text(data.text, "text"),
        visibility=data.visibility,
        author=actor,
        at=now,
    )


def event_from(data: EventInput, operation_id: str, actor: str, now: datetime) -> Event:
    return Event(
        id=operation_id,
        type=data.type,
        at=data.at or now,
        location=data.location,
        channel=data.channel,
        items=[" ".join(i.split()) for i in data.items if i.strip()],
        amount=data.amount,
        currency=data.currency,
        note=data.note,
        recorded_by=actor,
    )


def record_from_create(
    data: CustomerCreate, region: str, actor: str, now: datetime
) -> CustomerRecord:
    def nested(field: str, i: int, exc: InvalidInput) -> InvalidInput:
        return InvalidInput(f"{field}[{i}].{exc.field}", exc.reason)

    allergies, preferences, notes = [], [], []
    for i, a in enumerate(data.allergies):
        try:
            allergies.append(allergy_from(a, actor, now))
        except InvalidInput as exc:
            raise nested("allergies", i, exc) from None
    for i, p in enumerate(data.preferences):
        try:
            preferences.append(preference_from(p, actor, now))
        except InvalidInput as exc:
            raise nested("preferences", i, exc) from None
    for i, n in enumerate(data.notes):
        try:
            notes.append(note_from(n, actor, now))
        except InvalidInput as exc:
            raise nested("notes", i, exc) from None
    return CustomerRecord(
        id=data.id or new_id(),
        name=clean_text(data.name, "name"),
        emails=emails_of(data.emails),
        phones=phones_of(data.phones, region),
        identifiers=identifiers_of(data.identifiers),
        tags=tags_of(data.tags),
        dates=dict(data.dates),
        allergies=allergies,
        preferences=preferences,
        notes=notes,
        history=History(),
        created_at=now,
        updated_at=now,
        version=1,
        city=" ".join((data.city or "").split()) or None,
    )


def apply_patch(record: CustomerRecord, patch: CustomerPatch, region: str) -> list[str]:
    """Apply `patch` in place; return the names of the fields it changed."""
    changed: list[str] = []

    def put(field: str, value: object) -> None:
        if getattr(record, field) != value:
            setattr(record, field, value)
            changed.append(field)

    if patch.name is not None:
        put("name", clean_text(patch.name, "name"))
    if patch.emails is not None:
        put("emails", emails_of(patch.emails))
    if patch.phones is not None:
        put("phones", phones_of(patch.phones, region))
    if patch.identifiers is not None:
        put("identifiers", identifiers_of(patch.identifiers))
    if patch.tags is not None:
        put("tags", tags_of(patch.tags))
    if patch.dates is not None:
        put("dates", dict(patch.dates))
    if patch.city is not None:
        put("city", " ".join(patch.city.split()) or None)
    return changed


def count_event(history: History, event: Event) -> None:
    """Fold one event into the running history summary."""
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
