"""Staff sessions for the web page: server-side in Redis, behind an HttpOnly SameSite cookie.

Signing in trades a `write`-scoped API key for a session; the key itself is never stored,
only its id and name (the author of what the staff member writes). Every request re-checks
that key against revocation, at most `key_cache_seconds` stale, like the API-key cache, and
refuses a session older than `session_seconds`.

Sessions live in Redis (Litestar's RedisStore), so signing out ends the session everywhere,
every process serving the page shares them, and nothing but a random id is in the browser.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.types import Empty, Message, ScopeSession

from prefstore.errors import Unauthenticated
from prefstore.http.deps import services_of

SESSION_STORE = "prefstore-web-sessions"
SESSION_COOKIE = "prefstore_session"
_NEW_ID = "prefstore_new_session_id"
_ROTATE = "prefstore_rotate_session"
_STAFF = "prefstore_staff"

Connection = ASGIConnection[Any, Any, Any, Any]
wall_clock: Callable[[], float] = time.time
"""Sign-in times are wall-clock epoch seconds (they outlive the process); tests move it."""


@dataclass(frozen=True, slots=True)
class Staff:
    key_id: str
    name: str
    since: float
    """Epoch seconds of the sign-in."""
    expires_at: float
    venue: str | None = None
    """Where they work: their key's venue, or the one chosen at sign-in (a key of none)."""


class _RotatingBackend(ServerSideSessionBackend):
    """Gives a fresh session id at sign-in and deletes the one the browser brought, so a
    session id planted before sign-in (session fixation) is worth nothing after it."""

    def get_session_id(self, connection: Connection) -> str:
        new_id = connection.state.get(_NEW_ID)
        return str(new_id) if new_id else super().get_session_id(connection)

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: Connection
    ) -> None:
        if not scope_session:
            # Nobody signed in: store nothing (anonymous requests must not fill Redis), and
            # clear a cookie the browser still sends.
            if connection.cookies.get(self.config.key):
                await super().store_in_message(Empty, message, connection)
            return
        if connection.state.get(_ROTATE) and not connection.state.get(_NEW_ID):
            old = connection.cookies.get(self.config.key)
            if old:
                await self.delete(old, self.config.get_store_from_app(connection.scope["app"]))
            connection.state[_NEW_ID] = self.generate_session_id()
        await super().store_in_message(scope_session, message, connection)


@dataclass
class StaffSessionConfig(ServerSideSessionConfig):
    _backend_class = _RotatingBackend


def session_config(max_age: int, secure: bool) -> StaffSessionConfig:
    return StaffSessionConfig(
        key=SESSION_COOKIE,
        store=SESSION_STORE,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/ui",
    )


def start(
    connection: Connection, key_id: str, name: str, lifetime: int, venue: str | None = None
) -> Staff:
    """Sign in: a new session (under a new id) for this key, at `venue`."""
    now = wall_clock()
    staff = Staff(key_id=key_id, name=name, since=now, expires_at=now + lifetime, venue=venue)
    connection.state[_ROTATE] = True
    connection.set_session({"key_id": key_id, "name": name, "since": now, "venue": venue})
    return staff


async def current(connection: Connection, lifetime: int) -> Staff | None:
    """The signed-in staff member, or None (and the session is cleared) when there is none,
    it has expired, or its key was revoked."""
    data = connection.scope.get("session")
    if not isinstance(data, dict) or not data:
        connection.clear_session()
        return None
    try:
        key_id, name, since = str(data["key_id"]), str(data["name"]), float(data["since"])
    except (KeyError, TypeError, ValueError):
        since, key_id, name = 0.0, "", ""
    venue = data.get("venue")
    expires_at = since + lifetime
    check = services_of(connection.app.state).key_check
    if not key_id or expires_at <= wall_clock() or not await check.still_valid(key_id):
        connection.clear_session()
        return None
    return Staff(
        key_id=key_id,
        name=name,
        since=since,
        expires_at=expires_at,
        venue=venue if isinstance(venue, str) else None,
    )


async def require_staff(connection: Connection, _handler: BaseRouteHandler) -> None:
    """Guard of every web data route: a valid staff session, or 401."""
    lifetime = services_of(connection.app.state).settings.session_seconds
    staff = await current(connection, lifetime)
    if staff is None:
        raise Unauthenticated("sign in with a staff key first (or again: the session ended)")
    connection.state[_STAFF] = staff


def staff_of(connection: Connection) -> Staff:
    staff = connection.state.get(_STAFF)
    assert isinstance(staff, Staff), "web route reached without the require_staff guard"
    return staff


def session_value(connection: Connection, name: str) -> Any:
    data = connection.scope.get("session")
    return data.get(name) if isinstance(data, dict) else None


def put_session_value(connection: Connection, name: str, value: Any) -> None:
    data = connection.scope.get("session")
    if isinstance(data, dict):
        connection.set_session({**data, name: value})
