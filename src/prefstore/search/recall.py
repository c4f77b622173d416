"""Recall: a fuzzy query over what one customer told us and what they had.

"chai" finds the chai latte they ordered six times; "oatmilk" finds the preference
"Oat milk"; "nuts" finds the allergy "Tree nuts". Each hit says where it matched and how well.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from rapidfuzz import fuzz, process

from prefstore.customers.cards import STAFF_NOTE_VIEWS, View
from prefstore.models.records import CustomerRecord
from prefstore.models.results import RecallHit
from prefstore.search.text import Phrase, Prepared, find_phrase, terms

MIN_SCORE = 70.0
"""Below this a hit is noise ("tea" against "team meeting" scores lower)."""
PREFIX_SCORE = 90.0
"""A query word that begins a longer word ("capp" → "cappuccino"): what one types at a till."""
_KIND_ORDER = {"allergy": 0, "preference": 1, "item": 2, "note": 3}


@lru_cache(maxsize=8192)
def _prepared(text: str) -> Prepared:
    """A text's terms, kept across requests: a regular's notes are read far more often than
    they are written, and preparing 120,000 characters of notes each time costs milliseconds."""
    return Prepared(text)


@lru_cache(maxsize=8192)
def _unique_terms(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_prepared(text).terms))


class _TermScores:
    """Each query word's score against every distinct word of the record, computed once
    per request (rapidfuzz's `cdist`, in C++), then read per text with numpy: recall over a
    record at every limit stays under 10 ms (docs/BENCHMARKS.md)."""

    def __init__(self, query_terms: tuple[str, ...], texts: list[str]) -> None:
        vocabulary = list(dict.fromkeys(t for text in texts for t in _unique_terms(text)))
        self.index = {term: i for i, term in enumerate(vocabulary)}
        matrix = process.cdist(query_terms, vocabulary, scorer=fuzz.ratio, dtype=np.float32)
        for row, query_term in enumerate(query_terms):
            if len(query_term) >= 3:
                # A query word that begins a longer word: what one types at a till.
                prefixed = [i for i, term in enumerate(vocabulary) if term.startswith(query_term)]
                matrix[row, prefixed] = np.maximum(matrix[row, prefixed], PREFIX_SCORE)
        self.matrix = matrix

    def mean_best(self, texts: list[str]) -> list[float]:
        """For each text, the mean over query words of each one's best match among the
        text's words: one gather and one `maximum.reduceat` for all texts together."""
        if not texts or not self.matrix.shape[0]:
            return [0.0] * len(texts)
        columns: list[int] = []
        starts: list[int] = []
        for text in texts:
            starts.append(len(columns))
            columns += [self.index[t] for t in _unique_terms(text)] or [-1]
        gathered = self.matrix[:, columns]
        gathered[:, [i for i, c in enumerate(columns) if c < 0]] = 0.0
        best = np.maximum.reduceat(gathered, starts, axis=1)
        return [float(v) for v in best.mean(axis=0)]


def score_text(query: Phrase, text: str, scores: _TermScores | None = None) -> float:
    """0-100: the query as a phrase in the text (whole words or a compound), else the mean of
    each query word's best match (exact, a prefix, or a typo away)."""
    found = find_phrase(_prepared(text), query)
    if found is not None:
        return found.score
    if not query.terms:
        return 0.0
    return (scores or _TermScores(query.terms, [text])).mean_best([text])[0]


def recall(record: CustomerRecord, query: str, view: View, limit: int = 20) -> list[RecallHit]:
    """Hits over allergies, preferences, notes the caller may see, and event items."""
    phrase = Phrase(query)
    if not terms(query):
        return []
    candidates: list[tuple[str, RecallHit]] = []

    def consider(text: str | None, hit: RecallHit) -> None:
        if text:
            candidates.append((text, hit))

    for a in record.allergies:
        for field, text in (("label", a.label), ("note", a.note)):
            consider(
                text,
                RecallHit(
                    kind="allergy",
                    field=f"allergies.{field}",
                    text=text or "",
                    score=0,
                    id=a.id,
                    severity=a.severity,
                ),
            )
    for p in record.preferences:
        for field, text in (("label", p.label), ("note", p.note)):
            consider(
                text,
                RecallHit(
                    kind="preference",
                    field=f"preferences.{field}",
                    text=text or "",
                    score=0,
                    id=p.id,
                    sentiment=p.sentiment,
                ),
            )
    for n in record.notes:
        if n.visibility == "all" or view in STAFF_NOTE_VIEWS:
            consider(
                n.text, RecallHit(kind="note", field="notes.text", text=n.text, score=0, id=n.id)
            )
    for item, count in record.history.item_counts.items():
        consider(item, RecallHit(kind="item", field="items", text=item, score=0, count=count))
    texts = [text for text, _hit in candidates]
    fuzzy = _TermScores(phrase.terms, texts).mean_best(texts) if phrase.terms else []
    hits: list[RecallHit] = []
    for i, (text, hit) in enumerate(candidates):
        found = find_phrase(_prepared(text), phrase)
        score = found.score if found is not None else (fuzzy[i] if fuzzy else 0.0)
        if score >= MIN_SCORE:
            hit.score = round(score, 1)
            hits.append(hit)
    # Best match first; among equals the safety track first, then what they had most often.
    hits.sort(key=lambda h: (-h.score, _KIND_ORDER[h.kind], -(h.count or 0)))
    return hits[:limit]
