"""Recall: a fuzzy query over what one customer told us and what they had.

"chai" finds the chai latte they ordered six times; "oatmilk" finds the preference
"Oat milk"; "nuts" finds the allergy "Tree nuts". Each hit says where it matched and how well.
"""

from __future__ import annotations

from rapidfuzz import fuzz

from prefstore.customers.reader import View
from prefstore.models.records import CustomerRecord
from prefstore.models.results import RecallHit
from prefstore.search.text import Phrase, Prepared, find_phrase, terms

MIN_SCORE = 70.0
"""Below this a hit is noise ("tea" against "team meeting" scores lower)."""
PREFIX_SCORE = 90.0
"""A query word that begins a longer word ("capp" → "cappuccino"): what one types at a till."""
_KIND_ORDER = {"allergy": 0, "preference": 1, "item": 2, "note": 3}


def _term_score(query_term: str, text_terms: list[str]) -> float:
    best = 0.0
    for term in text_terms:
        if term == query_term:
            return 100.0
        if len(query_term) >= 3 and term.startswith(query_term):
            best = max(best, PREFIX_SCORE)
        best = max(best, fuzz.ratio(query_term, term))
    return best


def score_text(query: Phrase, text: str) -> float:
    """0-100: the query as a phrase in the text (whole words or a compound), else the mean of
    each query word's best match (exact, a prefix, or a typo away)."""
    prepared = Prepared(text)
    found = find_phrase(prepared, query)
    if found is not None:
        return found.score
    if not query.terms or not prepared.terms:
        return 0.0
    per_term = [_term_score(t, prepared.terms) for t in query.terms]
    return sum(per_term) / len(per_term)


def recall(record: CustomerRecord, query: str, view: View, limit: int = 20) -> list[RecallHit]:
    """Hits over allergies, preferences, notes the caller may see, and event items."""
    phrase = Phrase(query)
    if not terms(query):
        return []
    hits: list[RecallHit] = []

    def consider(text: str | None, hit: RecallHit) -> None:
        if not text:
            return
        score = score_text(phrase, text)
        if score >= MIN_SCORE:
            hit.score = round(score, 1)
            hits.append(hit)

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
        if n.visibility == "all" or view == "staff":
            consider(
                n.text, RecallHit(kind="note", field="notes.text", text=n.text, score=0, id=n.id)
            )
    for item, count in record.history.item_counts.items():
        consider(item, RecallHit(kind="item", field="items", text=item, score=0, count=count))
    # Best match first; among equals the safety track first, then what they had most often.
    hits.sort(key=lambda h: (-h.score, _KIND_ORDER[h.kind], -(h.count or 0)))
    return hits[:limit]
