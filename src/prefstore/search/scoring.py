"""Stage 2 of a search: each candidate is scored with rapidfuzz against the query —
per-word alignment (order-free, so swapped first/last names score full), whole-name
similarity, phone suffix and email similarity. The score is 0-100. A hit carries cues to
tell people apart; phones and emails in them are masked as on the caller's card view
(`customers/cards.py`).
"""

from __future__ import annotations

from rapidfuzz import fuzz

from prefstore.customers.cards import CONTACT_VIEWS, View, mask_email, mask_phone
from prefstore.models.results import SearchCues, SearchField, SearchHit
from prefstore.search.postings import PHONE_SUFFIX, Entry, email_local, name_words
from prefstore.search.query import Query
from prefstore.search.text import digits

PREFIX_SIMILARITY = 90.0
"""What a word being typed ("smi") scores against the words it begins ("smith")."""
MIN_SCORE = 70.0
"""Hits scoring below this are left out: "peter smith" is not a way to write "John Smith"."""


# ---------------------------------------------------------------- scoring one candidate
def _word_score(word: str, words: list[str], typing: bool) -> float:
    if len(word) == 1:  # an initial
        return 100.0 if any(w.startswith(word) for w in words) else 0.0
    best = 0.0
    for candidate in words:
        if candidate == word:
            return 100.0
        score = fuzz.ratio(word, candidate)
        if typing and candidate.startswith(word):
            score = max(score, PREFIX_SIMILARITY if len(word) >= 3 else PREFIX_SIMILARITY - 10)
        best = max(best, score)
    return best


def name_score(words: list[str], name: str) -> float:
    """Order-free per-word alignment (a missing first name costs little), blended with
    whole-name similarity; a name typed without spaces is compared joined."""
    theirs = name_words(name)
    if not words or not theirs:
        return 0.0
    per_word = [_word_score(w, theirs, typing=i == len(words) - 1) for i, w in enumerate(words)]
    aligned = sum(per_word) / len(per_word)
    whole = fuzz.token_sort_ratio(" ".join(words), " ".join(theirs))
    joined = fuzz.ratio("".join(words), "".join(theirs))
    return max(0.85 * aligned + 0.15 * whole, min(joined, 99.0))


def phone_score(number: str, phones: list[str]) -> float:
    best = 0.0
    for phone in phones:
        their = digits(phone)
        if their.endswith(number):
            return 100.0
        if len(number) > PHONE_SUFFIX and their.endswith(number[-PHONE_SUFFIX:]):
            best = max(best, 90.0)
    return best


def email_score(local: str, domain: str, emails: list[str]) -> float:
    best = 0.0
    for email in emails:
        their_local, their_domain = email_local(email)
        if local == their_local and (not domain or domain == their_domain):
            return 100.0
        local_score = fuzz.ratio(local, their_local)
        if len(local) >= 4 and their_local.startswith(local):
            local_score = max(local_score, PREFIX_SIMILARITY)
        score = (
            0.8 * local_score + 0.2 * fuzz.ratio(domain, their_domain) if domain else local_score
        )
        best = max(best, score)
    return best


def score_entry(query: Query, entry: Entry) -> tuple[float, SearchField]:
    """(0-100 score, the field that carried it): the mean over the query's parts."""
    parts: list[tuple[float, SearchField]] = []
    if query.words:
        parts.append((name_score(query.words, entry.name), "name"))
    parts += [(email_score(local, dom, entry.emails), "email") for local, dom in query.emails]
    parts += [(phone_score(number, entry.phones), "phone") for number in query.numbers]
    if not parts:
        return 0.0, "name"
    score = sum(s for s, _f in parts) / len(parts)
    field = max(parts, key=lambda sf: sf[0])[1]
    return round(score, 1), field


def hit_of(entry: Entry, score: float, field: SearchField, view: View) -> SearchHit:
    phone = entry.phones[0] if entry.phones else None
    email = entry.emails[0] if entry.emails else None
    if view not in CONTACT_VIEWS:
        phone = mask_phone(phone) if phone else None
        email = mask_email(email) if email else None
    return SearchHit(
        id=entry.id,
        name=entry.name,
        score=score,
        matched=field,
        cues=SearchCues(
            phone=phone, email=email, last_visit=entry.last_visit, tags=entry.tags, city=entry.city
        ),
    )
