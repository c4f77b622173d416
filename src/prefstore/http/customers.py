"""Routes for customers, their safety track, preferences, notes and events.

Every write route takes an `Idempotency-Key`: sent again with the same key, the request is
answered with its first outcome (same status and body, plus `Idempotent-Replayed: true`) and
applied once; the same key with a different request is refused (422). Keys are kept per
customer for 24 hours (`customers/idempotency.py`).
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, get, patch, post
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import ResponseSpec
from litestar.params import (
    FromPath,
    HeaderParameter,
    JSONBody,
    PathParameter,
    QueryParameter,
)

from prefstore.customers.transaction import Written
from prefstore.http.auth import require_scope
from prefstore.http.deps import Caller, Config, Feed, Store
from prefstore.http.openapi import problems
from prefstore.http.responses import IF_MATCH_FORM, parse_if_match, replayed, written_response
from prefstore.http.venues import VenueFilter, at_venue, notes_at_venue, venue_filter
from prefstore.models.inputs import (
    AllergyChange,
    AllergyInput,
    CustomerCreate,
    CustomerPatch,
    EventInput,
    NoteInput,
    PreferenceInput,
)
from prefstore.models.views import (
    AuditTrail,
    Card,
    CustomerExport,
    Erased,
    EventPage,
    EventRecorded,
)

IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        required=False,
        description="The card's ETag the client last saw: the write is refused (412) if the "
        "card has changed since",
        schema_extra={"pattern": IF_MATCH_FORM},
    ),
]
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        max_length=128,
        pattern=r"^[A-Za-z0-9._:-]{1,128}$",
        description=(
            "Names this request: sent again with the same key (after a timeout or a 503), "
            "it is answered with the first outcome and applied once; the same key with a "
            "different request is refused (422). Kept 24 hours. For an event it is also the "
            "event's operation id when the body has none."
        ),
    ),
]
ItemId = Annotated[str, PathParameter(max_length=64)]

READ = {"scope": "lookup"}
WRITE = {"scope": "write"}
ADMIN = {"scope": "admin"}
# What each kind of route answers besides its success (`http/openapi.py` adds the keyed ones).
CHANGE = problems(400, 404, 409, 412, 413, 422)
"""A write with a JSON body to an existing customer."""
REMOVE = problems(400, 404, 409, 412, 422)
CREATE = problems(400, 409, 413, 422)
RECORD = problems(400, 404, 409, 413, 422)
PAGE = problems(400, 404, 422)
MISSING = problems(404)
KNOWN = ResponseSpec(Card, description="Known already, at this strength or stronger: unchanged")
RECORDED = ResponseSpec(EventRecorded, description="Recorded before: nothing counted twice")


def _adds(path: str, summary: str, responses: dict[int, ResponseSpec] = CHANGE) -> HTTPRouteHandler:
    """A route that adds an item to a customer's record: 201 with the card."""
    return post(path, opt=WRITE, status_code=201, summary=summary, responses=responses)


def _removes(path: str, summary: str) -> HTTPRouteHandler:
    """A route that removes an item from a customer's record: 200 with the card."""
    return delete(path, opt=WRITE, status_code=200, summary=summary, responses=REMOVE)


Cursor = Annotated[
    str | None,
    QueryParameter(
        max_length=64,
        description="`next_cursor` of the page before",
        schema_extra={"pattern": r"^[0-9]{1,20}:[0-9]{1,9}$"},  # documented, not checked
    ),
]


class CustomerController(Controller):
    path = "/v1/customers"
    guards = [require_scope]
    tags = ["customers"]

    @post("/", opt=WRITE, status_code=201, summary="Create a customer", responses=CREATE)
    async def create_customer(
        self,
        store: Store,
        who: Caller,
        settings: Config,
        data: JSONBody[CustomerCreate],
        idempotency_key: IdempotencyKey,
    ) -> Response[Card]:
        data = notes_at_venue(who, data, settings)
        written = await store.create(data, actor=who.name, idempotency_key=idempotency_key)
        response = _card(written, who, status=201)
        response.headers["location"] = f"/v1/customers/{written.card.customer_id}"
        return response  # type: ignore[return-value]

    @patch("/{customer_id:str}", opt=WRITE, summary="Change profile fields", responses=CHANGE)
    async def update_customer(
        self,
        store: Store,
        who: Caller,
        customer_id: FromPath[str],
        data: JSONBody[CustomerPatch],
        if_match: IfMatch,
        idempotency_key: IdempotencyKey,
    ) -> Response[Card]:
        written = await store.patch(
            customer_id,
            data,
            actor=who.name,
            expect_version=parse_if_match(if_match),
            idempotency_key=idempotency_key,
        )
        return _card(written, who)  # type: ignore[return-value]

    @delete(
        "/{customer_id:str}",
        opt=ADMIN,
        status_code=200,
        summary="Erase the person (GDPR): every trace, plus a suppression entry",
        responses=problems(404, 409),
    )
    async def erase_customer(self, store: Store, who: Caller, customer_id: FromPath[str]) -> Erased:
        return await store.erase(customer_id, actor=who.name)

    @get(
        "/{customer_id:str}/export",
        opt=ADMIN,
        summary="Everything held on one person",
        responses=MISSING,
    )
    async def export_customer(self, store: Store, customer_id: FromPath[str]) -> CustomerExport:
        return await store.export(customer_id)

    @get(
        "/{customer_id:str}/audit",
        opt=ADMIN,
        summary="Who changed what, and when (no PII); kept after erasure",
        responses=problems(400),
    )
    async def audit_trail(
        self,
        feed: Feed,
        customer_id: FromPath[str],
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
    ) -> AuditTrail:
        return await feed.history(customer_id, limit=limit)

    # -------------------------------------------------------------- safety track and likes
    @_adds("/{customer_id:str}/allergies", "Add an allergy", responses={**CHANGE, 200: KNOWN})
    async def add_allergy(
        self,
        store: Store,
        who: Caller,
        customer_id: FromPath[str],
        data: JSONBody[AllergyInput],
        if_match: IfMatch,
        idempotency_key: IdempotencyKey,
    ) -> Response[Card]:
        written = await store.add_allergy(
            customer_id,
            data,
            actor=who.name,
            expect_version=parse_if_match(if_match),
            idempotency_key=idempotency_key,
        )
        # An allergy already known at this strength or stronger is left as it is: 200.
        status = 201 if written.changed else 200
        return _card(written, who, status)  # type: ignore[return-value]

    @patch(
        "/{customer_id:str}/allergies/{item_id:str}",
        opt=WRITE,
        summary="Change one allergy: the only way to lower its severity",
        description=(
            "Adding an allergy never weakens a known one (POST keeps the stronger severity); "
            "this explicit change can. The caller is recorded as who confirmed it, and the "
            "audit entry keeps the previous severity."
        ),
        responses=CHANGE,
    )
    async def change_allergy(
        self,
        store: Store,
        who: Caller,
        customer_id: FromPath[str],
        item_id: ItemId,
        data: JSONBody[AllergyChange],
        if_match: IfMatch,
        idempotency_key: IdempotencyKey,
    ) -> Response[Card]:
        written = await store.change_allergy(
            customer_id,
            item_id,
            data,
            actor=who.name,
            expect_version=parse_if_match(if_match),
            idempotency_key=idempotency_key,
        )
        return _card(written, who)  # type: ignore[return-value]

    @_adds("/{customer_id:str}/preferences", "Add a like/dislike")
    async def add_preference(
        self,
        store: Store,
        who: Caller,
        customer_id: FromPath[str],
        data: JSONBody[PreferenceInput],
        if_match: IfMatch,
        idempotency_key: IdempotencyKey,
    ) -> Response[Card]:
        written = await store.add_preference(
            customer_id,
            data,
            actor=who.name,
            expect_version=parse_if_match(if_match),
            idempotency_key=idempotency_key,
        )
        return _card(written, who, 201)  # type: ignore[return-value]

    @_adds("/{customer_id:str}/notes", "Add a note")
    async def add_note(
        self,
        store: Store,
        who: Caller,
        settings: Config,
        customer_id: FromPath[str],
        data: JSONBody[NoteInput],
        if_match: IfMatch,
        idempotency_key: IdempotencyKey,
    ) -> Response[Card]:
        written = await store.add_note(
            customer_id,
            at_venue(who, data, settings),
            actor=who.name,
            expect_version=parse_if_match(if_match),
            idempotency_key=idempotency_key,
        )
        return _card(written, who, 201)  # type: ignore[return-value]

    # Three remove routes rather than one `{kind}` route: Litestar's router will not take a
    # path parameter beside the static siblings above.
    @_removes("/{customer_id:str}/allergies/{item_id:str}", "Remove an allergy or dietary need")
    async def remove_allergy(
        self,
        store: Store,
        who: Caller,
        customer_id: FromPath[str],
        item_id: ItemId,
        if_match: IfMatch,
        idempotency_key: IdempotencyKey,
    ) -> Response[Card]:
        return await _remove(
            store, who, customer_id, "allergies", item_id, if_match, idempotency_key
        )

    @_removes("/{customer_id:str}/preferences/{item_id:str}", "Remove a like or dislike")
    async def remove_preference(
        self,
        store: Store,
        who: Caller,
        customer_id: FromPath[str],
        item_id: ItemId,
        if_match: IfMatch,
        idempotency_key: IdempotencyKey,
    ) -> Response[Card]:
        return await _remove(
            store, who, customer_id, "preferences", item_id, if_match, idempotency_key
        )

    @_removes("/{customer_id:str}/notes/{item_id:str}", "Remove a note")
    async def remove_note(
        self,
        store: Store,
        who: Caller,
        customer_id: FromPath[str],
        item_id: ItemId,
        if_match: IfMatch,
        idempotency_key: IdempotencyKey,
    ) -> Response[Card]:
        return await _remove(store, who, customer_id, "notes", item_id, if_match, idempotency_key)

    # -------------------------------------------------------------- events
    @post(
        "/{customer_id:str}/events",
        opt=WRITE,
        summary="Record a visit, purchase, …",
        responses={**RECORD, 200: RECORDED},
    )
    async def record_event(
        self,
        store: Store,
        who: Caller,
        settings: Config,
        customer_id: FromPath[str],
        data: JSONBody[EventInput],
        idempotency_key: IdempotencyKey,
    ) -> Response[EventRecorded]:
        data = at_venue(who, data, settings)
        written, event, duplicate = await store.record_event(
            customer_id, data, actor=who.name, idempotency_key=idempotency_key
        )
        body = EventRecorded(event=event, duplicate=duplicate, version=written.card.version)
        return Response(body, status_code=200 if duplicate else 201, headers=replayed(written))

    @get("/{customer_id:str}/events", opt=READ, summary="Events, newest first", responses=PAGE)
    async def list_events(
        self,
        store: Store,
        customer_id: FromPath[str],
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        cursor: Cursor = None,
        venue: VenueFilter = None,
    ) -> EventPage:
        at = venue_filter(venue)
        return await store.list_events(customer_id, limit=limit, cursor=cursor, venue=at)


async def _remove(
    store: Store,
    who: Caller,
    customer_id: str,
    kind: str,
    item_id: str,
    if_match: str | None,
    idempotency_key: str | None,
) -> Response[Card]:
    written = await store.remove_item(
        customer_id,
        kind,
        item_id,
        actor=who.name,
        expect_version=parse_if_match(if_match),
        idempotency_key=idempotency_key,
    )
    return _card(written, who)  # type: ignore[return-value]


def _card(written: Written, who: Caller, status: int = 200) -> Response[bytes]:
    return written_response(written, who.view, status)
