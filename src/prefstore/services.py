"""What the routes reach for: built once per app, kept on `app.state`."""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Request
from litestar.datastructures import State
from redis.asyncio import Redis

from prefstore.config import Settings
from prefstore.customers.apikeys import KeyStore
from prefstore.customers.changes import ChangeFeed
from prefstore.customers.reader import CardReader
from prefstore.customers.store import CustomerStore
from prefstore.redis.keyspace import KeySpace


@dataclass
class Services:
    settings: Settings
    redis: Redis
    store: CustomerStore
    reader: CardReader
    keystore: KeyStore
    feed: ChangeFeed

    @classmethod
    def build(cls, settings: Settings, redis: Redis) -> Services:
        keys = KeySpace(settings.key_prefix)
        return cls(
            settings=settings,
            redis=redis,
            store=CustomerStore(
                redis, keys, region=settings.default_region, notes_on_card=settings.notes_on_card
            ),
            reader=CardReader(redis, keys, settings.default_region),
            keystore=KeyStore(redis, keys),
            feed=ChangeFeed(redis, keys),
        )


def services_of(state: State) -> Services:
    services: Services = state.services
    return services


def services(request: Request[object, object, State]) -> Services:
    return services_of(request.app.state)
