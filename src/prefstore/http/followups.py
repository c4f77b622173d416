"""Routes for follow-ups (actions owed to a customer): add, resolve, list.

Writes take `Idempotency-Key` and `If-Match` as every write does (`http/customers.py`) and
answer with the caller's card; each lands in the change feed (`follow_up.add`,
`follow_up.resolve`). Open follow-ups are on every card, `lookup` keys' included: what is
owed to a guest is service information, like their allergies (staff-only ones aside).
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.params import FromPath, JSONBody, PathParameter

from prefstore.customers.followups import visible
from prefstore.http.auth import require_scope
from prefstore.http.customers import IdempotencyKey, IfMatch
from prefstore.http.deps import Caller, Config, Store
from prefstore.http.openapi import problems
from prefstore.http.responses import parse_if_match, written_response
from prefstore.http.venues import at_venue
from prefstore.models.inputs import FollowUpInput, FollowUpResolve
from prefstore.models.views import Card, FollowUpList

FollowUpId = Annotated[str, PathParameter(max_length=64)]


class FollowUpController(Controller):
    path = "/v1/customers"
    guards = [require_scope]
    tags = ["follow-ups"]

    @post(
        "/{customer_id:str}/follow-ups",
        opt={"scope": "write"},
        status_code=201,
        summary="Add a follow-up: an action owed to the customer",
        description=(
            "Shown at the top of every card (after allergies) until it is resolved or "
            "expires; `visibility: staff` keeps it to staff apps. Written by the caller."
        ),
        responses=problems(400, 404, 409, 412, 413, 422),
    )
    async def add_follow_up(
        self,
        store: Store,
        who: Caller,
        settings: Config,
        customer_id: FromPath[str],
        data: JSONBody[FollowUpInput],
        if_match: IfMatch,
        idempotency_key: IdempotencyKey,
    ) -> Response[Card]:
        written = await store.add_follow_up(
            customer_id,
            at_venue(who, data, settings),
            actor=who.name,
            expect_version=parse_if_match(if_match),
            idempotency_key=idempotency_key,
        )
        return written_response(written, who.view, 201)  # type: ignore[return-value]

    @post(
        "/{customer_id:str}/follow-ups/{follow_up_id:str}/resolve",
        opt={"scope": "write"},
        status_code=200,
        summary="Resolve a follow-up: who, when, and what was done",
        description=(
            "The caller, the time and the venue (the body's, else the key's) are recorded. "
            "Resolving one already resolved changes nothing: the first resolution stands."
        ),
        responses=problems(400, 404, 409, 412, 413, 422),
    )
    async def resolve_follow_up(
        self,
        store: Store,
        who: Caller,
        settings: Config,
        customer_id: FromPath[str],
        follow_up_id: FollowUpId,
        if_match: IfMatch,
        idempotency_key: IdempotencyKey,
        data: JSONBody[FollowUpResolve | None] = None,
    ) -> Response[Card]:
        given = at_venue(who, data or FollowUpResolve(), settings)
        written = await store.resolve_follow_up(
            customer_id,
            follow_up_id,
            given,
            actor=who.name,
            venue=given.venue,
            expect_version=parse_if_match(if_match),
            idempotency_key=idempotency_key,
        )
        return written_response(written, who.view)  # type: ignore[return-value]

    @get(
        "/{customer_id:str}/follow-ups",
        opt={"scope": "lookup"},
        summary="Every follow-up, open and closed (resolved or expired), oldest first",
        responses=problems(400, 404),
    )
    async def follow_ups(
        self, store: Store, who: Caller, customer_id: FromPath[str]
    ) -> FollowUpList:
        record = await store.get_record(customer_id)
        shown = visible(record.follow_ups, staff=who.view == "staff")
        return FollowUpList(customer_id=record.id, follow_ups=shown)
