"""Who is calling, and whether their key still holds: the in-process caches over `KeyStore`.

The lookup path must not pay a Redis round trip to authenticate, so a verified key is
trusted for `ttl` seconds (PREFSTORE_KEY_CACHE_SECONDS); that same figure bounds how long a
revoked key keeps working, for API callers and for staff signed in on the page.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from prefstore.customers.apikeys import KeyStore, effective_scopes
from prefstore.customers.reader import View
from prefstore.errors import NotFound

CACHE_SIZE = 10_000


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the key's name is the author of what they write."""

    key_id: str
    name: str
    scopes: frozenset[str]
    view: View
    """Which card view they may read (the same masking for search cues and recall); decided
    once, when the key is verified, so the lookup path reads a field rather than deciding
    again on every request."""
    venue: str | None = None
    """The venue the key is bound to (`customers/venues.py`); None: no venue."""

    @classmethod
    def of(
        cls, key_id: str, name: str, scopes: frozenset[str], venue: str | None = None
    ) -> Principal:
        """`scopes` are the effective ones (`apikeys.effective_scopes`): staff-only notes for
        `write`, phones and emails in full for `contact`, else the masked touchpoint view."""
        view: View = (
            "staff" if "write" in scopes else "contact" if "contact" in scopes else "touchpoint"
        )
        return cls(key_id, name, scopes, view, venue)


class KeyCache:
    """API key (the secret) -> Principal, verified against Redis at most once per `ttl`."""

    def __init__(self, keystore: KeyStore, ttl: float) -> None:
        self._keystore = keystore
        self._ttl = ttl
        self._entries: OrderedDict[str, tuple[float, Principal]] = OrderedDict()

    def cached(self, key: str) -> Principal | None:
        """The key's Principal if it was verified less than `ttl` ago; no Redis, no await
        (the lookup path's authentication)."""
        hit = self._entries.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        return None

    async def principal(self, key: str) -> Principal:
        now = time.monotonic()
        hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        info = await self._keystore.verify(key)
        principal = Principal.of(info.id, info.name, effective_scopes(info.scopes), info.venue)
        self._entries[key] = (now + self._ttl, principal)
        self._entries.move_to_end(key)
        while len(self._entries) > CACHE_SIZE:
            self._entries.popitem(last=False)
        return principal


class KeyCheck:
    """Is a staff session's key still good (exists, not revoked, may write)? Sessions hold
    the key's id, never the key, so this asks by id; answers are cached for `ttl`."""

    def __init__(
        self, keystore: KeyStore, ttl: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._keystore = keystore
        self._ttl = ttl
        self._clock = clock
        self._seen: dict[str, tuple[float, bool]] = {}

    async def still_valid(self, key_id: str) -> bool:
        now = self._clock()
        hit = self._seen.get(key_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        try:
            info = await self._keystore.info(key_id)
            valid = info.revoked_at is None and "write" in effective_scopes(info.scopes)
        except NotFound:
            valid = False
        if len(self._seen) >= CACHE_SIZE:
            self._seen.clear()
        self._seen[key_id] = (now + self._ttl, valid)
        return valid
