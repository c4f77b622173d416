"""The record rules for follow-ups (pure): an action owed to the person, added open, shown
until resolved or expired, resolved once (the first resolution stands), added once per text
by an import; open ones are bounded, and past `MAX_CLOSED_FOLLOW_UPS` the oldest closed ones
are dropped."""

from __future__ import annotations

from datetime import datetime

import msgspec

from prefstore.customers.rules.history import as_utc
from prefstore.customers.rules.items import (
    Placed,
    check_text,
    clean_text,
    new_id,
    note_key,
    over_limit,
    replaced,
)
from prefstore.customers.rules.limits import (
    MAX_CLOSED_FOLLOW_UPS,
    MAX_OPEN_FOLLOW_UPS,
    event_time,
)
from prefstore.errors import NotFound
from prefstore.models.inputs import FollowUpInput
from prefstore.models.records import FollowUp, Resolution

__all__ = ["add_follow_up", "follow_up_from", "is_open", "resolve_follow_up"]


def follow_up_from(
    data: FollowUpInput, actor: str, now: datetime, *, item_id: str | None = None
) -> FollowUp:
    # An expiry already past is accepted, not refused: a CRM's history brings such follow-ups,
    # and they belong in the record's history (never on the card: `is_open` is false).
    expires = event_time(data.expires_at, "expires_at")
    return FollowUp(
        id=item_id or new_id(),
        text=clean_text(data.text, "text"),
        visibility=data.visibility,
        created_by=actor,
        created_at=now,
        due=data.due,
        expires_at=expires,
        venue=data.venue,
    )


def is_open(follow_up: FollowUp, now: datetime) -> bool:
    """Not resolved and not expired: it is on the card."""
    expires = as_utc(follow_up.expires_at)
    return follow_up.resolved is None and (expires is None or expires > now)


def add_follow_up(
    follow_ups: list[FollowUp], given: FollowUp, now: datetime, *, once: bool = False
) -> Placed[FollowUp]:
    """Add `given` (open). `once` (an import): not when one with the same text exists, open
    or closed, so running an import again changes nothing."""
    key = note_key(given.text)
    old = next((f for f in follow_ups if note_key(f.text) == key), None) if once else None
    if old is not None:
        return Placed(follow_ups, old, old)
    opened = sum(1 for f in follow_ups if is_open(f, now)) + 1
    over_limit("follow_ups", opened, MAX_OPEN_FOLLOW_UPS, "open follow-ups")
    closed = [f for f in follow_ups if not is_open(f, now)]
    dropped = {f.id for f in closed[: max(0, len(closed) - MAX_CLOSED_FOLLOW_UPS)]}
    return Placed([*(f for f in follow_ups if f.id not in dropped), given], given)


def resolve_follow_up(
    follow_ups: list[FollowUp], follow_up_id: str, resolution: Resolution
) -> Placed[FollowUp]:
    """Close one follow-up (an expired one too). One already resolved stays as it is: the
    first resolution stands. NotFound for an unknown id."""
    old = next((f for f in follow_ups if f.id == follow_up_id), None)
    if old is None:
        raise NotFound(f"no follow-up {follow_up_id}")
    if old.resolved is not None:
        return Placed(follow_ups, old, old)
    note = check_text(resolution.note, "note").strip() or None if resolution.note else None
    new = msgspec.structs.replace(old, resolved=msgspec.structs.replace(resolution, note=note))
    return Placed(replaced(follow_ups, old, new), new, old)
