"""The parts of an import row beyond a customer's profile: follow-ups and contact consent.

Targets (docs/IMPORT.md):

* `follow_up[:all|staff]` — one follow-up per cell (commas are part of its text), or a list
  in NDJSON; added once per text (`rules.add_follow_up`).
* `consent:<channel>` — `opted_in` / `opted_out` / `unknown` (also `yes`/`no`, `in`/`out`,
  `subscribed`/`unsubscribed`); an empty cell or `unknown` says nothing.
* `opt_out:<channel>` — a CRM's opt-out checkbox (HubSpot's "Unsubscribed from all email",
  Salesforce's `HasOptedOutOfEmail`, `DoNotCall`): true → opted out; false says nothing,
  since "not opted out" is not consent.
* `consent_at` — when the row's consent was stated (ISO 8601). Without it the statement is
  undated: an undated opt-in never replaces an opt-out (`rules.put_consent`).

Every statement's source is `import:<preset>`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from prefstore.customers import rules
from prefstore.errors import InvalidInput
from prefstore.models.fields import explained
from prefstore.models.inputs import FollowUpInput
from prefstore.models.records import ChannelConsent, ConsentStatus

EXTRA_TARGETS = frozenset({"follow_up", "consent", "opt_out", "consent_at"})
_CONSENT: dict[str, ConsentStatus] = {
    "opted_in": "opted_in",
    "opt_in": "opted_in",
    "in": "opted_in",
    "yes": "opted_in",
    "subscribed": "opted_in",
    "opted_out": "opted_out",
    "opt_out": "opted_out",
    "out": "opted_out",
    "no": "opted_out",
    "unsubscribed": "opted_out",
    "unknown": "unknown",
}
_TRUE = frozenset({"true", "yes", "y", "1", "x", "opted_out", "unsubscribed"})
_FALSE = frozenset({"false", "no", "n", "0", "opted_in", "subscribed"})


def _word(text: str) -> str:
    return "_".join(text.casefold().replace("-", " ").split())


class RowExtras:
    """Collects one row's follow-ups and consent as its cells are mapped."""

    def __init__(self, preset: str) -> None:
        self.source = f"import:{preset}"
        self._follow_ups: list[tuple[str, str, str]] = []
        """(text, visibility, column)."""
        self._consent: dict[str, ConsentStatus] = {}
        self._at: datetime | None = None

    def put(self, base: str, qualifier: str, column: str, value: Any) -> None:
        """One mapped cell (or NDJSON value) of a target in `EXTRA_TARGETS`."""
        if base == "follow_up":
            texts = value if isinstance(value, list) else [value]
            self._follow_ups += [(str(t), qualifier or "all", column) for t in texts if t]
            return
        text = _word(str(value))
        if base == "consent_at":
            self._at = _timestamp(str(value), column)
        elif base == "consent":
            if text not in _CONSENT:
                raise InvalidInput(column, "expected opted_in, opted_out or unknown")
            self._consent[qualifier] = _CONSENT[text]
        elif text in _TRUE:
            self._consent[qualifier] = "opted_out"
        elif text not in _FALSE:
            raise InvalidInput(column, "expected true or false (opted out or not)")

    def follow_ups(self) -> list[FollowUpInput]:
        found: list[FollowUpInput] = []
        for text, visibility, column in self._follow_ups:
            try:
                given = {"text": text.strip(), "visibility": visibility}
                found.append(msgspec.convert(given, FollowUpInput))
            except msgspec.ValidationError as exc:
                raise InvalidInput(column, explained(str(exc).partition(" - at `")[0])) from None
        return found

    def consent(self) -> dict[str, ChannelConsent]:
        """The row's statements per channel, dated by `consent_at` or undated (None)."""
        return {
            channel: ChannelConsent(status=status, source=self.source, at=self._at)
            for channel, status in self._consent.items()
            if status != "unknown"
        }


def _timestamp(text: str, column: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace(" UTC", "").strip())
    except ValueError:
        raise InvalidInput(column, "not an ISO 8601 date-time") from None
    return rules.event_time(value, column) or value
