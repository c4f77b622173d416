"""Evidence on preferences, read from the record's history (pure).

The event rule (`rules.count_event`) keeps, per item, how many events carried it and when it
was last seen. Here that history is read for the card: a like or dislike shows how often and
how recently its item was bought ("oat milk: 7 times, last 3 days ago"), and items bought
often but not yet recorded are suggested as likes.

Items and labels are matched by the folding every comparison shares (`names.fold`: case,
accents, punctuation), so "Oat Milk", "oat-milk" and "oat milk" are one item. The counts are
those of the history: bounded to its most frequent items (`rules.MAX_DISTINCT_ITEMS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from prefstore.customers.names import fold
from prefstore.models.records import CustomerRecord, History
from prefstore.models.views import SuggestedLike

SUGGEST_AFTER = 3
"""Events an unrecorded item must be in before the card suggests it as a like."""
SUGGESTIONS_ON_CARD = 5


@dataclass(frozen=True, slots=True)
class Seen:
    count: int
    last: datetime | None
    label: str
    """The spelling seen most often (what a suggestion shows)."""
    top: int
    """How often that spelling was seen."""


def key(label: str) -> str:
    """What an item or a label is matched by."""
    return fold(label) or label.casefold()


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a or b
    return max(a, b)


def seen_items(history: History) -> dict[str, Seen]:
    """Each item of the history by its match key: events, last seen, its usual spelling."""
    table: dict[str, Seen] = {}
    for item, count in history.item_counts.items():
        folded = key(item)
        last = history.item_last_seen.get(item)
        held = table.get(folded)
        if held is None:
            table[folded] = Seen(count, last, item, count)
            continue
        usual = (item, count) if count > held.top else (held.label, held.top)
        table[folded] = Seen(held.count + count, _later(held.last, last), *usual)
    return table


def suggested_likes(record: CustomerRecord, table: dict[str, Seen]) -> list[SuggestedLike]:
    """Items in `SUGGEST_AFTER` or more events that no like, dislike or allergy names: most
    frequent first, then most recent. Never an allergy: buying it for someone else is not
    liking it."""
    known = {key(p.label) for p in record.preferences}
    known |= {key(a.label) for a in record.allergies}
    found = [s for k, s in table.items() if s.count >= SUGGEST_AFTER and k not in known]
    found.sort(key=lambda s: (-s.count, -(s.last.timestamp() if s.last else 0), s.label))
    return [
        SuggestedLike(item=s.label, count=s.count, last_seen=s.last)
        for s in found[:SUGGESTIONS_ON_CARD]
    ]
