"""Venues of a multi-location deployment: which venue a request acts at, and a customer as
seen at one venue ("here").

A deployment lists its venues in `PREFSTORE_VENUES` (none listed: any name of the
`VenueName` form). An API key may be bound to one (`prefstore keys create --venue soho`);
staff on the page act at their key's venue, or at the one chosen at sign-in when the key
has none. Events, notes, follow-ups and follow-up resolutions record the venue they were
written at. A key bound to a venue acts only there: naming another is refused (403 naming
`venue`), reading another venue's "here" included, since venue-only notes are that venue's.

The card stays chain-wide (allergies, follow-ups, likes, history everywhere); what a
customer did at one venue and the notes kept for it are `here`, read from the record (one
`GET`, off the lookup's fast path: the pre-rendered card bytes are not touched).
"""

from __future__ import annotations

import re

import msgspec

from prefstore.config import VENUE_PATTERN
from prefstore.customers.cards import TOP_ITEMS_ON_CARD
from prefstore.errors import Forbidden, InvalidInput
from prefstore.models.records import CustomerRecord, Note, VenueHistory
from prefstore.models.views import HereCard, TopItem


def check_venue(name: str, known: tuple[str, ...], field: str = "venue") -> str:
    """`name` if it is a venue of the deployment (any well-formed name when none are
    listed); else InvalidInput naming `field`."""
    if not re.fullmatch(VENUE_PATTERN, name):
        raise InvalidInput(field, "a venue is 1-40 lower-case letters, digits, '-' or '_'")
    if known and name not in known:
        raise InvalidInput(field, f"not a venue of this deployment ({', '.join(known)})")
    return name


def acting_venue(bound: str | None, given: str | None, known: tuple[str, ...]) -> str | None:
    """The venue a request acts at: the one it names, else its key's (`bound`). A key bound
    to a venue may name only its own: Forbidden naming `venue`."""
    if given is None or given == bound:
        return bound
    if bound is not None:
        raise Forbidden(
            f"this key is bound to venue '{bound}': it cannot act for '{given}'", field="venue"
        )
    return check_venue(given, known)


def visible_at(record: CustomerRecord, venue: str | None) -> CustomerRecord:
    """`record` with only the venue-only notes of `venue` (none when `venue` is None): what
    a caller at that venue may read of it (recall)."""
    notes = [n for n in record.notes if not n.venue_only or (venue and n.venue == venue)]
    if len(notes) == len(record.notes):
        return record
    return msgspec.structs.replace(record, notes=notes)


def here(record: CustomerRecord, venue: str, *, staff: bool, notes_limit: int) -> HereCard:
    """The customer at `venue`: its events' summary, its favourite items, and the notes kept
    for it (`venue_only`; staff-only ones only when `staff`), newest first."""
    seen = record.history.venues.get(venue) or VenueHistory()
    top = sorted(seen.item_counts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_ITEMS_ON_CARD]
    return HereCard(
        customer_id=record.id,
        venue=venue,
        visits=seen.visits,
        purchases=seen.purchases,
        events=seen.events,
        last_visit=seen.last_visit,
        last_event=seen.last_event,
        top_items=[TopItem(item=item, count=count) for item, count in top],
        notes=_venue_notes(record.notes, venue, staff, notes_limit),
    )


def _venue_notes(notes: list[Note], venue: str, staff: bool, limit: int) -> list[Note]:
    kept = [
        n for n in notes if n.venue_only and n.venue == venue and (staff or n.visibility == "all")
    ]
    return list(reversed(kept[-limit:])) if limit else []
