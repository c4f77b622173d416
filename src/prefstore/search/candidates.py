"""Stage 1 of a search: candidates. A query word is first expanded to *vocabulary* words —
exact, one deletion away in either direction (which covers insertion, deletion,
substitution and transposition; SymSpell's trick), the same metaphone key (jellyfish), a
prefix of the word being typed, or as a last resort the closest words by rapidfuzz — each
with a similarity. The vocabulary of distinct name words is tiny next to the customers, so
this is cheap; the postings of the chosen words are then summed per customer with numpy
into a coarse score, and the best few hundred customers go on to be scored.
"""

from __future__ import annotations

import bisect
from array import array

import jellyfish
import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process

from prefstore.search.postings import PHONE_SUFFIX, PostingStore, deletions, grams
from prefstore.search.query import Query
from prefstore.search.scoring import PREFIX_SIMILARITY

CANDIDATES = 200
"""At most this many customers are re-scored with rapidfuzz per query, by coarse score."""
COARSE_FLOOR = 0.7
"""…and only those whose coarse score is within this fraction of the best one: a customer
far behind on the cheap score does not win on the exact one, and re-scoring is where the
time goes."""
MAX_EXPANSIONS = 24
"""Vocabulary words one query word may expand to (the most similar ones)."""
MIN_WORD_SIMILARITY = 60.0
FALLBACK_BELOW = 75.0
"""When no expansion is this similar, rapidfuzz scans the whole vocabulary for the word."""

IntArray = npt.NDArray[np.int32]


class Scratch:
    """Per-ordinal score buffers, reused (and left zeroed) by every query."""

    def __init__(self) -> None:
        self.acc = np.zeros(1024, dtype=np.float32)
        self.tmp = np.zeros(1024, dtype=np.float32)

    def grow(self, size: int) -> None:
        if size > len(self.acc):
            capacity = max(size, len(self.acc) * 2)
            self.acc = np.zeros(capacity, dtype=np.float32)
            self.tmp = np.zeros(capacity, dtype=np.float32)

    @property
    def nbytes(self) -> int:
        return self.acc.nbytes + self.tmp.nbytes


def expand(store: PostingStore, word: str, typing: bool) -> dict[str, float]:
    """Vocabulary words a query word may stand for, with their similarity (0-100)."""
    found: dict[str, float] = {}

    def add(candidate: str, score: float | None = None) -> None:
        if candidate not in found and store.names.get(candidate):
            found[candidate] = fuzz.ratio(word, candidate) if score is None else score

    add(word, 100.0)
    if len(word) < 2:
        return found
    for deleted in {word} | deletions(word):
        add(deleted)
        for candidate in store.deletes.get(deleted, ()):
            add(candidate)
    if word.isalpha():
        for candidate in store.sounds.get(jellyfish.metaphone(word), ()):
            add(candidate)
    if typing:
        vocabulary = store.sorted_vocabulary()
        start = bisect.bisect_left(vocabulary, word)
        for candidate in vocabulary[start : start + MAX_EXPANSIONS]:
            if not candidate.startswith(word):
                break
            score = PREFIX_SIMILARITY if len(word) >= 3 else PREFIX_SIMILARITY - 10
            add(candidate, max(score, fuzz.ratio(word, candidate)))
    if not found or max(found.values()) < FALLBACK_BELOW:
        for candidate, score, _ in process.extract(
            word,
            store.sorted_vocabulary(),
            scorer=fuzz.ratio,
            score_cutoff=MIN_WORD_SIMILARITY,
            limit=MAX_EXPANSIONS // 2,
        ):
            add(candidate, score)
    best = sorted(found.items(), key=lambda kv: -kv[1])[:MAX_EXPANSIONS]
    return {w: s for w, s in best if s >= MIN_WORD_SIMILARITY}


def split_joined(store: PostingStore, words: list[str]) -> list[str]:
    """ "johnsmith" typed without its space → "john", "smith" when both are known."""
    out: list[str] = []
    for word in words:
        if len(word) >= 6 and not store.names.get(word):
            for i in range(2, len(word) - 1):
                if store.names.get(word[:i]) and store.names.get(word[i:]):
                    out += [word[:i], word[i:]]
                    break
            else:
                out.append(word)
        else:
            out.append(word)
    return out


def query_parts(store: PostingStore, query: Query) -> list[list[tuple[array[int], float]]]:
    """Per part of the query, the postings it draws on with their weights."""
    parts: list[list[tuple[array[int], float]]] = []
    words = [w for w in query.words if len(w) > 1] or query.words
    for i, word in enumerate(words):
        expanded = expand(store, word, typing=i == len(words) - 1)
        parts.append([(store.names[w], s) for w, s in expanded.items()])
    for number in query.numbers:
        postings = store.phones.get(number[-PHONE_SUFFIX:])
        if len(number) >= PHONE_SUFFIX and postings:
            parts.append([(postings, 100.0)])
    for local, _domain in query.emails:
        local_grams = grams(local) if local else set()
        share = 100.0 / max(1, len(local_grams))
        for gram in local_grams:
            postings = store.grams.get(gram)
            if postings:
                parts.append([(postings, share)])
    return parts


def candidates(
    store: PostingStore, scratch: Scratch, query: Query, limit: int = CANDIDATES
) -> IntArray:
    """The ordinals of the best `limit` customers by coarse score."""
    touched: list[IntArray] = []
    acc, tmp = scratch.acc, scratch.tmp
    try:
        for part in query_parts(store, query):
            # Ascending weight: where a customer is in several postings of one part
            # (a "jon" who is also filed under "john"), the best weight is written last.
            views = [
                (np.frombuffer(postings, dtype=np.int32), weight)
                for postings, weight in sorted(part, key=lambda pw: pw[1])
                if len(postings)
            ]
            if not views:
                continue
            for view, weight in views:
                tmp[view] = weight
            cat = np.concatenate([v for v, _w in views])
            acc[cat] += tmp[cat]
            tmp[cat] = 0
            touched.append(cat)
        if not touched:
            return np.zeros(0, dtype=np.int32)
        everyone = np.concatenate(touched)
        scores = acc[everyone]
        take = min(len(everyone), limit * 4)
        top = np.argpartition(scores, len(scores) - take)[len(scores) - take :]
        unique = np.unique(everyone[top])
        coarse = acc[unique]
        keep = unique[coarse >= coarse.max() * COARSE_FLOOR]
        best = keep[np.argsort(-acc[keep], kind="stable")[:limit]]
        chosen: IntArray = best.astype(np.int32)
        return chosen
    finally:
        for cat in touched:
            acc[cat] = 0
