"""The page's actions on a card beside the shorthand: resolve a follow-up, confirm a
suggested like, the guest "here" (at the staff member's venue), and a party's card.

Like every page route: a staff session, CSRF on unsafe methods, out of the OpenAPI
document; the same domain calls as the API (`store.resolve_follow_up`,
`store.add_preference`, `venues.here`, `party.find`), the staff member's name as the author
and their venue as where it happened.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody

from prefstore.customers.party import find, party_card
from prefstore.customers.venues import here
from prefstore.errors import InvalidInput
from prefstore.http.deps import Config, Reader, Store
from prefstore.http.web.session import require_staff, staff_of
from prefstore.models.fields import CustomerId, Label, ShortText
from prefstore.models.inputs import MAX_PARTY, FollowUpResolve, PreferenceInput
from prefstore.models.views import HereCard, PartyCard

AnyRequest = Request[Any, Any, State]


class _Body(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class Resolve(_Body):
    note: ShortText | None = None


class Confirm(_Body):
    """A suggested like staff confirmed: added as a like, by them."""

    label: Label


class Party(_Body):
    members: Annotated[list[CustomerId], msgspec.Meta(min_length=1, max_length=MAX_PARTY)]
    """The guests added to the party tray, by id."""


def _card(body: bytes, status: int = 200) -> Response[bytes]:
    return Response(body, media_type="application/json", status_code=status)


@post(
    "/customers/{customer_id:str}/follow-ups/{follow_up_id:str}/resolve",
    guards=[require_staff],
    status_code=200,
)
async def resolve_follow_up(
    request: AnyRequest,
    store: Store,
    customer_id: FromPath[str],
    follow_up_id: FromPath[str],
    data: JSONBody[Resolve | None] = None,
) -> Response[bytes]:
    staff = staff_of(request)
    written = await store.resolve_follow_up(
        customer_id,
        follow_up_id,
        FollowUpResolve(note=data.note if data else None, venue=staff.venue),
        actor=staff.name,
        venue=staff.venue,
        expect_version=None,
    )
    return _card(written.card.staff)


@post("/customers/{customer_id:str}/likes", guards=[require_staff], status_code=201)
async def confirm_like(
    request: AnyRequest, store: Store, customer_id: FromPath[str], data: JSONBody[Confirm]
) -> Response[bytes]:
    given = PreferenceInput(label=data.label, sentiment="likes", source="staff")
    written = await store.add_preference(
        customer_id, given, actor=staff_of(request).name, expect_version=None
    )
    return _card(written.card.staff, 201)


@get("/customers/{customer_id:str}/here", guards=[require_staff])
async def customer_here(
    request: AnyRequest, store: Store, settings: Config, customer_id: FromPath[str]
) -> HereCard:
    venue = staff_of(request).venue
    if venue is None:
        raise InvalidInput("venue", "this sign-in is at no venue")
    record = await store.get_record(customer_id)
    return here(record, venue, staff=True, notes_limit=settings.notes_on_card)


@post("/party", guards=[require_staff], status_code=200)
async def party(reader: Reader, data: JSONBody[Party]) -> PartyCard:
    found = await find(reader, [{"id": member} for member in data.members], "staff")
    return party_card(found)


ACTION_ROUTES = [resolve_follow_up, confirm_like, customer_here, party]
