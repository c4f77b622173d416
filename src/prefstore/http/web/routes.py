"""The quick-entry page's server side: sign-in, search, card, shorthand preview/save/undo.

These routes are the page's own (not the public `/v1` API): a staff session cookie instead
of an API key, CSRF tokens on unsafe methods, and out of the OpenAPI document. They are
given the same domain objects as the API, by dependency injection (`http/deps.py`).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, Router, delete, get, post
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody, QueryParameter

from prefstore.customers import quick_entry, shorthand
from prefstore.customers.desk import UndoPointer
from prefstore.customers.venues import acting_venue
from prefstore.errors import Conflict, Forbidden, InvalidInput, NotFound
from prefstore.http.auth import authenticate, client_address
from prefstore.http.deps import AllServices, Config, Index, Reader, StaffDesk, Store
from prefstore.http.web import session
from prefstore.http.web.actions import ACTION_ROUTES
from prefstore.http.web.session import require_staff, staff_of
from prefstore.models.fields import CustomerId, EmailText, Name, PhoneText, VenueName
from prefstore.models.inputs import CustomerCreate
from prefstore.models.results import SearchResult
from prefstore.models.views import EventPage
from prefstore.search.text import fold

AnyRequest = Request[Any, Any, State]
STATIC_DIR = Path(__file__).parent / "static"
UNDO = "undo"
RECENT_EVENTS = 5

# The page itself: no inline script or style anywhere, so the policy can forbid both.
PAGE_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


# ---------------------------------------------------------------- bodies and answers
class _Body(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class SignIn(_Body):
    key: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    venue: VenueName | None = None
    """Where the staff member works, for a key bound to no venue (a bound key's venue is
    theirs; naming another is refused)."""


class EntryText(_Body):
    text: Annotated[str, msgspec.Meta(max_length=shorthand.MAX_TEXT)]


class BoundEntry(EntryText):
    """A line to save, bound to the card it was typed on: at a queue the next guest's card
    may be open by the time Enter lands, and a line must never be saved onto them."""

    customer_id: CustomerId
    """The guest whose card showed when the line was typed; refused (409) unless it is the
    guest in the path."""
    created_at: datetime | None = None
    """That card's `created_at`: refused (409) if the id now names a re-created record."""


class ShownCard(_Body):
    customer_id: CustomerId
    """The guest whose card is shown: undo is refused (409) if the last entry was on
    another one, so a press meant for this card never changes someone else's."""


class Owner(msgspec.Struct, kw_only=True):
    """Who holds a phone or email: what the new-guest form needs to offer that guest."""

    id: str
    name: str


class NewCustomer(_Body):
    name: Name
    phone: PhoneText | None = None
    email: EmailText | None = None


class SessionInfo(msgspec.Struct, kw_only=True):
    signed_in: bool
    name: str | None = None
    expires_at: float | None = None
    venue: str | None = None


class Preview(msgspec.Struct, kw_only=True):
    effects: list[quick_entry.Effect]
    note: str | None
    warnings: list[str]


class Saved(msgspec.Struct, kw_only=True):
    card: msgspec.Raw
    effects: list[quick_entry.Effect]
    note: str | None
    undo: bool
    """True when there is something to undo (the entry changed the record)."""


class Reverted(msgspec.Struct, kw_only=True):
    card: msgspec.Raw


# ---------------------------------------------------------------- the page
@get("/", include_in_schema=False, sync_to_thread=False)
def page() -> Response[bytes]:
    """The single page. Static HTML: the key never appears in it, data comes by fetch."""
    return Response(
        (STATIC_DIR / "index.html").read_bytes(),
        media_type="text/html; charset=utf-8",
        headers=PAGE_HEADERS,
    )


# ---------------------------------------------------------------- sign in / out
@get("/session")
async def who_am_i(request: AnyRequest, settings: Config) -> SessionInfo:
    staff = await session.current(request, settings.session_seconds)
    if staff is None:
        return SessionInfo(signed_in=False)
    return SessionInfo(
        signed_in=True, name=staff.name, expires_at=staff.expires_at, venue=staff.venue
    )


@post("/session", status_code=200)
async def sign_in(
    request: AnyRequest, services: AllServices, settings: Config, data: JSONBody[SignIn]
) -> SessionInfo:
    # The API's own key check: cached keys, and failed sign-ins limited per client address.
    principal = await authenticate(services, data.key.strip(), client_address(request.scope))
    if "write" not in principal.scopes:
        raise Forbidden("this key can only look cards up; staff sign in with a write key")
    venue = acting_venue(principal.venue, data.venue, settings.venues)
    lifetime = settings.session_seconds
    staff = session.start(request, principal.key_id, principal.name, lifetime, venue)
    return SessionInfo(
        signed_in=True, name=staff.name, expires_at=staff.expires_at, venue=staff.venue
    )


@delete("/session", status_code=204)
async def sign_out(request: AnyRequest) -> None:
    request.clear_session()


# ---------------------------------------------------------------- find and read
@get("/search", guards=[require_staff])
async def search(
    search_index: Index,
    q: Annotated[str, QueryParameter(min_length=1, max_length=100)],
    limit: Annotated[int, QueryParameter(ge=1, le=50)] = 8,
) -> SearchResult:
    # The same in-process index the /v1/search API uses, kept current from the change feed.
    if not fold(q) and "@" not in q:
        return SearchResult(query=q, hits=[])  # typing "+" or "(" is not worth an error
    return SearchResult(query=q, hits=await search_index.search(q, limit, "staff"))


@get("/customers/{customer_id:str}", guards=[require_staff])
async def card(reader: Reader, customer_id: FromPath[str]) -> Response[bytes]:
    found = await reader.by_id(customer_id, "staff")
    if found is None:
        raise NotFound(f"no customer {customer_id}")
    return Response(found.body, media_type="application/json")


@get("/customers/{customer_id:str}/events", guards=[require_staff])
async def recent_events(store: Store, customer_id: FromPath[str]) -> EventPage:
    return await store.list_events(customer_id, limit=RECENT_EVENTS)


@get("/owner", guards=[require_staff])
async def owner(
    reader: Reader,
    phone: Annotated[str | None, QueryParameter(max_length=40)] = None,
    email: Annotated[str | None, QueryParameter(max_length=254)] = None,
) -> Owner:
    """Who already holds this phone or email (the new-guest form's 409 names only the
    field). Staff sign in with write keys, which see names and contacts in full."""
    if (phone is None) == (email is None):
        raise InvalidInput("phone", "give exactly one of phone or email")
    kind, value = ("phone", phone) if phone is not None else ("email", email or "")
    found = await reader.by_identifier(kind, value, "staff")
    if found is None:
        raise NotFound(f"no customer holds this {kind}")
    return msgspec.json.decode(found.body, type=Owner)


@post("/customers", guards=[require_staff], status_code=201)
async def new_customer(
    request: AnyRequest, store: Store, data: JSONBody[NewCustomer]
) -> Response[bytes]:
    create = CustomerCreate(
        name=data.name,
        phones=[data.phone] if data.phone else [],
        emails=[data.email] if data.email else [],
    )
    written = await store.create(create, actor=staff_of(request).name)
    return Response(written.card.staff, media_type="application/json", status_code=201)


# ---------------------------------------------------------------- add, preview, undo
@post("/customers/{customer_id:str}/preview", guards=[require_staff], status_code=200)
async def preview(store: Store, customer_id: FromPath[str], data: JSONBody[EntryText]) -> Preview:
    entry = shorthand.parse(data.text)
    record = await store.get_record(customer_id)
    effects = quick_entry.effects(record, entry)
    return Preview(effects=effects, note=entry.note, warnings=entry.warnings)


@post("/customers/{customer_id:str}/entries", guards=[require_staff], status_code=201)
async def add_entry(
    request: AnyRequest, desk: StaffDesk, customer_id: FromPath[str], data: JSONBody[BoundEntry]
) -> Saved:
    if data.customer_id != customer_id:
        raise Conflict(
            "this line was typed on another guest's card: nothing was saved", field="customer_id"
        )
    entry = shorthand.parse(data.text)
    if entry.empty:
        raise InvalidInput("text", "nothing to save: type +like -dislike !allergy #tag or a note")
    staff = staff_of(request)
    saved = await desk.add(
        customer_id,
        entry,
        key_id=staff.key_id,
        actor=staff.name,
        created_at=data.created_at,
        venue=staff.venue,
    )
    if saved.pointer is not None:
        # Only a pointer: what the entry said about the person stays in their own keys.
        session.put_session_value(request, UNDO, msgspec.to_builtins(saved.pointer))
    return Saved(
        card=msgspec.Raw(saved.written.card.staff),
        effects=saved.effects,
        note=entry.note,
        undo=saved.pointer is not None,
    )


@post("/undo", guards=[require_staff], status_code=200)
async def undo_last(request: AnyRequest, desk: StaffDesk, data: JSONBody[ShownCard]) -> Reverted:
    raw = session.session_value(request, UNDO)
    try:
        pointer = msgspec.convert(raw, UndoPointer) if raw is not None else None
    except msgspec.ValidationError:
        pointer = None  # a session from before undo pointers: nothing it can undo
    if pointer is None:
        raise NotFound("nothing to undo")
    if pointer.customer_id != data.customer_id:
        # Kept, not spent: it is still the undo of that guest's card.
        raise Conflict("the last entry was on another guest's card: open it to undo it")
    # Spent whatever the outcome: a refused undo is not offered again.
    session.put_session_value(request, UNDO, None)
    staff = staff_of(request)
    written = await desk.undo(pointer, key_id=staff.key_id, actor=staff.name)
    return Reverted(card=msgspec.Raw(written.card.staff))


def web_router(session_max_age: int, cookie_secure: bool) -> Router:
    """Every route under /ui: the staff session middleware applies here and nowhere else."""
    return Router(
        path="/ui",
        route_handlers=[
            who_am_i,
            sign_in,
            sign_out,
            search,
            card,
            recent_events,
            owner,
            new_customer,
            preview,
            add_entry,
            undo_last,
            *ACTION_ROUTES,
        ],
        middleware=[session.session_config(session_max_age, cookie_secure).middleware],
        include_in_schema=False,
    )
