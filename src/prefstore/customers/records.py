"""API input → a new record, or a patch of its profile (pure; no I/O).

Identifiers are normalised through `identifiers.py`; items (allergies, preferences, notes)
are built and placed by the record rules (`rules/`), which also hold the limits a record
keeps. Errors name the input field.
"""

from __future__ import annotations

from datetime import datetime

from prefstore.customers import rules
from prefstore.customers.identifiers import normalise_email, normalise_other, normalise_phone
from prefstore.errors import InvalidInput
from prefstore.models.inputs import CustomerCreate, CustomerPatch
from prefstore.models.records import Allergy, CustomerRecord, History, Note, Preference


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


def record_from_create(
    data: CustomerCreate, region: str, actor: str, now: datetime
) -> CustomerRecord:
    def nested(field: str, i: int, exc: InvalidInput) -> InvalidInput:
        return InvalidInput(f"{field}[{i}].{exc.field}", exc.reason)

    # The record rules apply within one create too: "Peanuts" twice is one allergy.
    allergies: list[Allergy] = []
    preferences: list[Preference] = []
    notes: list[Note] = []
    for i, a in enumerate(data.allergies):
        try:
            allergies = rules.put_allergy(allergies, rules.allergy_from(a, actor, now)).items
        except InvalidInput as exc:
            raise nested("allergies", i, exc) from None
    for i, p in enumerate(data.preferences):
        try:
            preferences = rules.put_preference(
                preferences, rules.preference_from(p, actor, now)
            ).items
        except InvalidInput as exc:
            raise nested("preferences", i, exc) from None
    for i, n in enumerate(data.notes):
        try:
            notes.append(rules.note_from(n, actor, now))
        except InvalidInput as exc:
            raise nested("notes", i, exc) from None
    rules.check_items(allergies, preferences, notes)
    record = CustomerRecord(
        id=data.id or rules.new_id(),
        name=rules.clean_text(data.name, "name"),
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
    rules.check_profile(record.emails, record.phones, record.identifiers, record.tags)
    return record


def apply_patch(record: CustomerRecord, patch: CustomerPatch, region: str) -> list[str]:
    """Apply `patch` in place; return the names of the fields it changed."""
    changed: list[str] = []

    def put(field: str, value: object) -> None:
        if getattr(record, field) != value:
            setattr(record, field, value)
            changed.append(field)

    if patch.name is not None:
        put("name", rules.clean_text(patch.name, "name"))
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
    rules.check_profile(record.emails, record.phones, record.identifiers, record.tags)
    return changed
