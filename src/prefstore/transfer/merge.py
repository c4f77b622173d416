"""How an imported row changes its customer (pure; no I/O).

The batch writer reads what Redis holds, then folds the batch's rows one by one into a
`Pending` write per customer (`fold_row`): each row is rejected, suppressed, unchanged, or
merged. Rows earlier in the batch count as identifier owners for the rows after them.

* Profile fields the row carries (name, emails, phones) replace the stored ones: the CRM is
  the system of record for accounts. Identifiers and dates given are set; tags are added.
* Allergies, likes/dislikes, notes and follow-ups are added or updated by the record rules
  (`customers/rules/`), never removed: prefstore is the system of record for them and
  staff may have added more. A CRM file never weakens a known allergy or dietary need.
* Consent is put channel by channel by the consent rule (`rules.put_consent`): a file never
  turns an opt-out into an opt-in unless its statement is dated (`consent_at`) later.
* Item ids derive from the customer and the label, so a re-run builds identical items;
  notes and follow-ups are added once per text. An event without an operation id gets one
  derived from the customer and the event (`event_operation_id`): a re-run counts it once.
* A restore line (from `prefstore export`) replaces the whole record as it was exported,
  except that known allergies stay (the safety rule holds for restores too) and consent is
  put by the consent rule (an old backup never re-opts-in someone who opted out since).
Merging is idempotent: merging a row twice gives what merging it once gave.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import msgspec

from prefstore.customers import rules
from prefstore.errors import InvalidInput
from prefstore.models.inputs import EventInput
from prefstore.models.records import (
    CHANNELS,
    Allergy,
    ChannelConsent,
    CustomerRecord,
    Event,
    FollowUp,
    History,
    Note,
    Preference,
)
from prefstore.redis.keyspace import KeySpace, identifier_keys
from prefstore.transfer.restore import restore_clock as ctx_now
from prefstore.transfer.restore import signed
from prefstore.transfer.rows import Incoming

PROFILE_FIELDS = ("name", "emails", "phones", "identifiers", "tags", "dates")
Outcome = Literal["created", "updated", "unchanged", "suppressed", "rejected"]
IdentifierKeys = dict[str, tuple[str, str]]
"""Index key -> (kind, normalised value)."""
_CUSTOMER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass
class RowResult:
    outcome: Outcome
    customer_id: str | None = None
    rejection: InvalidInput | None = None


@dataclass
class Pending:
    """One customer's state while a batch is merged into it."""

    base: CustomerRecord | None
    """As read from Redis (None: a new customer)."""
    current: CustomerRecord | None
    seen_ops: set[str]
    """Operation ids of the rows' events that Redis already holds."""
    events: list[Event] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    """Batch positions of the rows folded in: redone together if the write is refused."""
    fields: list[str] = field(default_factory=list)
    held: IdentifierKeys | None = None
    """Identifier keys of `base`, computed once (they are digests)."""
    wanted: IdentifierKeys = field(default_factory=dict)
    """Identifier keys of `current`."""

    def held_keys(self, keys: KeySpace) -> IdentifierKeys:
        if self.held is None:
            self.held = identifier_keys(keys, self.base) if self.base else {}
        return self.held


@dataclass
class Owners:
    """Who holds each identifier key: as read from Redis, and as claimed by rows earlier in
    this batch (which win: they will be written first)."""

    stored: dict[str, str]
    claimed: dict[str, str] = field(default_factory=dict)

    def of(self, key: str) -> str | None:
        return self.claimed.get(key) or self.stored.get(key)


@dataclass(frozen=True)
class FoldContext:
    """What every row of one attempt is folded with."""

    keys: KeySpace
    actor: str
    now: datetime
    owners: Owners


def new_customer_id(incoming: Incoming, salt: bytes) -> str:
    """Deterministic, so an interrupted run and its re-run create the same customer: the CRM
    id itself when it is a valid customer id, else a keyed digest (HMAC with the deployment's
    suppression salt) of the first identifier. Keyed, because the id outlives an erasure in
    the audit trail: without the salt nobody can recompute it from a candidate email."""
    if incoming.id:
        return incoming.id
    crm = incoming.crm_id
    if crm and _CUSTOMER_ID.match(crm):
        return crm
    kind, value = incoming.match_keys[0]
    digest = hmac.new(salt, f"{kind}\x00{value}".encode(), hashlib.blake2b)
    return "i" + digest.hexdigest()[:16]


def event_operation_id(anchor: str, event: EventInput) -> str:
    """An operation id for an imported event that has none: the same row gives the same id,
    so a re-run recognises the event and never counts it twice."""
    digest = hashlib.blake2b(
        anchor.encode() + b"\x00" + msgspec.json.encode(event), digest_size=12
    ).hexdigest()
    return f"import:{digest}"


# ---------------------------------------------------------------- one row into its customer
def fold_row(
    row: Incoming, cid: str, pos: int, pending: Pending, suppressed: bool, ctx: FoldContext
) -> RowResult:
    """Fold the row at batch position `pos` into the `pending` write of customer `cid`."""
    current = pending.current
    refused = _refused(row, cid, current, suppressed)
    if refused is not None:
        return refused
    try:
        events = _new_events(row, cid, pending, ctx)
        if row.restore is not None:
            new = restored(current, row, events, ctx.actor, ctx.now)
            changes = changed_fields(current, new) if current else ["*"]
        else:
            base = current or new_customer(cid, row, ctx.now)
            new, changes = merge(base, row, ctx.actor, ctx.now)
            if current is None:
                changes = ["*"]
            if events:
                new.history = _counted(new.history, events)
    except InvalidInput as exc:  # a record limit: the row is refused, as at the API
        return RowResult("rejected", cid, InvalidInput(_column(row, exc.field), exc.reason))
    if current is not None and not changes and not events:
        return RowResult("unchanged", cid)
    wanted = identifier_keys(ctx.keys, new)
    conflict = _conflict(row, cid, pending.held_keys(ctx.keys), wanted, ctx.owners)
    if conflict is not None:
        return RowResult("rejected", cid, conflict)
    for key in wanted:
        ctx.owners.claimed[key] = cid
    pending.current = new
    pending.wanted = wanted
    pending.events += events
    pending.rows.append(pos)
    extra = ["events"] if events else []
    pending.fields = list(dict.fromkeys([*pending.fields, *changes, *extra]))
    return RowResult("created" if current is None else "updated", cid)


def _refused(
    row: Incoming, cid: str, current: CustomerRecord | None, suppressed: bool
) -> RowResult | None:
    """A row that must not touch the customer it matched: its outcome; else None."""
    crm = row.identifiers.get("crm")
    if current is not None and crm and current.identifiers.get("crm", crm) != crm:
        # Matched by email or phone to a customer with another CRM id: not the same one.
        name = "emails" if row.emails else "phones" if row.phones else "identifiers"
        kind = {"emails": "email", "phones": "phone"}.get(name, "identifier")
        err = InvalidInput(_column(row, name), f"this {kind} belongs to another customer")
        return RowResult("rejected", cid, err)
    if current is None and suppressed:
        return RowResult("suppressed", cid)
    if current is None and row.restore is None and not row.name:
        err = InvalidInput(_column(row, "name"), "a name is needed to create a customer")
        return RowResult("rejected", cid, err)
    return None


def _new_events(row: Incoming, cid: str, pending: Pending, ctx: FoldContext) -> list[Event]:
    """The row's events Redis and the earlier rows of the batch do not already hold."""
    events = row_events(row, cid, ctx.actor, ctx.now)
    if pending.seen_ops or pending.events:
        taken = pending.seen_ops | {e.id for e in pending.events}
        events = [e for e in events if e.id not in taken]
    return list({e.id: e for e in events}.values())


def _conflict(
    row: Incoming, cid: str, held: IdentifierKeys, wanted: IdentifierKeys, owners: Owners
) -> InvalidInput | None:
    for key, (kind, _value) in wanted.items():
        if key in held:
            continue
        owner = owners.of(key)
        if owner is not None and owner != cid:
            name = _record_field(kind)
            return InvalidInput(_column(row, name), f"this {kind} belongs to another customer")
    return None


def _counted(history: History, events: list[Event]) -> History:
    history = rules.history_copy(history)
    for event in events:
        rules.count_event(history, event)
    return history


def _record_field(kind: str) -> str:
    if kind == "email":
        return "emails"
    if kind == "phone":
        return "phones"
    return f"identifiers.{kind}"


def _column(row: Incoming, record_field: str) -> str:
    """The input column a record field came from, to name it in a rejection."""
    return row.sources.get(record_field, record_field)


# ---------------------------------------------------------------- the record, changed
def item_id(customer_id: str, kind: str, key: str) -> str:
    digest = hashlib.blake2b(f"{customer_id}\x00{kind}\x00{key}".encode(), digest_size=8)
    return digest.hexdigest()


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
        put("identifiers", rules.set_identifiers(current.identifiers, incoming.identifiers))
    if incoming.tags:
        put("tags", rules.add_tags(current.tags, incoming.tags))
    if incoming.dates:
        put("dates", {**current.dates, **incoming.dates})
    if incoming.allergies:
        put("allergies", _allergies(current, incoming, actor, now))
    if incoming.preferences:
        put("preferences", _preferences(current, incoming, actor, now))
    if incoming.notes:
        put("notes", _notes(current, incoming, actor, now))
    if incoming.follow_ups:
        put("follow_ups", _follow_ups(current, incoming, actor, now))
    if incoming.consent:
        consent = rules.change_consent(current.consent, incoming.consent, now)
        new.consent = consent.consent
        changed += sorted(consent.previous)
    if changed:
        new.updated_at = max(now, current.updated_at) if current.updated_at else now
    return new, changed


def _allergies(
    current: CustomerRecord, incoming: Incoming, actor: str, now: datetime
) -> list[Allergy]:
    items = current.allergies
    for given in incoming.allergies:
        key = given.label.strip().casefold()
        allergy_id = item_id(current.id, "allergy", key)
        items = rules.put_allergy(
            items, rules.allergy_from(given, actor, now, item_id=allergy_id)
        ).items
    return items


def _preferences(
    current: CustomerRecord, incoming: Incoming, actor: str, now: datetime
) -> list[Preference]:
    items = current.preferences
    for given in incoming.preferences:
        key = given.label.strip().casefold()
        imported = msgspec.structs.replace(given, source="import")
        pref_id = item_id(current.id, "preference", key)
        items = rules.put_preference(
            items, rules.preference_from(imported, actor, now, item_id=pref_id)
        ).items
    return items


def _notes(current: CustomerRecord, incoming: Incoming, actor: str, now: datetime) -> list[Note]:
    items = current.notes
    for given in incoming.notes:
        note_id = item_id(current.id, "note", rules.note_key(given.text))
        items = rules.add_note_once(
            items, rules.note_from(given, actor, now, item_id=note_id)
        ).items
    return items


def _follow_ups(
    current: CustomerRecord, incoming: Incoming, actor: str, now: datetime
) -> list[FollowUp]:
    items = current.follow_ups
    for given in incoming.follow_ups:
        follow_up_id = item_id(current.id, "follow_up", rules.note_key(given.text))
        follow_up = rules.follow_up_from(given, actor, now, item_id=follow_up_id)
        items = rules.add_follow_up(items, follow_up, now, once=True).items
    return items


def row_events(incoming: Incoming, anchor: str, actor: str, now: datetime) -> list[Event]:
    """The row's events, each with an operation id (derived when the row gave none)."""
    if incoming.restore is not None:
        return signed(incoming.restore, incoming.restore_events, actor)[1]
    return [
        rules.event_from(e, e.operation_id or event_operation_id(anchor, e), actor, now)
        for e in incoming.events
    ]


def restored(
    current: CustomerRecord | None,
    incoming: Incoming,
    fresh: list[Event],
    actor: str,
    now: datetime | None = None,
) -> CustomerRecord:
    """A restore line's record, signed by the importing key (`restore.signed`). Its history
    (derived from its events by `restore.validated`) is used for a customer that does not
    exist yet; an existing customer keeps its own history plus the events it had not seen."""
    assert incoming.restore is not None
    record = signed(incoming.restore, [], actor)[0]
    if current is None:
        return msgspec.structs.replace(record, version=0)
    history = rules.history_copy(current.history)
    for event in fresh:
        rules.count_event(history, event)
    allergies = rules.keep_known_allergies(record.allergies, current.allergies)
    stated: dict[str, ChannelConsent] = {c: getattr(record.consent, c) for c in CHANNELS}
    consent = rules.change_consent(current.consent, stated, now or ctx_now()).consent
    return msgspec.structs.replace(
        record, version=current.version, history=history, allergies=allergies, consent=consent
    )


def changed_fields(old: CustomerRecord, new: CustomerRecord) -> list[str]:
    names = [*PROFILE_FIELDS, "allergies", "preferences", "notes", "follow_ups", "consent"]
    names += ["history"]
    names += ["created_at", "updated_at"]
    return [n for n in names if getattr(old, n) != getattr(new, n)]
