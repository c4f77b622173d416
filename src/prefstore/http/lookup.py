"""The POS hot path: a card by customer id or by one identifier.

Both routes do only this: the caller (already authenticated from the in-process key
cache) picks the view, `CardReader` makes one Redis round trip, and the stored bytes go
out with their ETag. Nothing is decoded or re-encoded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast, get_args

from litestar import Request, Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import OpenAPIFormat, OpenAPIType, Operation, Parameter, Schema
from litestar.params import FromPath

from prefstore.customers.access import Principal
from prefstore.customers.reader import CardBytes, CardReader
from prefstore.errors import InvalidInput, NotFound
from prefstore.http.auth import require_scope
from prefstore.http.deps import Caller, Reader
from prefstore.http.openapi import problems
from prefstore.http.responses import card_bytes_response
from prefstore.models.fields import IdentifierKind
from prefstore.models.views import Card

MAX_IDENTIFIER = 254


def _text(description: str, format: str | None = None) -> Schema:
    return Schema(
        type=OpenAPIType.STRING,
        min_length=1,
        max_length=MAX_IDENTIFIER,
        pattern=r"\S",
        description=description,
        # "phone" is a format of our own (OpenAPI allows any): Litestar's enum lacks it.
        format=cast(OpenAPIFormat, format),
    )


@dataclass
class LookupOperation(Operation):
    """The lookup's query as one object parameter: exactly one `kind=value` pair, any
    identifier kind (OpenAPI cannot say "exactly one of these parameters" otherwise)."""

    def __post_init__(self) -> None:
        kind = get_args(IdentifierKind)[1]
        identifier = Schema(
            type=OpenAPIType.OBJECT,
            min_properties=1,
            max_properties=1,
            properties={
                "phone": _text(
                    "A phone number: international (`+14155550123`) or national in the "
                    "service's default region",
                    "phone",
                ),
                "email": _text("An email address", "email"),
                "loyalty": _text("A loyalty card number (any kind works the same way)"),
            },
            property_names=Schema(type=OpenAPIType.STRING, pattern=kind.pattern),
            additional_properties=_text("Any other identifier kind: `crm=…`, `member=…`"),
        )
        self.parameters = [
            Parameter(
                name="identifier",
                param_in="query",
                required=True,
                style="form",
                explode=True,
                schema=identifier,
                description=(
                    "Exactly one identifier, as its own query parameter: `?phone=…`, "
                    "`?email=…`, `?loyalty=…`, or any other kind the customer was stored "
                    "with (`?crm=…`)."
                ),
            )
        ]


def _lookup_route(
    path: str,
    summary: str,
    description: str | None = None,
    *,
    responses: tuple[int, ...] = (404,),
    operation_class: type[Operation] = Operation,
    operation_id: str | None = None,
) -> HTTPRouteHandler:
    # Both lookups: the lookup scope, listed with the customer routes in the OpenAPI document.
    return get(
        path,
        guards=[require_scope],
        opt={"scope": "lookup"},
        tags=["customers"],
        summary=summary,
        description=description,
        responses=problems(*responses),
        operation_class=operation_class,
        operation_id=operation_id,
    )


@_lookup_route("/v1/customers/{customer_id:str}", "The customer's card", operation_id="getCard")
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
    responses=(404, 422),
    operation_class=LookupOperation,
)
async def lookup(request: Request[Any, Any, Any], reader: Reader, who: Caller) -> Response[Card]:
    # Any identifier kind is allowed, so the query is read whole (documented by
    # `LookupOperation`).
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
