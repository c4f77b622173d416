"""Routes for fuzzy recall: customer search, recall over one customer, cart check."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated, Any

from litestar import Litestar, Request, get, post
from litestar.datastructures import State
from litestar.params import JSONBody, PathParameter, QueryParameter

from prefstore.errors import InvalidInput, Unavailable
from prefstore.http.auth import principal_of, require_scope
from prefstore.models import CartCheck, CartCheckInput, RecallResult, SearchResult
from prefstore.search.cartcheck import AllergenTable, check_cart
from prefstore.search.follower import IndexFollower
from prefstore.search.index import SearchIndex
from prefstore.search.recall import recall
from prefstore.search.text import fold
from prefstore.services import services, services_of

AnyRequest = Request[Any, Any, State]
READ = {"scope": "lookup"}
QueryText = Annotated[
    str,
    QueryParameter(min_length=1, max_length=100, description="What was typed (1-100 characters)"),
]


def search_index(request: AnyRequest) -> SearchIndex:
    follower: IndexFollower = request.app.state.search_follower
    if not follower.loaded.is_set():
        raise Unavailable("the search index is still loading; try again shortly", retry_after=2)
    return follower.index


def _require_text(q: str) -> str:
    if not fold(q) and "@" not in q:
        raise InvalidInput("q", "must contain letters or digits")
    return q


@get(
    "/v1/search",
    guards=[require_scope],
    opt=READ,
    tags=["search"],
    summary="Find customers from a mistyped name, part of an email or phone digits",
    description=(
        "Typo-tolerant over names (insertions, deletions, substitutions, transpositions, "
        "swapped first/last name, a missing first name, accents, case), emails, and phone "
        'digits: a run of 4 or more digits ("smith 4471") matches the end of a phone. '
        "Each hit has a 0-100 score, the field that matched and cues to tell people apart; "
        "phone and email cues are masked unless the key has the `write` scope."
    ),
)
async def search(
    request: AnyRequest,
    q: QueryText,
    limit: Annotated[int, QueryParameter(ge=1, le=50, description="Hits to return (1-50)")] = 10,
) -> SearchResult:
    index = search_index(request)
    hits = index.search(_require_text(q), limit, principal_of(request).view)
    return SearchResult(query=q, hits=hits)


@get(
    "/v1/customers/{customer_id:str}/recall",
    guards=[require_scope],
    opt=READ,
    tags=["search"],
    summary="What we know about one customer that matches a query",
    description=(
        "Fuzzy over the customer's allergies, preferences, notes (staff-only notes need the "
        '`write` scope) and the items of their events: "chai" finds the chai latte they '
        'ordered six times, "oatmilk" finds "Oat milk". Ranked, best first.'
    ),
)
async def recall_customer(
    request: AnyRequest,
    customer_id: Annotated[str, PathParameter(max_length=64)],
    q: QueryText,
    limit: Annotated[int, QueryParameter(ge=1, le=50)] = 20,
) -> RecallResult:
    record = await services(request).store.get_record(customer_id)
    hits = recall(record, _require_text(q), principal_of(request).view, limit)
    return RecallResult(customer_id=customer_id, query=q, hits=hits)


@post(
    "/v1/customers/{customer_id:str}/check",
    guards=[require_scope],
    opt=READ,
    status_code=200,
    tags=["search"],
    summary="Check a cart against the customer's allergies, diet, dislikes and likes",
    description=(
        "Alerts come first: allergies (most severe first) and dietary needs, then dislikes; "
        "each says which item, what in it matched and why (the allergen group or diet). "
        "Delights are items matching a like. Matching ignores case, accents, punctuation, "
        "plurals and compound spacing, and errs towards alerting."
    ),
)
async def check(
    request: AnyRequest,
    customer_id: Annotated[str, PathParameter(max_length=64)],
    data: JSONBody[CartCheckInput],
) -> CartCheck:
    record = await services(request).store.get_record(customer_id)
    for i, item in enumerate(data.items):
        if not fold(item):
            raise InvalidInput(f"items[{i}]", "must contain letters or digits")
    table: AllergenTable = request.app.state.allergen_table
    return check_cart(table, record, data.items)


SEARCH_ROUTES = [search, recall_customer, check]
FEED_BLOCK_MS = 200
STARTUP_WAIT_S = 10.0
"""How long start-up waits for the index to load before serving anyway (searches answer 503
with Retry-After until it is loaded; lookups never wait for it)."""


def search_lifespan(
    table: AllergenTable, redis_timeout: float
) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """The index and its follower, for the app's lifespan (after the one that builds
    `app.state.services`)."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        found = services_of(app.state)
        # Blocking feed reads must return before the client's socket timeout fires, and
        # soon enough that shutting down (which lets the current read finish) is quick.
        block_ms = max(20, min(FEED_BLOCK_MS, int(redis_timeout * 1000 / 2)))
        follower = IndexFollower(found.redis, found.store.keys, SearchIndex(), block_ms=block_ms)
        app.state.allergen_table = table
        app.state.search_follower = follower
        follower.start()
        try:
            await follower.wait_loaded(STARTUP_WAIT_S)
            yield
        finally:
            await follower.stop()

    return lifespan
