"""A restore line (`prefstore export` format) checked like API input (pure; no I/O).

An export line is a whole record and its events. Restoring it trusts none of it more than
an API call would: every field goes through the same models and rules as API input.

* Text (name, labels, notes), identifier kinds, tags, dates, item and event fields: the API's
  bounds and patterns (`models/inputs.py`); identifier kinds are `[a-z][a-z0-9_]`, so none
  can hold `{` or `}` (a key in another customer's hash slot).
* Emails and phones are normalised as the API does (`customers/identifiers.py`), so the
  suppression list, which holds normalised identifiers, recognises an erased person however
  the line spells them.
* The record's limits (`rules.check_profile`, `rules.check_items`).
* Counters (visits, spend, …) are derived from the line's events, never read from it.
* Authors (who confirmed an allergy, added a preference or note, wrote or resolved a
  follow-up, recorded an event) become the importing key's name (`signed`): a file cannot
  put words in someone else's mouth. Consent keeps its source and time (where and when the
  person said it); against an existing record it is put by the consent rule (`merge.py`).
* Times are read as every write path reads them (`rules.event_time`: UTC when no offset).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from prefstore.customers import rules
from prefstore.customers.identifiers import fast_email, fast_phone, normalise_other
from prefstore.errors import InvalidInput
from prefstore.models.fields import (
    CustomerId,
    DateKind,
    EmailText,
    IdentifierKind,
    IdentifierValue,
    Location,
    Name,
    PhoneText,
    ShortText,
    Tag,
    explained,
)
from prefstore.models.inputs import (
    AllergyInput,
    EventInput,
    FollowUpInput,
    NoteInput,
    PreferenceInput,
)
from prefstore.models.records import (
    ChannelConsent,
    Consent,
    ConsentStatus,
    CustomerRecord,
    Event,
    FollowUp,
    History,
    Resolution,
)

_CUSTOMER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_PATH = re.compile(r"`\$([^`]*)`")
_MAX_EVENTS = 100_000
"""Events on one restore line; the line's byte limit (1 MB) binds long before this."""


_MAX_FOLLOW_UPS = rules.MAX_OPEN_FOLLOW_UPS + rules.MAX_CLOSED_FOLLOW_UPS
ConsentSource = Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_.:-]{0,63}$")]


class _ChannelConsent(msgspec.Struct, kw_only=True):
    status: ConsentStatus = "unknown"
    source: ConsentSource | None = None
    at: datetime | None = None


class _Consent(msgspec.Struct, kw_only=True):
    email: _ChannelConsent | None = None
    sms: _ChannelConsent | None = None
    phone: _ChannelConsent | None = None
    post: _ChannelConsent | None = None


class _Resolution(msgspec.Struct, forbid_unknown_fields=False, kw_only=True):
    at: datetime
    venue: Location | None = None
    note: ShortText | None = None


class _Profile(msgspec.Struct, forbid_unknown_fields=False, kw_only=True):
    """The profile part of an exported record, with the API's bounds."""

    id: CustomerId
    name: Name
    emails: Annotated[list[EmailText], Meta(max_length=rules.MAX_EMAILS)] = []
    phones: Annotated[list[PhoneText], Meta(max_length=rules.MAX_PHONES)] = []
    identifiers: Annotated[
        dict[IdentifierKind, IdentifierValue], Meta(max_length=rules.MAX_IDENTIFIERS)
    ] = {}
    tags: Annotated[list[Tag], Meta(max_length=rules.MAX_TAGS)] = []
    dates: Annotated[dict[DateKind, date], Meta(max_length=10)] = {}
    city: Location | None = None
    allergies: Annotated[list[dict[str, Any]], Meta(max_length=rules.MAX_ALLERGIES)] = []
    preferences: Annotated[list[dict[str, Any]], Meta(max_length=rules.MAX_PREFERENCES)] = []
    notes: Annotated[list[dict[str, Any]], Meta(max_length=rules.MAX_NOTES)] = []
    follow_ups: Annotated[list[dict[str, Any]], Meta(max_length=_MAX_FOLLOW_UPS)] = []
    consent: _Consent | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


_ALLERGY = ("label", "severity", "note")
_PREFERENCE = ("label", "sentiment", "category", "strength", "note", "source", "over")
_FOLLOW_UP = ("text", "visibility", "due", "expires_at", "venue")
_NOTE = ("text", "visibility", "venue", "venue_only")
_EVENT = ("type", "at", "location", "channel", "items", "amount", "currency", "note", "venue")


def _picked(item: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {k: item[k] for k in names if item.get(k) is not None}


def _convert(value: Any, kind: Any, field: str) -> Any:
    try:
        return msgspec.convert(value, kind)
    except msgspec.ValidationError as exc:
        message = str(exc)
        found = _PATH.search(message)
        path = found[1] if found else ""
        reason = explained(message.partition(" - at `")[0])
        raise InvalidInput(f"{field}{path}", reason) from None


def validated(
    obj: dict[str, Any], region: str, now: datetime
) -> tuple[CustomerRecord, list[Event]]:
    """An export line as a record and its events, checked as API input is (see the module
    docstring). Authors are left empty: `signed` fills them with the importing key's name."""
    customer = obj.get("customer")
    if not isinstance(customer, dict):
        raise InvalidInput("customer", "expected an object")
    if not isinstance(customer.get("id"), str) or not _CUSTOMER_ID.match(customer["id"]):
        raise InvalidInput("customer.id", "letters, digits, '.', '_' or '-', 1-64 characters")
    profile = _convert(customer, _Profile, "customer")
    created = rules.event_time(profile.created_at, "customer.created_at") or now
    record = CustomerRecord(
        id=profile.id,
        name=rules.clean_text(profile.name, "customer.name"),
        emails=list(
            dict.fromkeys(
                fast_email(e, f"customer.emails[{i}]") for i, e in enumerate(profile.emails)
            )
        ),
        phones=list(
            dict.fromkeys(
                fast_phone(p, region, f"customer.phones[{i}]") for i, p in enumerate(profile.phones)
            )
        ),
        identifiers={
            k: normalise_other(k, v, f"customer.identifiers.{k}")
            for k, v in profile.identifiers.items()
        },
        tags=list(dict.fromkeys(t.strip().casefold() for t in profile.tags)),
        dates=dict(profile.dates),
        city=" ".join((profile.city or "").split()) or None,
        created_at=created,
        updated_at=rules.event_time(profile.updated_at, "customer.updated_at") or created,
    )
    _items(record, profile, created)
    record.follow_ups = _follow_ups(profile, created)
    record.consent = _consent(profile.consent)
    events = _events(obj.get("events") or [], now)
    record.history = History()
    for event in events:
        rules.count_event(record.history, event)
    return record, events


def _items(record: CustomerRecord, profile: _Profile, now: datetime) -> None:
    """The record's allergies, preferences and notes, each built by the record rules."""
    for i, raw in enumerate(profile.allergies):
        field = f"customer.allergies[{i}]"
        given = _convert(_picked(raw, _ALLERGY), AllergyInput, field)
        at = rules.event_time(_time(raw.get("confirmed_at"), field), field) or now
        with _within(field):
            allergy = rules.allergy_from(given, "", at, item_id=_item_id(raw, field))
        record.allergies = rules.put_allergy(record.allergies, allergy).items
    for i, raw in enumerate(profile.preferences):
        field = f"customer.preferences[{i}]"
        given = _convert(_picked(raw, _PREFERENCE), PreferenceInput, field)
        at = rules.event_time(_time(raw.get("added_at"), field), field) or now
        with _within(field):
            pref = rules.preference_from(given, "", at, item_id=_item_id(raw, field))
        record.preferences = rules.put_preference(record.preferences, pref).items
    for i, raw in enumerate(profile.notes):
        field = f"customer.notes[{i}]"
        given = _convert(_picked(raw, _NOTE), NoteInput, field)
        at = rules.event_time(_time(raw.get("at"), field), field) or now
        with _within(field):
            note = rules.note_from(given, "", at, item_id=_item_id(raw, field))
        record.notes = rules.append_note(record.notes, note).items
    rules.check_items(record.allergies, record.preferences, record.notes)


@contextmanager
def _within(field: str) -> Iterator[None]:
    """A rule's refusal names its place in the line (`customer.preferences[0].over`)."""
    try:
        yield
    except InvalidInput as exc:
        if exc.field.startswith("customer."):
            raise
        raise InvalidInput(f"{field}.{exc.field}", exc.reason) from None


def _follow_ups(profile: _Profile, now: datetime) -> list[FollowUp]:
    """The record's follow-ups, open and closed, as the export has them (an expired one
    too: it is history), checked as API input."""
    found: list[FollowUp] = []
    for i, raw in enumerate(profile.follow_ups):
        field = f"customer.follow_ups[{i}]"
        given = _convert(_picked(raw, _FOLLOW_UP), FollowUpInput, field)
        resolved = raw.get("resolved")
        if resolved is not None:
            done = _convert(resolved, _Resolution, f"{field}.resolved")
            at = rules.event_time(done.at, f"{field}.resolved.at") or now
            note = rules.check_text(done.note, f"{field}.resolved.note") if done.note else None
            resolved = Resolution(at=at, venue=done.venue, note=note)
        follow_up_id = _item_id(raw, field)
        if any(f.id == follow_up_id for f in found):
            raise InvalidInput(f"{field}.id", "repeats an earlier follow-up's id")
        found.append(
            FollowUp(
                id=follow_up_id,
                text=rules.clean_text(given.text, f"{field}.text"),
                visibility=given.visibility,
                created_at=rules.event_time(_time(raw.get("created_at"), field), field) or now,
                due=given.due,
                expires_at=rules.event_time(given.expires_at, f"{field}.expires_at"),
                resolved=resolved,
                venue=given.venue,
            )
        )
    return found


def _consent(given: _Consent | None) -> Consent:
    consent = Consent()
    for channel in ("email", "sms", "phone", "post"):
        stated: _ChannelConsent | None = getattr(given, channel, None)
        if stated is not None and stated.status != "unknown":
            at = rules.event_time(stated.at, f"customer.consent.{channel}.at")
            setattr(
                consent, channel, ChannelConsent(**{**msgspec.structs.asdict(stated), "at": at})
            )
    return consent


def _item_id(raw: dict[str, Any], field: str) -> str:
    value = raw.get("id")
    # ASCII letters and digits: the ids this service makes (hex), nothing a key can hide in.
    if isinstance(value, str) and not value.isascii():
        value = None
    if not isinstance(value, str) or not 0 < len(value) <= 64 or not value.isalnum():
        raise InvalidInput(f"{field}.id", "an item id of 1-64 letters or digits")
    return value


def _time(value: Any, field: str) -> datetime | None:
    return _convert(value, datetime | None, field) if value is not None else None


def _events(raw: Any, now: datetime) -> list[Event]:
    if not isinstance(raw, list) or len(raw) > _MAX_EVENTS:
        raise InvalidInput("events", f"a list of at most {_MAX_EVENTS} events")
    events: list[Event] = []
    for i, item in enumerate(raw):
        field = f"events[{i}]"
        if not isinstance(item, dict) or not item.get("id"):
            raise InvalidInput(field, "every event needs its operation id")
        given = _convert({**_picked(item, _EVENT), "operation_id": item["id"]}, EventInput, field)
        try:
            events.append(rules.event_from(given, item["id"], "", now))
        except InvalidInput as exc:
            raise InvalidInput(f"{field}.{exc.field}", exc.reason) from None
    return events


def signed(
    record: CustomerRecord, events: list[Event], actor: str
) -> tuple[CustomerRecord, list[Event]]:
    """The record and events with every author the importing key's name."""
    new = msgspec.structs.replace(
        record,
        allergies=[msgspec.structs.replace(a, confirmed_by=actor) for a in record.allergies],
        preferences=[msgspec.structs.replace(p, added_by=actor) for p in record.preferences],
        notes=[msgspec.structs.replace(n, author=actor) for n in record.notes],
        follow_ups=[_signed_follow_up(f, actor) for f in record.follow_ups],
    )
    return new, [msgspec.structs.replace(e, recorded_by=actor) for e in events]


def _signed_follow_up(follow_up: FollowUp, actor: str) -> FollowUp:
    resolved = follow_up.resolved
    if resolved is not None:
        resolved = msgspec.structs.replace(resolved, by=actor)
    return msgspec.structs.replace(follow_up, created_by=actor, resolved=resolved)


def restore_clock() -> datetime:
    """The time given to restored items that carry none."""
    return datetime.now(UTC)
