"""What a record may hold, and the span of times any path accepts (pure): the limits the
record rules enforce on every path (an add past one is refused, InvalidInput 422, nothing
written; sizes and why: docs/SECURITY.md#limits), and `event_time`."""

from __future__ import annotations

from datetime import UTC, datetime

from prefstore.errors import InvalidInput

__all__ = [
    "EARLIEST",
    "LATEST",
    "MAX_ALLERGIES",
    "MAX_CART_ITEMS",
    "MAX_CLOSED_FOLLOW_UPS",
    "MAX_EMAILS",
    "MAX_IDENTIFIERS",
    "MAX_NOTES",
    "MAX_NOTE_CHARS",
    "MAX_OPEN_FOLLOW_UPS",
    "MAX_PHONES",
    "MAX_PREFERENCES",
    "MAX_QUERY_WORDS",
    "MAX_TAGS",
    "event_time",
]

# Sized for a real regular of twenty years (docs/SECURITY.md#limits says why each one) and
# small enough that recall and the cart check over a full record stay under 10 ms
# (docs/BENCHMARKS.md, scripts/bench_limits.py).
MAX_ALLERGIES = 40
MAX_PREFERENCES = 200
MAX_NOTES = 300
MAX_NOTE_CHARS = 120_000
"""Characters of all notes together: 300 notes of 400 characters."""
MAX_TAGS = 50
MAX_IDENTIFIERS = 10
"""Identifiers other than emails and phones (loyalty, crm, …); emails and phones: 10 each."""
MAX_EMAILS = 10
MAX_PHONES = 10
MAX_QUERY_WORDS = 8
"""Words in one recall query: what is typed at a till, not a paragraph."""
MAX_CART_ITEMS = 50
"""Items in one cart check: a table's order or a basket, not a warehouse (the check costs
items x the record's allergies and likes)."""
MAX_OPEN_FOLLOW_UPS = 20
"""Open follow-ups per customer: more actions than this on one card are not read."""
MAX_CLOSED_FOLLOW_UPS = 200
"""Resolved or expired follow-ups kept in the record; past this the oldest are dropped (the
change feed still says they were added and resolved)."""
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
"""Times outside these are typing errors (and far ones overflow with their offset)."""


def event_time(value: datetime | None, field: str = "at") -> datetime | None:
    """A time as stored: aware, in UTC. Without an offset it is read as UTC (spreadsheets
    drop offsets); outside 1900-2200 it is refused."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        value = value.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(field, "date-time out of range") from None
    if not EARLIEST <= value < LATEST:
        raise InvalidInput(field, "date-time must be between 1900 and 2200")
    return value
