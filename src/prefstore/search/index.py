"""The in-process customer search index: find a person from a mistyped name, a partial
email or the last digits of a phone.

Two stages, behind this facade:

1. **Candidates** (`prefstore.search.candidates`). Each customer has a small integer
   *ordinal*, filed in inverted postings per folded name word, per email-local-part
   trigram and per phone's last four digits (`prefstore.search.postings`). A query word is
   expanded to similar vocabulary words, their postings are summed per customer with numpy
   into a coarse score, and the best few hundred customers go on.
2. **Scoring** (`prefstore.search.scoring`). Those candidates are scored with rapidfuzz
   against the query: per-word alignment (order-free, so swapped first/last names score
   full), whole-name similarity, phone suffix and email similarity. The score is 0-100.

Everything is folded (case, accents, punctuation) on both sides. The index is plain
synchronous Python: a search takes a few milliseconds and never awaits, so it needs no lock
against the follower that applies changes between searches.
"""

from __future__ import annotations

import threading
from datetime import datetime

from prefstore.customers.reader import View
from prefstore.models.records import CustomerRecord
from prefstore.models.results import SearchHit
from prefstore.search import candidates as stage1
from prefstore.search.candidates import CANDIDATES, IntArray, Scratch
from prefstore.search.postings import PostingStore
from prefstore.search.query import Query, parse_query
from prefstore.search.scoring import MIN_SCORE, hit_of, score_entry


class SearchIndex:
    """The facade: packed postings (`postings`), candidates (`candidates`) and scoring
    (`scoring`) behind one lock."""

    def __init__(self) -> None:
        self._store = PostingStore()
        self._scratch = Scratch()
        # Uncontended when searches and changes share one event loop (as in a server); it
        # keeps the index whole should they ever run on different threads (test harnesses
        # run the lifespan, hence the follower, on a thread of its own).
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._store.ordinals)

    def __contains__(self, customer_id: object) -> bool:
        return customer_id in self._store.ordinals

    # ------------------------------------------------------------ changes
    def upsert(self, record: CustomerRecord) -> None:
        """Index (or re-index) one customer from their current record."""
        with self._lock:
            self._store.upsert(record)
            self._scratch.grow(len(self._store.entries))

    def remove(self, customer_id: str) -> bool:
        with self._lock:
            return self._store.remove(customer_id)

    # ------------------------------------------------------------ stage 1: candidates
    def expand(self, word: str, typing: bool) -> dict[str, float]:
        """Vocabulary words a query word may stand for, with their similarity (0-100)."""
        return stage1.expand(self._store, word, typing)

    def candidates(self, query: Query, limit: int = CANDIDATES) -> IntArray:
        """The ordinals of the best `limit` customers by coarse score."""
        return stage1.candidates(self._store, self._scratch, query, limit)

    # ------------------------------------------------------------ stage 2: scoring
    def search(self, text: str, limit: int, view: View) -> list[SearchHit]:
        query = parse_query(text)
        if query.empty:
            return []
        with self._lock:
            words = stage1.split_joined(self._store, query.words)
            query = Query(words, query.numbers, query.emails)
            entries = list(self._store.entries_at(self.candidates(query)))
        scored = [
            (score, field, entry)
            for entry in entries
            for score, field in [score_entry(query, entry)]
            if score >= MIN_SCORE
        ]
        scored.sort(key=lambda s: (-s[0], -_timestamp(s[2].last_visit), s[2].id))
        return [hit_of(entry, score, field, view) for score, field, entry in scored[:limit]]

    # ------------------------------------------------------------ introspection
    def memory_breakdown(self) -> dict[str, int]:
        """Approximate bytes held per structure (for the benchmark's report)."""
        return {**self._store.memory_breakdown(), "scratch": self._scratch.nbytes}


def _timestamp(moment: datetime | None) -> float:
    return moment.timestamp() if moment else 0.0
