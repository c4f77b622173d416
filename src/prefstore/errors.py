"""The one error tree of prefstore.

The domain raises these; the HTTP layer maps them to status codes in one place
(`prefstore.http.errors`). Nothing here knows about HTTP.
"""

from __future__ import annotations


class PrefstoreError(Exception):
    """Base of every error prefstore raises on purpose."""

    code = "error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(PrefstoreError):
    """A field of the input is not acceptable; `field` names it (JSON-path-like)."""

    code = "invalid_input"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class NotFound(PrefstoreError):
    code = "not_found"


class Conflict(PrefstoreError):
    """The write contradicts existing data (e.g. an identifier owned by another customer)."""

    code = "conflict"

    def __init__(self, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.field = field


class StaleVersion(PrefstoreError):
    """`If-Match` named a version that is no longer current."""

    code = "stale_version"

    def __init__(self, expected: int, current: int) -> None:
        super().__init__(f"expected version {expected}, current version is {current}")
        self.expected = expected
        self.current = current


class Suppressed(PrefstoreError):
    """The person was erased; recreating them from the same identifiers is refused."""

    code = "suppressed"


class TooLarge(PrefstoreError):
    code = "too_large"


class Unauthenticated(PrefstoreError):
    code = "unauthenticated"


class Forbidden(PrefstoreError):
    """The key may not do this: it lacks the scope, or (`field` = `venue`) it is bound to
    another venue than the one the request acts for."""

    code = "forbidden"

    def __init__(self, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.field = field


class RateLimited(PrefstoreError):
    """Too many requests for one rate-limit policy (`policy`: its name) in the current window:
    `limit` requests per `window` seconds; the window ends in `reset` seconds."""

    code = "rate_limited"

    def __init__(self, policy: str, limit: int, window: int, reset: int) -> None:
        super().__init__(f"too many requests: {limit} per {window} s; retry in {reset} s")
        self.policy = policy
        self.limit = limit
        self.window = window
        self.reset = reset


class ConfigError(PrefstoreError):
    """A setting in the environment is not acceptable; `variable` names it (the message says
    the form expected). Raised by `Settings.from_env`; the CLI and `create_app` report it."""

    code = "config_error"

    def __init__(self, detail: str, variable: str | None = None) -> None:
        super().__init__(detail)
        self.variable = variable


class Unavailable(PrefstoreError):
    """The backing store is down, slow, or cannot give the durability asked for."""

    code = "unavailable"

    def __init__(
        self,
        detail: str,
        retry_after: int = 1,
        *,
        outcome: str | None = None,
        operation_id: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
        self.outcome = outcome
        """For a write: `not_applied` (failed before anything was sent to commit) or
        `unknown` (the commit was sent and its answer lost: it may have landed)."""
        self.operation_id = operation_id
        """The write's operation id: retried as its `Idempotency-Key`, it is applied once."""
