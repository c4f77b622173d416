"""API keys: random, prefixed, shown once, stored only as a hash, scoped.

A key looks like `psk_<id>_<secret>`. The id names the stored entry; the whole key's
SHA-256 is what is stored (the secret has 256 bits of entropy, so a plain hash is enough:
nothing to brute-force, and no salt to keep).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import get_args

from redis.asyncio import Redis

from prefstore.customers.venues import check_venue
from prefstore.errors import InvalidInput, NotFound, Unauthenticated
from prefstore.models.fields import Scope
from prefstore.models.views import ApiKeyCreated, ApiKeyInfo
from prefstore.redis.connection import as_text, bytes_dict, translated_errors
from prefstore.redis.keyspace import KeySpace

KEY_PREFIX = "psk_"
ALL_SCOPES: tuple[Scope, ...] = get_args(Scope)
# What each scope also allows. `contact` is `lookup` with phones and emails in full (a call
# centre calls people back; a till does not); a staff app (write) reads cards with contact
# details, since it is where they are corrected; `metrics` reads /metrics and nothing else
# (a scraper's key can neither read a card nor erase anyone); admin may do anything. Which
# card view a caller gets follows from these (`access.Principal.of`).
IMPLIED: dict[str, frozenset[str]] = {
    "lookup": frozenset({"lookup"}),
    "contact": frozenset({"contact", "lookup"}),
    "write": frozenset({"write", "contact", "lookup"}),
    "import": frozenset({"import"}),
    "metrics": frozenset({"metrics"}),
    "admin": frozenset({"admin", "write", "contact", "lookup", "import", "metrics"}),
}

REFUSED_KEY = "unknown or revoked API key"
"""The one answer for a key that is not valid now, whatever the reason."""


def effective_scopes(scopes: Iterable[str]) -> frozenset[str]:
    granted: set[str] = set()
    for scope in scopes:
        granted |= IMPLIED.get(scope, frozenset())
    return frozenset(granted)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _parse(key: str) -> str | None:
    """The key id of a well-formed key, else None."""
    if not key.startswith(KEY_PREFIX):
        return None
    parts = key[len(KEY_PREFIX) :].split("_", 1)
    if len(parts) != 2 or not parts[0].isalnum() or len(parts[1]) < 20:
        return None
    return parts[0]


class KeyStore:
    def __init__(self, redis: Redis, keys: KeySpace, venues: tuple[str, ...] = ()) -> None:
        self._redis = redis
        self._keys = keys
        self._venues = venues
        """The deployment's venues (`Settings.venues`): a key is bound to one of these."""

    async def create(self, name: str, scopes: list[str], venue: str | None = None) -> ApiKeyCreated:
        """A new key; `venue` binds it to one venue (`customers/venues.py`)."""
        name = name.strip()
        if not name or len(name) > 80:
            raise InvalidInput("name", "1-80 characters")
        unknown = [s for s in scopes if s not in ALL_SCOPES]
        if unknown or not scopes:
            raise InvalidInput("scopes", f"choose from {', '.join(ALL_SCOPES)}")
        if venue is not None:
            check_venue(venue, self._venues)
        key_id = secrets.token_hex(6)
        key = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        now = datetime.now(UTC)
        entry = {
            "name": name,
            "scopes": ",".join(dict.fromkeys(scopes)),
            "hash": _digest(key),
            "created_at": now.isoformat(),
            **({"venue": venue} if venue else {}),
        }
        async with translated_errors():
            await self._redis.hset(self._keys.api_key(key_id), mapping=entry)  # type: ignore[arg-type]
            await self._redis.sadd(self._keys.api_key_index, key_id)
        info = ApiKeyInfo(
            id=key_id,
            name=name,
            scopes=list(dict.fromkeys(scopes)),  # type: ignore[arg-type]
            created_at=now,
            venue=venue,
        )
        return ApiKeyCreated(key=key, info=info)

    async def list(self) -> list[ApiKeyInfo]:
        async with translated_errors():
            ids = sorted(as_text(i) for i in await self._redis.smembers(self._keys.api_key_index))
            entries = [bytes_dict(await self._redis.hgetall(self._keys.api_key(i))) for i in ids]
        return [self._info(i, e) for i, e in zip(ids, entries, strict=True) if e]

    async def info(self, key_id: str) -> ApiKeyInfo:
        """A key's info by id, revoked or not (web sessions re-check their key with it)."""
        async with translated_errors():
            entry = bytes_dict(await self._redis.hgetall(self._keys.api_key(key_id)))
        if not entry:
            raise NotFound(f"no API key {key_id}")
        return self._info(key_id, entry)

    async def revoke(self, key_id: str) -> ApiKeyInfo:
        key = self._keys.api_key(key_id)
        async with translated_errors():
            if not await self._redis.exists(key):
                raise NotFound(f"no API key {key_id}")
            await self._redis.hsetnx(key, "revoked_at", datetime.now(UTC).isoformat())
            entry = bytes_dict(await self._redis.hgetall(key))
        return self._info(key_id, entry)

    async def verify(self, key: str) -> ApiKeyInfo:
        # One message for an unknown and a revoked key: the answer must not tell a holder of
        # a revoked key (or a guesser) which ids exist.
        """The key's info if it is valid and not revoked; else Unauthenticated."""
        key_id = _parse(key)
        if key_id is None:
            raise Unauthenticated("malformed API key")
        async with translated_errors():
            entry = bytes_dict(await self._redis.hgetall(self._keys.api_key(key_id)))
        stored = entry.get(b"hash", b"").decode()
        if not entry or not hmac.compare_digest(stored, _digest(key)):
            raise Unauthenticated(REFUSED_KEY)
        if entry.get(b"revoked_at"):
            raise Unauthenticated(REFUSED_KEY)
        return self._info(key_id, entry)

    @staticmethod
    def _info(key_id: str, entry: dict[bytes, bytes]) -> ApiKeyInfo:
        revoked = entry.get(b"revoked_at")
        venue = entry.get(b"venue")
        return ApiKeyInfo(
            id=key_id,
            name=entry[b"name"].decode(),
            scopes=[s for s in entry[b"scopes"].decode().split(",") if s],  # type: ignore[misc]
            created_at=datetime.fromisoformat(entry[b"created_at"].decode()),
            revoked_at=datetime.fromisoformat(revoked.decode()) if revoked else None,
            venue=venue.decode() if venue else None,
        )
