"""The one place where errors become HTTP responses: RFC 9457 problem details.

Every error answer is `application/problem+json` (`models/views.Problem`): the standard
`type`, `title`, `status`, `detail`, and our own `error` (the kind as a short code) and, for
bad input, `field` and `reason`. Domain errors (`prefstore.errors`) map by class; Litestar's
own errors (validation, unknown route, oversized body) are reshaped into the same body. A
body the parser cannot even read (nested too deep, not UTF-8) is a 400 too, logged at warning
without a traceback: no input is a 500, and no input can flood the log with tracebacks.

Litestar's `ProblemDetailsPlugin` is not used: it turns exceptions into an untyped dict and
documents nothing, where this mapping answers with one typed model that the OpenAPI document
(`http/openapi.py`) and the lookup's fast path (`http/fast.py`) share.
"""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any, Literal

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap

from prefstore.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PrefstoreError,
    RateLimited,
    StaleVersion,
    Suppressed,
    TooLarge,
    Unauthenticated,
    Unavailable,
)
from prefstore.models.fields import explained
from prefstore.models.views import Problem
from prefstore.redis.connection import OUTAGE_ERRORS

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE = "urn:prefstore:problem:"
"""`type` is this prefix and the `error` code: a stable identifier, not a page to fetch."""

STATUS: dict[type[PrefstoreError], int] = {
    InvalidInput: 422,
    NotFound: 404,
    Conflict: 409,
    Suppressed: 409,
    StaleVersion: 412,
    TooLarge: 413,
    Unauthenticated: 401,
    Forbidden: 403,
    Unavailable: 503,
    RateLimited: 429,
}
TITLES: dict[str, str] = {
    "invalid_input": "Invalid input",
    "malformed_body": "Malformed body",
    "bad_request": "Bad request",
    "not_found": "Not found",
    "method_not_allowed": "Method not allowed",
    "conflict": "Conflict with the stored data",
    "suppressed": "The person was erased",
    "stale_version": "Stale version",
    "too_large": "Too large",
    "unauthenticated": "Unauthenticated",
    "forbidden": "Forbidden",
    "rate_limited": "Too many requests",
    "unavailable": "Store unavailable",
    "internal": "Internal server error",
}
"""One title per kind of problem (RFC 9457: the same for every occurrence)."""
_MSGSPEC_PATH = re.compile(r" - at `\$(?P<path>[^`]*)`")
_NAMED_FIELD = re.compile(r"(?:missing required|unknown) field `([^`]+)`")


def problem(status: int, error: str, detail: str, **members: Any) -> Problem:
    """The problem body for `status`, of the kind `error` (a code such as `not_found`)."""
    title = TITLES.get(error) or _status(status, "phrase")
    return Problem(
        type=PROBLEM_TYPE + error, title=title, status=status, detail=detail, error=error, **members
    )


def _status(status: int, attribute: Literal["phrase", "name"]) -> str:
    try:
        return str(getattr(HTTPStatus(status), attribute))
    except ValueError:
        return "error"


def _respond(body: Problem, headers: dict[str, str] | None = None) -> Response[Problem]:
    return Response(body, status_code=body.status, media_type=PROBLEM_JSON, headers=headers)


def _outcome(value: str | None) -> Literal["not_applied", "unknown"] | None:
    if value == "not_applied":
        return "not_applied"
    return "unknown" if value == "unknown" else None


def domain_error(_request: Request[Any, Any, Any], exc: PrefstoreError) -> Response[Problem]:
    status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 500)
    body = problem(status, exc.code, exc.detail)
    headers: dict[str, str] = {}
    if isinstance(exc, InvalidInput):
        body.field, body.reason = exc.field, exc.reason
    elif isinstance(exc, Conflict | Forbidden) and exc.field:
        body.field = exc.field
    elif isinstance(exc, Unavailable):
        headers["retry-after"] = str(exc.retry_after)
        log.warning("store unavailable (write outcome %s): %s", exc.outcome, exc.detail)
        body.outcome, body.operation_id = _outcome(exc.outcome), exc.operation_id
    elif isinstance(exc, Unauthenticated):
        headers["www-authenticate"] = 'Bearer realm="prefstore"'
    elif isinstance(exc, RateLimited):
        headers.update(rate_limit_headers(exc))
    return _respond(body, headers)


def rate_limit_headers(exc: RateLimited) -> dict[str, str]:
    """Retry-After and the IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers:
    the policy's quota and window, and what remains of it and for how long)."""
    return {
        "retry-after": str(exc.reset),
        "ratelimit-policy": f'"{exc.policy}";q={exc.limit};w={exc.window}',
        "ratelimit": f'"{exc.policy}";r=0;t={exc.reset}',
    }


def _field_of(message: dict[str, Any]) -> str:
    """The offending field, from msgspec's `… - at `$.emails[0]`` paths or Litestar's key.

    A missing or unknown field is named itself (`name`, not the object holding it); a dict
    entry (`$.dates[...]`) is named by its dict, msgspec not saying which key it was.
    """
    raw = str(message.get("message", ""))
    found = _MSGSPEC_PATH.search(raw)
    path = found.group("path").lstrip(".").replace("[...]", "") if found else ""
    named = _NAMED_FIELD.search(raw)
    if named:
        path = f"{path}.{named.group(1)}" if path else named.group(1)
    if path:
        return path
    key = str(message.get("key") or "").replace("[...]", "")
    return "body" if key in ("", "data") else key


def validation_error(
    _request: Request[Any, Any, Any], exc: ValidationException
) -> Response[Problem]:
    messages = exc.extra if isinstance(exc.extra, list) else []
    if not messages:
        # Litestar raises this for a body it cannot parse at all.
        return _respond(problem(400, "malformed_body", exc.detail))
    first: dict[str, Any] = messages[0] if isinstance(messages[0], dict) else {}
    reason = explained(_MSGSPEC_PATH.sub("", str(first.get("message", "invalid"))))
    field = _field_of(first)
    status = 422 if first.get("source") == "body" else 400
    body = problem(status, "invalid_input", f"{field}: {reason}", field=field, reason=reason)
    return _respond(body)


def http_error(_request: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    # Litestar's own refusals, named as ours are; any other status by its HTTP name.
    status = exc.status_code
    known = {400: "bad_request", 401: "unauthenticated", 413: "too_large"}
    code = known.get(status) or _status(status, "name").lower()
    return _respond(problem(status, code, exc.detail), exc.headers)


def outage_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    log.warning("Redis unavailable: %r", exc)
    body = problem(503, "unavailable", "store unavailable")
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        # Not through the store's transactions, so no one knows how far it got.
        body.outcome = "unknown"
    return _respond(body, {"retry-after": "1"})


def unreadable_body(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    """A body msgspec gives up on before validation: nested past the recursion limit, or
    bytes that are not UTF-8 where text is needed."""
    why = "nested too deeply" if isinstance(exc, RecursionError) else "not valid UTF-8"
    log.warning("unreadable body on %s %s: %s", request.method, request.url.path, why)
    body = problem(400, "malformed_body", f"body: {why}", field="body", reason=why)
    return _respond(body)


def unexpected_error(_request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    log.exception("unhandled error", exc_info=exc)
    return _respond(problem(500, "internal", "internal server error"))


def exception_handlers() -> ExceptionHandlersMap:
    handlers: ExceptionHandlersMap = {
        PrefstoreError: domain_error,
        ValidationException: validation_error,
        HTTPException: http_error,
        RecursionError: unreadable_body,
        UnicodeDecodeError: unreadable_body,
        Exception: unexpected_error,
    }
    for cls in OUTAGE_ERRORS:
        handlers[cls] = outage_error
    return handlers
