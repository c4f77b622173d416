"""Routes for customers, their safety track, preferences, notes and events."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import State
from litestar.params import (
    FromPath,
    HeaderParameter,
    JSONBody,
    PathParameter,
    QueryParameter,
)

from prefstore.errors import NotFound
from prefstore.http.auth import principal_of, require_scope
from prefstore.http.responses import card_bytes_response, parse_if_match, rendered_response
from prefstore.models import (
    AllergyInput,
    AuditTrail,
    Card,
    CustomerCreate,
    CustomerExport,
    CustomerPatch,
    Erased,
    EventInput,
    EventPage,
    EventRecorded,
    NoteInput,
    PreferenceInput,
)
from prefstore.services import services

AnyRequest = Request[Any, Any, State]
IfMatch = Annotated[
    str | None,
    HeaderParameter(name="If-Match", required=False, description="ETag the client last saw"),
]
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        max_length=128,
        pattern=r"^[A-Za-z0-9._:-]{1,128}$",
        description="Operation id, if the body has none: a retried event counts once",
    ),
]
ItemId = Annotated[str, PathParameter(max_length=64)]

READ = {"scope": "lookup"}
WRITE = {"scope": "write"}
ADMIN = {"scope": "admin"}


class CustomerController(Controller):
    path = "/v1/customers"
    guards = [require_scope]
    tags = ["customers"]

    @post("/", opt=WRITE, status_code=201, summary="Create a customer")
    async def create(self, request: AnyRequest, data: JSONBody[CustomerCreate]) -> Response[Card]:
        who = principal_of(request)
        written = await services(request).store.create(data, actor=who.name)
        response = rendered_response(written.card, who.view, status=201)
        response.headers["location"] = f"/v1/customers/{written.card.customer_id}"
        return response  # type: ignore[return-value]

    @get("/{customer_id:str}", opt=READ, summary="The customer's card")
    async def card(self, request: AnyRequest, customer_id: FromPath[str]) -> Response[Card]:
        found = await services(request).reader.by_id(customer_id, principal_of(request).view)
        if found is None:
            raise NotFound(f"no customer {customer_id}")
        return card_bytes_response(found)  # type: ignore[return-value]

    @patch("/{customer_id:str}", opt=WRITE, summary="Change profile fields")
    async def update(
        self,
        request: AnyRequest,
        customer_id: FromPath[str],
        data: JSONBody[CustomerPatch],
        if_match: IfMatch,
    ) -> Response[Card]:
        who = principal_of(request)
        written = await services(request).store.patch(
            customer_id, data, actor=who.name, expect_version=parse_if_match(if_match)
        )
        return rendered_response(written.card, who.view)  # type: ignore[return-value]

    @delete(
        "/{customer_id:str}",
        opt=ADMIN,
        status_code=200,
        summary="Erase the person (GDPR): every trace, plus a suppression entry",
    )
    async def erase(self, request: AnyRequest, customer_id: FromPath[str]) -> Erased:
        return await services(request).store.erase(customer_id, actor=principal_of(request).name)

    @get("/{customer_id:str}/export", opt=ADMIN, summary="Everything held on one person")
    async def export(self, request: AnyRequest, customer_id: FromPath[str]) -> CustomerExport:
        return await services(request).store.export(customer_id)

    @get(
        "/{customer_id:str}/audit",
        opt=ADMIN,
        summary="Who changed what, and when (no PII); kept after erasure",
    )
    async def audit(
        self,
        request: AnyRequest,
        customer_id: FromPath[str],
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
    ) -> AuditTrail:
        return await services(request).feed.history(customer_id, limit=limit)

    # -------------------------------------------------------------- safety track and likes
    @post("/{customer_id:str}/allergies", opt=WRITE, status_code=201, summary="Add an allergy")
    async def add_allergy(
        self,
        request: AnyRequest,
        customer_id: FromPath[str],
        data: JSONBody[AllergyInput],
        if_match: IfMatch,
    ) -> Response[Card]:
        who = principal_of(request)
        written = await services(request).store.add_allergy(
            customer_id, data, actor=who.name, expect_version=parse_if_match(if_match)
        )
        return rendered_response(written.card, who.view, 201)  # type: ignore[return-value]

    @post(
        "/{customer_id:str}/preferences", opt=WRITE, status_code=201, summary="Add a like/dislike"
    )
    async def add_preference(
        self,
        request: AnyRequest,
        customer_id: FromPath[str],
        data: JSONBody[PreferenceInput],
        if_match: IfMatch,
    ) -> Response[Card]:
        who = principal_of(request)
        written = await services(request).store.add_preference(
            customer_id, data, actor=who.name, expect_version=parse_if_match(if_match)
        )
        return rendered_response(written.card, who.view, 201)  # type: ignore[return-value]

    @post("/{customer_id:str}/notes", opt=WRITE, status_code=201, summary="Add a note")
    async def add_note(
        self,
        request: AnyRequest,
        customer_id: FromPath[str],
        data: JSONBody[NoteInput],
        if_match: IfMatch,
    ) -> Response[Card]:
        who = principal_of(request)
        written = await services(request).store.add_note(
            customer_id, data, actor=who.name, expect_version=parse_if_match(if_match)
        )
        return rendered_response(written.card, who.view, 201)  # type: ignore[return-value]

    @delete(
        "/{customer_id:str}/allergies/{item_id:str}",
        opt=WRITE,
        status_code=200,
        summary="Remove an allergy or dietary need",
    )
    async def remove_allergy(
        self, request: AnyRequest, customer_id: FromPath[str], item_id: ItemId, if_match: IfMatch
    ) -> Response[Card]:
        return await _remove(request, customer_id, "allergies", item_id, if_match)

    @delete(
        "/{customer_id:str}/preferences/{item_id:str}",
        opt=WRITE,
        status_code=200,
        summary="Remove a like or dislike",
    )
    async def remove_preference(
        self, request: AnyRequest, customer_id: FromPath[str], item_id: ItemId, if_match: IfMatch
    ) -> Response[Card]:
        return await _remove(request, customer_id, "preferences", item_id, if_match)

    @delete(
        "/{customer_id:str}/notes/{item_id:str}",
        opt=WRITE,
        status_code=200,
        summary="Remove a note",
    )
    async def remove_note(
        self, request: AnyRequest, customer_id: FromPath[str], item_id: ItemId, if_match: IfMatch
    ) -> Response[Card]:
        return await _remove(request, customer_id, "notes", item_id, if_match)

    # -------------------------------------------------------------- events
    @post("/{customer_id:str}/events", opt=WRITE, summary="Record a visit, purchase, …")
    async def record_event(
        self,
        request: AnyRequest,
        customer_id: FromPath[str],
        data: JSONBody[EventInput],
        idempotency_key: IdempotencyKey,
    ) -> Response[EventRecorded]:
        who = principal_of(request)
        written, event, duplicate = await services(request).store.record_event(
            customer_id, data, actor=who.name, operation_id=idempotency_key
        )
        body = EventRecorded(event=event, duplicate=duplicate, version=written.card.version)
        return Response(body, status_code=200 if duplicate else 201)

    @get("/{customer_id:str}/events", opt=READ, summary="Events, newest first")
    async def events(
        self,
        request: AnyRequest,
        customer_id: FromPath[str],
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        cursor: Annotated[str | None, QueryParameter(max_length=64)] = None,
    ) -> EventPage:
        return await services(request).store.list_events(customer_id, limit=limit, cursor=cursor)


async def _remove(
    request: AnyRequest, customer_id: str, kind: str, item_id: str, if_match: str | None
) -> Response[Card]:
    who = principal_of(request)
    written = await services(request).store.remove_item(
        customer_id, kind, item_id, actor=who.name, expect_version=parse_if_match(if_match)
    )
    return rendered_response(written.card, who.view)  # type: ignore[return-value]
