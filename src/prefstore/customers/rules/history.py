"""The record rule for events (pure): an event built from its input, and counted into the
record's running history: visits, purchases, spend, and per item how often and when last it
was seen (the evidence a like or dislike shows on the card, `customers/evidence.py`)."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from prefstore.customers.rules.limits import event_time
from prefstore.models.inputs import EventInput
from prefstore.models.records import Event, History, VenueHistory

__all__ = [
    "MAX_DISTINCT_ITEMS",
    "MAX_VENUES",
    "MAX_VENUE_ITEMS",
    "as_utc",
    "count_event",
    "event_from",
    "history_copy",
]

MAX_DISTINCT_ITEMS = 500
"""Item counters kept per customer; the rarest are dropped past this, bounding the record."""
MAX_VENUES = 50
"""Venues whose summary a customer's history keeps."""
MAX_VENUE_ITEMS = 100
"""Item counters kept per venue."""


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
        venue=data.venue,
    )


def count_event(history: History, event: Event) -> None:
    """Fold one event into the running history summary (and its venue's, when it has one).
    Times are compared as UTC: a record written before `event_time` existed may hold a time
    without an offset."""
    event.at = as_utc(event.at)
    history.last_visit = as_utc(history.last_visit)
    history.last_event = as_utc(history.last_event)
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
    counts, last = history.item_counts, history.item_last_seen
    for item in event.items:
        key = item.casefold()
        counts[key] = counts.get(key, 0) + 1
        seen = as_utc(last.get(key))
        if event.at and (seen is None or event.at > seen):
            last[key] = event.at
    if len(counts) > MAX_DISTINCT_ITEMS:
        keep = sorted(counts.items(), key=lambda kv: -kv[1])[:MAX_DISTINCT_ITEMS]
        history.item_counts = dict(keep)
        history.item_last_seen = {k: v for k, v in last.items() if k in history.item_counts}
    if event.venue:
        _count_at_venue(history, event, event.venue)


def _count_at_venue(history: History, event: Event, venue: str) -> None:
    """The event into its venue's summary (the card's "here"); at most `MAX_VENUES` venues
    per customer (the one seen longest ago goes) and `MAX_VENUE_ITEMS` items per venue."""
    here = history.venues.get(venue)
    if here is None:
        if len(history.venues) >= MAX_VENUES:
            oldest = min(history.venues, key=lambda v: _seen(history.venues[v]))
            del history.venues[oldest]
        here = history.venues[venue] = VenueHistory()
    here.events += 1
    here.visits += event.type == "visit"
    here.purchases += event.type == "purchase"
    here.last_event = _later(as_utc(here.last_event), event.at)
    if event.type == "visit":
        here.last_visit = _later(as_utc(here.last_visit), event.at)
    counts = here.item_counts
    for item in event.items:
        counts[item.casefold()] = counts.get(item.casefold(), 0) + 1
    if len(counts) > MAX_VENUE_ITEMS:
        here.item_counts = dict(sorted(counts.items(), key=lambda kv: -kv[1])[:MAX_VENUE_ITEMS])


def _seen(here: VenueHistory) -> datetime:
    return as_utc(here.last_event) or datetime.min.replace(tzinfo=UTC)


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    return max(a, b) if a is not None and b is not None else a or b


def history_copy(history: History) -> History:
    """A history `count_event` may fold into while `history` stays as it was."""
    return msgspec.structs.replace(
        history,
        item_counts=dict(history.item_counts),
        item_last_seen=dict(history.item_last_seen),
        venues={
            name: msgspec.structs.replace(here, item_counts=dict(here.item_counts))
            for name, here in history.venues.items()
        },
    )


def as_utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value
