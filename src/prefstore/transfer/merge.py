"""How an imported row changes a customer (pure; no I/O).

* Profile fields the row carries (name, emails, phones) replace the stored ones: the CRM is
  the system of record for accounts. Identifiers and dates given are set; tags are added.
* Allergies, likes/dislikes and notes are added or updated by label (notes by text), never
  removed: prefstore is the system of record for them and staff may have added more.
* Item ids derive from the customer and the label, so a re-run builds identical items.
* A restore line (from `prefstore export`) replaces the whole record as it was exported.
Merging is idempotent: merging a row twice gives what merging it once gave.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

import msgspec

from prefstore.customers import records
from prefstore.models import Allergy, CustomerRecord, Event, History, Note, Preference
from prefstore.transfer.rows import Incoming, event_operation_id

PROFILE_FIELDS = ("name", "emails", "phones", "identifiers", "tags", "dates")


def item_id(customer_id: str, kind: str, key: str) -> str:
    digest = hashlib.blake2b(f"{customer_id}\x00{kind}\x00{key}".encode(), digest_size=8)
    return digest.hexdigest()


def _text_key(text: str) -> str:
    return " ".join(text.split()).casefold()


def new_customer(customer_id: str, incoming: Incoming, now: datetime) -> CustomerRecord:
    created = incoming.created_at or now
    return CustomerRecord(
        id=customer_id,
        name=incoming.name or "",
        history=History(),
        created_at=created,
        updated_at=created,
        version=0,
    )


def merge(
    current: CustomerRecord, incoming: Incoming, actor: str, now: datetime
) -> tuple[CustomerRecord, list[str]]:
    """The record with the row applied, and the names of the fields that changed.
    `current` is never modified."""
    new = msgspec.structs.replace(current)
    changed: list[str] = []

    def put(name: str, value: object) -> None:
        if getattr(new, name) != value:
            setattr(new, name, value)
            changed.append(name)

    if incoming.name:
        put("name", incoming.name)
    if incoming.emails:
        put("emails", incoming.emails)
    if incoming.phones:
        put("phones", incoming.phones)
    if incoming.identifiers:
        put("identifiers", {**current.identifiers, **incoming.identifiers})
    if incoming.tags:
        put("tags", list(dict.fromkeys([*current.tags, *incoming.tags])))
    if incoming.dates:
        put("dates", {**current.dates, **incoming.dates})
    if incoming.allergies:
        put("allergies", _allergies(current, incoming, actor, now))
    if incoming.preferences:
        put("preferences", _preferences(current, incoming, actor, now))
    if incoming.notes:
        put("notes", _notes(current, incoming, actor, now))
    if changed:
        new.updated_at = max(now, current.updated_at) if current.updated_at else now
    return new, changed


def _allergies(
    current: CustomerRecord, incoming: Incoming, actor: str, now: datetime
) -> list[Allergy]:
    items = list(current.allergies)
    for given in incoming.allergies:
        label = given.label.strip()
        key = label.casefold()
        at = next((i for i, a in enumerate(items) if a.label.casefold() == key), None)
        if at is None:
            items.append(
                Allergy(
                    id=item_id(current.id, "allergy", key),
                    label=label,
                    severity=given.severity,
                    note=given.note,
                    confirmed_by=actor,
                    confirmed_at=now,
                )
            )
        elif items[at].severity != given.severity or (given.note and items[at].note != given.note):
            items[at] = msgspec.structs.replace(
                items[at],
                severity=given.severity,
                note=given.note or items[at].note,
                confirmed_by=actor,
                confirmed_at=now,
            )
    return items


def _preferences(
    current: CustomerRecord, incoming: Incoming, actor: str, now: datetime
) -> list[Preference]:
    items = list(current.preferences)
    for given in incoming.preferences:
        label = given.label.strip()
        key = label.casefold()
        at = next((i for i, p in enumerate(items) if p.label.casefold() == key), None)
        if at is None:
            items.append(
                Preference(
                    id=item_id(current.id, "preference", key),
                    label=label,
                    sentiment=given.sentiment,
                    category=given.category,
                    strength=given.strength,
                    note=given.note,
                    source="import",
                    added_by=actor,
                    added_at=now,
                )
            )
        elif (items[at].sentiment, items[at].category) != (given.sentiment, given.category):
            # One opinion per label, as the store keeps it: the newer one wins.
            items[at] = msgspec.structs.replace(
                items[at],
                sentiment=given.sentiment,
                category=given.category,
                source="import",
                added_by=actor,
                added_at=now,
            )
    return items


def _notes(current: CustomerRecord, incoming: Incoming, actor: str, now: datetime) -> list[Note]:
    items = list(current.notes)
    have = {_text_key(n.text) for n in items}
    for given in incoming.notes:
        key = _text_key(given.text)
        if key in have:
            continue
        have.add(key)
        items.append(
            Note(
                id=item_id(current.id, "note", key),
                text=given.text.strip(),
                visibility=given.visibility,
                author=actor,
                at=now,
            )
        )
    return items


def row_events(incoming: Incoming, anchor: str, actor: str, now: datetime) -> list[Event]:
    """The row's events, each with an operation id (derived when the row gave none)."""
    if incoming.restore is not None:
        return incoming.restore_events
    return [
        records.event_from(e, e.operation_id or event_operation_id(anchor, e), actor, now)
        for e in incoming.events
    ]


def restored(
    current: CustomerRecord | None, incoming: Incoming, fresh: list[Event]
) -> CustomerRecord:
    """A restore line's record. Its history is trusted for a customer that does not exist
    yet (the events it came with are already counted in it); an existing customer keeps its
    own history plus the events it had not seen."""
    assert incoming.restore is not None
    if current is None:
        return msgspec.structs.replace(incoming.restore, version=0)
    history = msgspec.structs.replace(
        current.history, item_counts=dict(current.history.item_counts)
    )
    for event in fresh:
        records.count_event(history, event)
    return msgspec.structs.replace(incoming.restore, version=current.version, history=history)


def changed_fields(old: CustomerRecord, new: CustomerRecord) -> list[str]:
    names = [*PROFILE_FIELDS, "allergies", "preferences", "notes", "history"]
    names += ["created_at", "updated_at"]
    return [n for n in names if getattr(old, n) != getattr(new, n)]
