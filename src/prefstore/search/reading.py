"""A cart item as the cart check reads it: every phrase of the allergen table it holds (one
pass over the item through the table's prefix index), the words the table does not know
(typo candidates) and what the item says it is not (`prefstore.search.negation`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from prefstore.search.allergens import FUZZY_MIN_LENGTH, PREFIX, AllergenTable, unspaced
from prefstore.search.negation import STEM_SLACK, Negations, Span, read_negations
from prefstore.search.text import Phrase, Prepared

Found = tuple[int, int, float, str]
"""An occurrence of a phrase: compact start, end, score, the phrase (compact)."""
Typo = tuple[str, int, int, float]
"""An item word read as a misspelling: the word, its compact start and end, the score."""


def _score(item: Prepared, start: int, end: int, loose: bool) -> float:
    """Whole words 100; the start or end of a compound word 92 (4+ letters, as
    `text.find_phrase`); in scripts written without spaces anywhere in a run, 100; else 0."""
    at_start, at_end = start in item.boundaries, end in item.boundaries
    if (at_start and at_end) or loose:
        return 100.0
    return 92.0 if (at_start or at_end) and end - start >= 4 else 0.0


def occurrences(item: Prepared, phrase: Phrase) -> list[Found]:
    """Every occurrence of one phrase (a label that is not in the table)."""
    needle, found = phrase.compact, []
    start = item.compact.find(needle) if needle else -1
    while start != -1:
        score = _score(item, start, start + len(needle), unspaced(needle))
        if score:
            found.append((start, start + len(needle), score, needle))
        start = item.compact.find(needle, start + 1)
    return found


def scan(table: AllergenTable, item: Prepared) -> list[Found]:
    """Every occurrence of every table phrase: one pass over the item, position by position,
    through the table's prefix index."""
    text, index, found = item.compact, table.index, []
    for start in range(len(text)):
        for size in range(1, min(PREFIX, len(text) - start) + 1):
            for needle in index.get(text[start : start + size], ()):
                if len(needle) > size and not text.startswith(needle, start):
                    continue
                end = start + len(needle)
                score = _score(item, start, end, unspaced(needle))
                if score:
                    found.append((start, end, score, needle))
    return found


def _known(table: AllergenTable, term: str) -> bool:
    """A table word, or one with an ending added ("buttered", "creamy"): never a typo of
    another word ("buttered" is not a misspelt "battered")."""
    shortest = max(4, len(term) - STEM_SLACK)
    return (
        term in table.vocabulary
        or unspaced(term)
        or any(term[:cut] in table.vocabulary for cut in range(shortest, len(term)))
    )


@dataclass
class Reading:
    item: Prepared
    found: list[Found]
    """Every table phrase in the item (`scan`)."""
    negations: Negations
    unknown: list[tuple[str, int, int]] = field(default_factory=list)
    """Item words of 5+ letters the table does not know, where they are: typo candidates."""
    memo: dict[tuple[str, float], object] = field(default_factory=dict)
    """Per-item results shared by the customer's rules (`cartcheck`: group → best hit)."""
    labels: tuple[str, ...] = ()
    """The customer's one-word labels (set by `cartcheck`), read for typos together."""
    _typos: dict[str, list[Typo]] | None = None

    def spans(self, words: frozenset[str]) -> list[Span]:
        """Where any of `words` occur."""
        return [(s, e) for s, e, _score, w in self.found if w in words] if words else []

    def judge(self, groups: tuple[str, ...], start: int, end: int, core: bool) -> tuple[bool, str]:
        return self.negations.judge(groups, start, end, core)

    def segment_of(self, position: int) -> Span:
        return self.negations.segment_of(position)

    def typos(self, cutoff: float) -> dict[str, list[Typo]]:
        """Label → the item words that may be a misspelling of it (score ≥ `cutoff`, the
        same on every call), for all of the customer's `labels` at once."""
        if self._typos is None:
            self._typos = {}
            for term, start, end in self.unknown if self.labels else ():
                for label, score, _i in process.extract(
                    term, self.labels, scorer=fuzz.ratio, score_cutoff=cutoff, limit=None
                ):
                    self._typos.setdefault(label, []).append((term, start, end, float(score)))
        return self._typos


def read_item(table: AllergenTable, text: str) -> Reading:
    item = Prepared(text)
    reading = Reading(item, scan(table, item), read_negations(table, item))
    position = 0
    for term in item.terms:
        if len(term) >= FUZZY_MIN_LENGTH and not _known(table, term):
            reading.unknown.append((term, position, position + len(term)))
        position += len(term)
    negations = reading.negations
    for group in table.groups.values():  # words that alone say a group is absent ("vegan")
        for start, _end in reading.spans(group.cleared_by):
            negations.clear(group.key, negations.clause_of(start), group.name)
    return reading
