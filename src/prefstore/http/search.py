"""Routes for fuzzy recall: customer search, recall over one customer, cart check."""

from __future__ import annotations

from typing import Annotated

from litestar import get, post
from litestar.params import JSONBody, PathParameter, QueryParameter

from prefstore.customers.rules import MAX_CART_ITEMS, MAX_QUERY_WORDS
from prefstore.customers.venues import visible_at
from prefstore.errors import InvalidInput
from prefstore.http.auth import require_scope
from prefstore.http.deps import Allergens, Caller, Index, Store
from prefstore.http.openapi import problems
from prefstore.models.inputs import CartCheckInput
from prefstore.models.results import CartCheck, RecallResult, SearchResult
from prefstore.search.cartcheck import check_cart
from prefstore.search.recall import recall
from prefstore.search.text import fold

READ = {"scope": "lookup"}
QueryText = Annotated[
    str,
    QueryParameter(
        min_length=1,
        max_length=100,
        description="What was typed (1-100 characters, with a letter, a digit or `@`)",
        # Documented, not checked here: `_require_text` is the check (422).
        schema_extra={"pattern": r"[^\W_]|@"},
    ),
]


def _require_text(q: str) -> str:
    if not fold(q) and "@" not in q:
        raise InvalidInput("q", "must contain letters or digits")
    return q


def _recall_query(q: str) -> str:
    """A recall query: at most `MAX_QUERY_WORDS` words (a record rule: recall over a full
    record stays under 10 ms, docs/BENCHMARKS.md)."""
    words = len(fold(q).split())
    if words > MAX_QUERY_WORDS:
        raise InvalidInput("q", f"at most {MAX_QUERY_WORDS} words (this has {words})")
    return _require_text(q)


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
        "Names are found in any script and by their Latin transliteration "
        '("Olga Smirnova" finds "Ольга Смирнова" and the reverse), by a nickname ("Bill" for '
        'William) and by the first letters of each word ("marg whitf"). '
        "Each hit has a 0-100 score, the field that matched and cues to tell people apart; "
        "phone and email cues are masked unless the key has the `contact` scope (or `write`, "
        "`admin`), as on the card."
    ),
    responses=problems(400, 422),
)
async def search(
    search_index: Index,
    who: Caller,
    q: QueryText,
    limit: Annotated[int, QueryParameter(ge=1, le=50, description="Hits to return (1-50)")] = 10,
) -> SearchResult:
    hits = await search_index.search(_require_text(q), limit, who.view)
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
        'ordered six times, "oatmilk" finds "Oat milk". Ranked, best first. '
        f"At most {MAX_QUERY_WORDS} words."
    ),
    responses=problems(400, 404, 422),
)
async def recall_customer(
    store: Store,
    who: Caller,
    customer_id: Annotated[str, PathParameter(max_length=64)],
    q: QueryText,
    limit: Annotated[int, QueryParameter(ge=1, le=50)] = 20,
) -> RecallResult:
    # Venue-only notes are their venue's: recalled only by a key bound to it.
    record = visible_at(await store.get_record(customer_id), who.venue)
    hits = recall(record, _recall_query(q), who.view, limit)
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
        "plurals and compound spacing, and errs towards alerting. Items may be in any script "
        '("арахис"). An item that excludes an allergen ("peanut-free", "no milk", "vegan") '
        'does not alert on it, nor does a word that only contains the name of one ("butternut '
        'squash"); an unsure alert has `check_with_guest` and says what to ask '
        "(docs/ALLERGENS.md). "
        f"At most {MAX_CART_ITEMS} items."
    ),
    responses=problems(400, 404, 413, 422),
    operation_id="checkCart",
)
async def check(
    store: Store,
    allergens: Allergens,
    customer_id: Annotated[str, PathParameter(max_length=64)],
    data: JSONBody[CartCheckInput],
) -> CartCheck:
    if len(data.items) > MAX_CART_ITEMS:
        raise InvalidInput("items", f"at most {MAX_CART_ITEMS} items in one check")
    record = await store.get_record(customer_id)
    for i, item in enumerate(data.items):
        if not any(ch.isalnum() for ch in item):  # a letter or digit of any script ("арахис")
            raise InvalidInput(f"items[{i}]", "must contain letters or digits")
    return check_cart(allergens, record, data.items)


SEARCH_ROUTES = [search, recall_customer, check]
