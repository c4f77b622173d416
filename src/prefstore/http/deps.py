"""Dependency injection: what a route names in its signature, it is given.

`Services` is put on `app.state` once, by the app's lifespan; this module is the one place
that reads it back (typed). Routes declare `store: CustomerStore`, `who: Principal`, … and
Litestar calls the providers below.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from prefstore.config import Settings
from prefstore.customers.access import KeyCache, Principal
from prefstore.customers.changes import ChangeFeed
from prefstore.customers.desk import Desk
from prefstore.customers.reader import CardReader
from prefstore.customers.store import CustomerStore
from prefstore.errors import Unavailable
from prefstore.search.allergens import AllergenTable
from prefstore.search.index import SearchIndex
from prefstore.services import Services

STATE_KEY = "services"

# What a route may name. The parameter's name picks the provider below (`store: Store`).
Store = NamedDependency[CustomerStore]
Reader = NamedDependency[CardReader]
Feed = NamedDependency[ChangeFeed]
Keys = NamedDependency[KeyCache]
Config = NamedDependency[Settings]
Allergens = NamedDependency[AllergenTable]
AllServices = NamedDependency[Services]
Index = NamedDependency[SearchIndex]
Caller = NamedDependency[Principal]
StaffDesk = NamedDependency[Desk]


def services_of(state: State) -> Services:
    found = state.get(STATE_KEY)
    if not isinstance(found, Services):
        raise RuntimeError("the app's lifespan has not built its services yet")
    return found


def _provide(fn: Any) -> Provide:
    # Each provider is a cheap attribute read: run it inline, never in a worker thread.
    return Provide(fn, sync_to_thread=False)


def _services(state: State) -> Services:
    return services_of(state)


def _attribute(name: str) -> Provide:
    """A provider of one attribute of the services (`store`, `reader`, …)."""

    def provide(state: State) -> Any:
        return getattr(services_of(state), name)

    return _provide(provide)


def _search_index(state: State) -> SearchIndex:
    follower = services_of(state).search
    if not follower.loaded.is_set():
        raise Unavailable("the search index is still loading; try again shortly", retry_after=2)
    return follower.index


def _who(request: Request[Any, Any, Any]) -> Principal:
    """The caller, as the API-key middleware authenticated them."""
    principal = request.scope.get("auth")
    assert isinstance(principal, Principal), "route reached without authentication"
    return principal


SERVICE_ATTRIBUTES = ("store", "reader", "feed", "key_cache", "settings", "allergens", "desk")
"""Provided as they are built; the name in a route's signature is the attribute's."""

DEPENDENCIES: dict[str, Provide] = {
    **{name: _attribute(name) for name in SERVICE_ATTRIBUTES},
    "services": _provide(_services),
    "search_index": _provide(_search_index),
    "who": _provide(_who),
}
