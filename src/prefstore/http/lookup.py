"""Lookup of a card by an identifier: the POS hot path."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.params import QueryParameter

from prefstore.errors import InvalidInput, NotFound
from prefstore.http.auth import principal_of, require_scope
from prefstore.http.responses import card_bytes_response
from prefstore.models import Card
from prefstore.services import services

Query = Annotated[str | None, QueryParameter(required=False, max_length=254)]


@get(
    "/v1/lookup",
    guards=[require_scope],
    opt={"scope": "lookup"},
    tags=["customers"],
    summary="The card found by one identifier",
    description=(
        "Give exactly one of `phone`, `email`, or any other identifier kind the customer "
        "was stored with (`loyalty=…`, `crm=…`). Phones are read in the service's default "
        "region unless given in international form."
    ),
)
async def lookup(
    request: Request[Any, Any, State],
    phone: Query = None,
    email: Query = None,
    loyalty: Query = None,
) -> Response[Card]:
    given = [(k, v) for k, v in request.query_params.items() if v]
    if len(given) != 1:
        raise InvalidInput("query", "give exactly one identifier, e.g. ?phone=… or ?email=…")
    kind, value = given[0]
    if len(value) > 254:
        raise InvalidInput(kind, "too long")
    found = await services(request).reader.by_identifier(kind, value, principal_of(request).view)
    if found is None:
        raise NotFound(f"no customer with that {kind}")
    return card_bytes_response(found)  # type: ignore[return-value]
