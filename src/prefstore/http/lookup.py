"""The POS hot path: a card by customer id or by one identifier.

Both routes do only this: the caller (already authenticated from the in-process key
cache) picks the view, `CardReader` makes one Redis round trip, and the stored bytes go
out with their ETag. Nothing is decoded or re-encoded.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from litestar import Request, Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, QueryParameter

from prefstore.customers.access import Principal
from prefstore.customers.reader import CardBytes, CardReader
from prefstore.errors import InvalidInput, NotFound
from prefstore.http.auth import require_scope
from prefstore.http.deps import Caller, Reader
from prefstore.http.responses import card_bytes_response
from prefstore.models.views import Card

MAX_IDENTIFIER = 254
DOCUMENTED_QUERY = ("phone", "email", "loyalty")
"""Named query parameters of `/v1/lookup`: Litestar validates their length itself (400)."""
Query = Annotated[str | None, QueryParameter(required=False, max_length=MAX_IDENTIFIER)]


def _lookup_route(path: str, summary: str, description: str | None = None) -> HTTPRouteHandler:
    # Both lookups: the lookup scope, listed with the customer routes in the OpenAPI document.
    return get(
        path,
        guards=[require_scope],
        opt={"scope": "lookup"},
        tags=["customers"],
        summary=summary,
        description=description,
    )


@_lookup_route("/v1/customers/{customer_id:str}", "The customer's card")
async def card(reader: Reader, who: Caller, customer_id: FromPath[str]) -> Response[Card]:
    return card_bytes_response(await card_by_id(reader, who, customer_id))  # type: ignore[return-value]


@_lookup_route(
    "/v1/lookup",
    "The card found by one identifier",
    (
        "Give exactly one of `phone`, `email`, or any other identifier kind the customer "
        "was stored with (`loyalty=…`, `crm=…`). Phones are read in the service's default "
        "region unless given in international form."
    ),
)
async def lookup(
    request: Request[Any, Any, Any],
    reader: Reader,
    who: Caller,
    phone: Query = None,
    email: Query = None,
    loyalty: Query = None,
) -> Response[Card]:
    # Any identifier kind is allowed, so the query is read whole; the three named
    # parameters are there for the OpenAPI document.
    found = await card_by_identifier(reader, who, request.query_params.items())
    return card_bytes_response(found)  # type: ignore[return-value]


# The lookup itself, shared by the handlers above and the fast path (http/fast.py).
async def card_by_id(reader: CardReader, who: Principal, customer_id: str) -> CardBytes:
    found = await reader.by_id(customer_id, who.view)
    if found is None:
        raise NotFound(f"no customer {customer_id}")
    return found


async def card_by_identifier(
    reader: CardReader, who: Principal, query: Iterable[tuple[str, str]]
) -> CardBytes:
    given = [(k, v) for k, v in query if v]
    if len(given) != 1:
        raise InvalidInput("query", "give exactly one identifier, e.g. ?phone=… or ?email=…")
    kind, value = given[0]
    if len(value) > MAX_IDENTIFIER:
        raise InvalidInput(kind, "too long")
    found = await reader.by_identifier(kind, value, who.view)
    if found is None:
        raise NotFound(f"no customer with that {kind}")
    return found


LOOKUP_ROUTES = [card, lookup]
