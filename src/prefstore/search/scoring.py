"""Stage 2 of a search: each candidate is scored with rapidfuzz against the query —
per-word alignment (order-free, so swapped first/last names score full) in the name's own
script and in Latin, how much of their name the query covers, the name typed without its
spaces, phone suffix and email similarity. The score is 0-100.

Word-against-word similarities are computed once per query (candidates share their words:
a hundred Smiths are one "smith"), starting from what the candidate stage already knows.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from rapidfuzz import fuzz, process

from prefstore.customers.names import Nicknames, is_initial, latin, skeleton
from prefstore.models.results import SearchField
from prefstore.search.candidates import (
    NICKNAME_SIMILARITY,
    SKELETON_SIMILARITY,
    TRANSLITERATED,
    prefix_similarity,
    similarity,
)
from prefstore.search.forward import Packed
from prefstore.search.postings import PHONE_SUFFIX, PostingStore
from prefstore.search.query import Query

MIN_SCORE = 70.0
"""Hits scoring below this are left out: "peter smith" is not a way to write "John Smith"."""
OUT_OF_ORDER = 1.0
"""Taken off when the query's words match the name's in another order: "taylor allen" puts
Taylor Allen before Allen Taylor, and "b rosa" Benito Rosa before Rosa Bueno."""
COMMON_NAME = 2.0
"""At most this is added to an inexact word match, by how common the word is: "jamse" is
more likely James than Jamie (a typo's likeliest source is the commoner name)."""


class Scorer:
    """Scores candidates against one query."""

    def __init__(self, store: PostingStore, nicknames: Nicknames, query: Query) -> None:
        self.store = store
        self.nicknames = nicknames
        self.query = query
        self.words = query.words
        self.latin = [latin(w) for w in query.words]
        self.joined = "".join(self.latin)
        self._memo: list[dict[int, float]] = [{} for _ in query.words]
        self._log_n = math.log1p(max(len(store), 1)) + 1.0

    # ------------------------------------------------------------ words
    def _pair(self, i: int, mine: str, theirs: str) -> float:
        if mine == theirs:
            return 100.0
        if is_initial(mine):
            return 100.0 if theirs.startswith(mine) else 0.0
        score = similarity(mine, theirs)
        if theirs.startswith(mine) and (len(mine) >= 3 or i == len(self.words) - 1):
            score = max(score, prefix_similarity(mine))
        if self.nicknames.same_person(mine, theirs):
            score = max(score, NICKNAME_SIMILARITY)
        return score

    def word(self, i: int, wid: int) -> float:
        """Query word `i` against vocabulary word `wid`, in its own script or in Latin."""
        memo = self._memo[i]
        found = memo.get(wid)
        if found is None:
            vocabulary = self.store.vocabulary
            theirs = vocabulary.words[wid]
            found = self._pair(i, self.words[i], theirs)
            their_latin = vocabulary.words[vocabulary.latin_of[wid]]
            if found < 100 and (self.latin[i], their_latin) != (self.words[i], theirs):
                found = max(found, self._pair(i, self.latin[i], their_latin) * TRANSLITERATED)
            consonants = vocabulary.skeletons.get(wid)
            if found < SKELETON_SIMILARITY and consonants and skeleton(self.latin[i]) in consonants:
                found = SKELETON_SIMILARITY + fuzz.ratio(self.latin[i], their_latin) / 10
            if found < 100:
                found += COMMON_NAME * math.log1p(len(vocabulary.postings[wid])) / self._log_n
            memo[wid] = found
        return found

    def name(self, ids: list[int]) -> float:
        """Order-free per-word alignment (a missing first name costs little), blended with how
        much of their name the query covers; a name typed without spaces is compared joined."""
        if not self.words or not ids:
            return 0.0
        grid = [[self.word(i, wid) for wid in ids] for i in range(len(self.words))]
        aligned = sum(max(row) for row in grid) / len(grid)
        where = [row.index(max(row)) for row in grid]
        vocabulary = self.store.vocabulary
        if all(len(vocabulary.words[w]) == 1 for w in ids):
            pass  # a name in characters: typed in Latin family name first or last, both right
        elif any(b <= a for a, b in itertools.pairwise(where)):
            aligned -= OUT_OF_ORDER
        elif len(where) == 1 and where[0] != len(ids) - 1:
            aligned -= OUT_OF_ORDER / 2  # one word alone is more often a surname ("rosa")
        covered = sum(max(col) for col in zip(*grid, strict=True)) / len(ids)
        theirs = "".join(vocabulary.words[vocabulary.latin_of[w]] for w in ids)
        joined = float(fuzz.ratio(self.joined, theirs)) if len(self.words) != len(ids) else 0.0
        if (
            joined < SKELETON_SIMILARITY
            and any(w in vocabulary.skeletons for w in ids)
            and skeleton(self.joined) == skeleton(theirs)
        ):
            # "wafaa al bitar" for "وفاء البيطار": the same consonants, joined.
            joined = SKELETON_SIMILARITY + float(fuzz.ratio(self.joined, theirs)) / 10
        return float(max(0.85 * aligned + 0.15 * covered, min(joined, 99.0)))

    # ------------------------------------------------------------ a candidate
    def score(self, packed: Packed) -> tuple[float, SearchField]:
        """(0-100 score, the field that carried it): the mean over the query's parts."""
        query = self.query
        parts: list[tuple[float, SearchField]] = []
        if query.words:
            parts.append((self.name(packed.words), "name"))
        domains = self.store.domains
        emails = [
            (local, domains[d]) for local, d in zip(packed.locals, packed.domains, strict=True)
        ]
        parts += [(email_score(local, dom, emails), "email") for local, dom in query.emails]
        parts += [(phone_score(number, packed.phones), "phone") for number in query.numbers]
        if not parts:
            return 0.0, "name"
        score = sum(s for s, _f in parts) / len(parts)
        field = max(parts, key=lambda sf: sf[0])[1]
        return round(score, 1), field


def phone_score(number: str, phones: list[str]) -> float:
    best = 0.0
    for their in phones:
        if their.endswith(number) or (len(number) > len(their) and number.endswith(their)):
            return 100.0
        if len(number) > PHONE_SUFFIX and their.endswith(number[-PHONE_SUFFIX:]):
            best = max(best, 90.0)
    return best


def email_score(local: str, domain: str, emails: list[tuple[str, str]]) -> float:
    best = 0.0
    for their_local, their_domain in emails:
        if local == their_local and (not domain or domain == their_domain):
            return 100.0
        local_score = fuzz.ratio(local, their_local)
        if len(local) >= 4 and their_local.startswith(local):
            local_score = max(local_score, prefix_similarity(local))
        score = (
            0.8 * local_score + 0.2 * fuzz.ratio(domain, their_domain) if domain else local_score
        )
        best = max(best, score)
    return best


def closest_locals(store: PostingStore, pool: list[int], query: Query, limit: int) -> list[int]:
    """The `limit` customers of `pool` whose email local parts are closest to the query's
    (rapidfuzz ratio, in one C++ call; pool order breaks ties): a cheap first look before
    full scoring."""
    mine = [local for local, _domain in query.emails if local]
    if not mine:
        return pool[:limit]
    owners: list[int] = []
    theirs: list[str] = []
    for ordinal, packed in store.entries_at(pool):
        owners += [ordinal] * len(packed.locals)
        theirs += packed.locals
    if not theirs:
        return pool[:limit]
    scores = process.cdist(mine, theirs, scorer=fuzz.ratio, dtype=np.uint8).max(axis=0)
    order = np.argsort(-scores.astype(np.int16), kind="stable")
    return list(dict.fromkeys(owners[i] for i in order.tolist()))[:limit]
