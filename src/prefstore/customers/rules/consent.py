"""The record rule for contact consent, per channel (pure).

An unknown says nothing; the same status keeps the first statement; an opt-in replaces an
opt-out only when it is known to be later; an opt-out stands unless it is known to be
earlier. A statement's time is when the person said it, None when its source does not say:
an undated opt-in never replaces an opt-out (an import never silently re-opts-in anyone),
an undated opt-out always stands (when in doubt, the person is not contacted)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import msgspec

from prefstore.customers.rules.limits import event_time
from prefstore.models.records import ChannelConsent, Consent

__all__ = ["ConsentChange", "change_consent", "put_consent"]


def put_consent(held: ChannelConsent, given: ChannelConsent, now: datetime) -> ChannelConsent:
    """One channel's consent once `given` is heard; `held` itself when it stands. `given.at`
    is when the person said it, None when the source does not say (it is then stamped `now`
    but never counts as later than anything): when in doubt, the person is not contacted."""
    if given.status in ("unknown", held.status):
        return held
    said, held_at = given.at, held.at if held.status != "unknown" else None
    if given.status == "opted_in" and held.status == "opted_out":
        if said is None or held_at is None or said <= held_at:
            return held  # never silently undo an opt-out that is later, as late, or undated
    elif said is not None and held_at is not None and said < held_at:
        return held  # an opt-out stated before the opt-in we hold
    return msgspec.structs.replace(given, at=said or now)


@dataclass(frozen=True, slots=True)
class ConsentChange:
    consent: Consent
    previous: dict[str, str]
    """`consent.<channel>` -> the status it replaced, for the audit entry."""
    refused: list[str]
    """Channels whose opt-in was kept out by a later (or undated) opt-out."""


def change_consent(
    consent: Consent, given: dict[str, ChannelConsent], now: datetime
) -> ConsentChange:
    """`consent` with each channel of `given` put by `put_consent`."""
    new = msgspec.structs.replace(consent)
    previous: dict[str, str] = {}
    refused: list[str] = []
    for channel, stated in given.items():
        held: ChannelConsent = getattr(consent, channel)
        kept = put_consent(held, msgspec.structs.replace(stated, at=event_time(stated.at)), now)
        if kept is not held:
            setattr(new, channel, kept)
            previous[f"consent.{channel}"] = held.status
        elif stated.status not in ("unknown", held.status):
            refused.append(channel)
    return ConsentChange(new, previous, refused)
