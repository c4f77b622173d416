"""Venues on the API: the venue a write acts at, the events filter, and a customer "here".

A write that records a venue (an event, a note, a follow-up, a follow-up resolved) acts at
the venue its body names, else at its key's (`at_venue`); a key bound to a venue that names
another is refused with 403 naming `venue` (`customers/venues.py`). "Here" is read from the
record, off the lookup's fast path, so the card lookup costs what it did.
"""

from __future__ import annotations

from typing import Annotated, TypeVar

import msgspec
from litestar import get
from litestar.params import PathParameter, QueryParameter

from prefstore.config import VENUE_PATTERN, Settings
from prefstore.customers.access import Principal
from prefstore.customers.venues import acting_venue, check_venue, here
from prefstore.errors import Forbidden, InvalidInput
from prefstore.http.auth import require_scope
from prefstore.http.deps import Caller, Config, Store
from prefstore.http.openapi import problems
from prefstore.models.inputs import (
    CustomerCreate,
    EventInput,
    FollowUpInput,
    FollowUpResolve,
    NoteInput,
)
from prefstore.models.views import HereCard

T = TypeVar("T", NoteInput, EventInput, FollowUpInput, FollowUpResolve)


def _venue_query(description: str) -> object:
    return QueryParameter(
        max_length=40,
        description=description,
        schema_extra={"pattern": VENUE_PATTERN},  # checked by `check_venue` (422 naming it)
    )


VenueFilter = Annotated[
    str | None, _venue_query("Only the events recorded at this venue (e.g. `soho`)")
]
VenueAsked = Annotated[
    str | None,
    _venue_query(
        "The venue (e.g. `soho`); default: the key's. A key bound to a venue may ask only "
        "for its own (403 naming `venue`)."
    ),
]


def at_venue(who: Principal, data: T, settings: Settings) -> T:
    """`data` as written at the venue the request acts at (`acting_venue`)."""
    venue = acting_venue(who.venue, data.venue, settings.venues)
    return data if venue == data.venue else msgspec.structs.replace(data, venue=venue)


def notes_at_venue(who: Principal, data: CustomerCreate, settings: Settings) -> CustomerCreate:
    """A new customer's notes, each written at the venue the request acts at."""
    notes = []
    for i, note in enumerate(data.notes):
        try:
            notes.append(at_venue(who, note, settings))
        except Forbidden as exc:
            raise Forbidden(exc.detail, f"notes[{i}].venue") from None
        except InvalidInput as exc:
            raise InvalidInput(f"notes[{i}].{exc.field}", exc.reason) from None
    return msgspec.structs.replace(data, notes=notes) if notes else data


def venue_filter(venue: str | None) -> str | None:
    """A well-formed venue name to filter by (any: events keep a venue since unlisted)."""
    return None if venue is None else check_venue(venue, ())


@get(
    "/v1/customers/{customer_id:str}/here",
    guards=[require_scope],
    opt={"scope": "lookup"},
    tags=["customers"],
    summary="The customer at one venue: visits, favourite items and its venue-only notes",
    description=(
        "The card is chain-wide (allergies, follow-ups, likes, history everywhere); this is "
        "what the customer did at one venue and the notes kept for it (`venue_only`). "
        "Staff-only notes need the `write` scope, as on the card."
    ),
    responses=problems(400, 404, 422),
)
async def customer_here(
    store: Store,
    settings: Config,
    who: Caller,
    customer_id: Annotated[str, PathParameter(max_length=64)],
    venue: VenueAsked = None,
) -> HereCard:
    at = acting_venue(who.venue, venue, settings.venues)
    if at is None:
        raise InvalidInput("venue", "name the venue: this key is bound to none")
    record = await store.get_record(customer_id)
    return here(record, at, staff=who.view == "staff", notes_limit=settings.notes_on_card)


VENUE_ROUTES = [customer_here]
