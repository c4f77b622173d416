"""Routes for a party (a table, a booking): one card for every guest, and the cart check
against all of them at once.

Both need the `lookup` scope, as the single card does, and read each guest's card in the
caller's view (`customers/party.py`). Members are given as the lookup takes an identifier:
one `kind: value` pair each (`id`, `phone`, `email`, `loyalty`, …), at most
`MAX_PARTY`; one that finds nobody is listed in `not_found`, never an error for the party.
"""

from __future__ import annotations

from litestar import post
from litestar.params import JSONBody

from prefstore.customers.party import find, party_card
from prefstore.customers.rules import MAX_CART_ITEMS
from prefstore.errors import InvalidInput
from prefstore.http.auth import require_scope
from prefstore.http.deps import Allergens, Caller, Reader, Store
from prefstore.http.openapi import problems
from prefstore.models.inputs import MAX_PARTY, PartyCheckInput, PartyInput
from prefstore.models.results import PartyCheck
from prefstore.models.views import PartyCard
from prefstore.search.partycheck import check_party

READ = {"scope": "lookup"}
MEMBERS = (
    f'Members are given as `{{kind: value}}` pairs (`{{"id": "ada"}}`, '
    f'`{{"phone": "+14155550123"}}`, `{{"loyalty": "L-1234"}}`), at most {MAX_PARTY}; '
    "one that finds nobody is listed in `not_found` and the rest are answered."
)


@post(
    "/v1/party",
    guards=[require_scope],
    opt=READ,
    status_code=200,
    tags=["party"],
    summary="One card for a table: every guest's allergies with whose they are, shared likes",
    description=(
        "Every allergy and dietary need of every guest, each with the guest's id and name, "
        "strongest first; the likes two or more guests share (never one a guest is allergic "
        "to by that name); each guest's open follow-ups. Read from each guest's card in the "
        "key's view (staff-only follow-ups need the `write` scope). " + MEMBERS
    ),
    responses=problems(400, 413, 422),
    operation_id="getPartyCard",
)
async def party(reader: Reader, who: Caller, data: JSONBody[PartyInput]) -> PartyCard:
    return party_card(await find(reader, data.members, who.view), data.label)


@post(
    "/v1/party/check",
    guards=[require_scope],
    opt=READ,
    status_code=200,
    tags=["party"],
    summary="Check a cart against every guest of a table at once",
    description=(
        "The cart check of `POST /v1/customers/{id}/check` for each guest found, merged: "
        "alerts first (allergies, most severe first, and dietary needs, then dislikes), each "
        "naming the guest it is for (`customer_id`, `name`), then delights. "
        f"At most {MAX_CART_ITEMS} items. " + MEMBERS
    ),
    responses=problems(400, 413, 422),
    operation_id="checkPartyCart",
)
async def check_party_cart(
    reader: Reader,
    store: Store,
    allergens: Allergens,
    who: Caller,
    data: JSONBody[PartyCheckInput],
) -> PartyCheck:
    if len(data.items) > MAX_CART_ITEMS:
        raise InvalidInput("items", f"at most {MAX_CART_ITEMS} items in one check")
    for i, item in enumerate(data.items):
        if not any(ch.isalnum() for ch in item):  # a letter or digit of any script
            raise InvalidInput(f"items[{i}]", "must contain letters or digits")
    found = await find(reader, data.members, who.view)
    return await check_party(store, allergens, found, data.items)


PARTY_ROUTES = [party, check_party_cart]
