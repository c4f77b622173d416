"""Small HTTP helpers shared by the routes: card responses, ETag and If-Match."""

from __future__ import annotations

from litestar import MediaType, Response

from prefstore.customers.cards import RenderedCard
from prefstore.customers.reader import CardBytes, View
from prefstore.customers.transaction import Written
from prefstore.errors import InvalidInput


def etag(version: int | bytes) -> str:
    text = version.decode() if isinstance(version, bytes) else str(version)
    return f'"{text}"'


def card_bytes_response(card: CardBytes, status: int = 200) -> Response[bytes]:
    return Response(
        content=card.body,
        status_code=status,
        media_type=MediaType.JSON,
        headers={"etag": etag(card.version)},
    )


def rendered_response(card: RenderedCard, view: View, status: int = 200) -> Response[bytes]:
    return Response(
        content=card.body(view),
        status_code=status,
        media_type=MediaType.JSON,
        headers={"etag": etag(card.version)},
    )


def replayed(written: Written) -> dict[str, str]:
    """Said on an answer that is a stored outcome, as Stripe does: nothing was applied now."""
    return {"idempotent-replayed": "true"} if written.replayed else {}


def written_response(written: Written, view: View, status: int = 200) -> Response[bytes]:
    """The caller's view of the card a write answered with, marked if it was replayed."""
    response = rendered_response(written.card, view, status)
    response.headers.update(replayed(written))
    return response


MAX_VERSION_DIGITS = 18
"""Versions count writes to one customer: 18 digits is more than any will reach, and
Python's int() of thousands of digits is slow and then refused (a 500 before this check)."""


IF_MATCH_FORM = r'^(\*|(W/)?"?[0-9]{1,18}"?)$'
"""What `If-Match` takes, as the OpenAPI document says it: an ETag this service returned
(`"7"`, `W/"7"`, `7`) or `*`. `parse_if_match` is the check (422, naming the header)."""


def parse_if_match(value: str | None) -> int | None:
    """`If-Match: "7"` (or W/"7", or 7) → 7; absent or `*` → None (no version check)."""
    if value is None or value.strip() == "*":
        return None
    text = value.strip().removeprefix("W/").strip('"')
    # ASCII digits only: str.isdigit() accepts "²", which int() refuses.
    if not (0 < len(text) <= MAX_VERSION_DIGITS and text.isascii() and text.isdigit()):
        raise InvalidInput("If-Match", 'must be an ETag returned by this service, e.g. "3"')
    return int(text)
