"""The in-process customer search index: find a person from a mistyped name in any script,
a nickname, the first letters of their names, a partial email or the last digits of a phone.

Two stages, behind this facade:

1. **Candidates** (`prefstore.search.candidates`). Each customer has a small integer
   *ordinal*, filed in inverted postings per name word — in its own script and in Latin —,
   per sampled email-local-part trigram and per phone's last four digits
   (`prefstore.search.postings`). A query word is expanded to similar vocabulary words, their
   postings are summed per customer with numpy into a coarse score, and the best hundred or
   so customers go on.
2. **Scoring** (`prefstore.search.scoring`). Those candidates are scored with rapidfuzz
   against the query from their packed entries (`prefstore.search.forward`). The score is
   0-100; ties go to the latest visit, then the id.

The index keeps no cues: `search` reads them from the cards of the hits it returns
(`prefstore.search.cues`), one round trip to Redis. Ranking (`rank`) is plain synchronous
Python: it takes a few milliseconds and never awaits, so it needs no lock against the
follower that applies changes between searches.
"""

from __future__ import annotations

import threading

from prefstore.customers.cards import View
from prefstore.customers.names import Nicknames, default_nicknames, is_initial
from prefstore.models.records import CustomerRecord
from prefstore.models.results import SearchHit
from prefstore.search import candidates as stage1
from prefstore.search.candidates import CANDIDATES, EMAIL_POOL, Scratch
from prefstore.search.cues import CardCues, Ranked
from prefstore.search.postings import PostingStore
from prefstore.search.query import Query, parse_query
from prefstore.search.scoring import MIN_SCORE, Scorer, closest_locals


class SearchIndex:
    """The facade: packed entries and postings (`postings`), candidates (`candidates`) and
    scoring (`scoring`) behind one lock, and the cues of the hits (`cues`)."""

    def __init__(self, cues: CardCues | None = None, nicknames: Nicknames | None = None) -> None:
        self.cues = cues
        """Where `search` reads the hits' cues; None for an index that only ranks."""
        self.nicknames = nicknames or default_nicknames()
        self._store = PostingStore()
        self._scratch = Scratch()
        # Uncontended when searches and changes share one event loop (as in a server); it
        # keeps the index whole should they ever run on different threads (test harnesses
        # run the lifespan, hence the follower, on a thread of its own).
        self._lock = threading.Lock()

    def empty_copy(self) -> SearchIndex:
        """A new, empty index with the same cues and nicknames (for a rebuild)."""
        return SearchIndex(self.cues, self.nicknames)

    def __len__(self) -> int:
        return len(self._store)

    def __contains__(self, customer_id: object) -> bool:
        return (
            isinstance(customer_id, str) and self._store.forward.ordinal_of(customer_id) is not None
        )

    # ------------------------------------------------------------ changes
    def upsert(self, record: CustomerRecord) -> None:
        """Index (or re-index) one customer from their current record."""
        with self._lock:
            self._store.upsert(record)
            self._scratch.grow(self._store.forward.capacity)

    def remove(self, customer_id: str) -> bool:
        with self._lock:
            return self._store.remove(customer_id)

    def settle(self) -> None:
        """Fold recent additions into the compact tables (after a load; searches would)."""
        with self._lock:
            self._store.vocabulary.settle()

    # ------------------------------------------------------------ searching
    def expand(self, word: str, typing: bool) -> dict[str, float]:
        """Vocabulary words a query word may stand for, with their similarity (0-100)."""
        with self._lock:
            found = stage1.expand(self._store, self.nicknames, word, typing)
            return {self._store.vocabulary.words[wid]: s for wid, s in found.items()}

    def rank(self, text: str, limit: int) -> list[Ranked]:
        """The best `limit` customers for `text`, best first, without their cues."""
        query = parse_query(text)
        if query.empty:
            return []
        store = self._store
        with self._lock:
            words = stage1.split_joined(store, query.words)
            query = Query(words, query.numbers, query.emails, query.email_words)
            searched = [w for w in words if not is_initial(w)] or words
            expansions = [
                stage1.expand(store, self.nicknames, w, typing=i == len(searched) - 1)
                for i, w in enumerate(searched)
            ]
            parts = stage1.query_parts(store, query, searched, expansions)
            boosts = stage1.Boosts.of(query, initials_count=len(searched) < len(words))
            if query.emails:
                pool = stage1.candidates(store, self._scratch, parts, boosts, EMAIL_POOL, 0.0)
                chosen = closest_locals(store, pool, query, CANDIDATES)
            else:
                chosen = stage1.candidates(store, self._scratch, parts, boosts, CANDIDATES)
            scorer = Scorer(store, self.nicknames, query)
            keys = store.forward.rank_keys
            scored = [
                (score, keys[ordinal], packed.id, field)
                for ordinal, packed in store.entries_at(chosen)
                for score, field in [scorer.score(packed)]
                if score >= MIN_SCORE
            ]
        scored.sort(key=lambda s: (-s[0], -s[1], s[2]))
        return [Ranked(cid, score, field) for score, _key, cid, field in scored[:limit]]

    async def search(self, text: str, limit: int, view: View) -> list[SearchHit]:
        """The best `limit` hits for `text`, with the cues this caller may see."""
        if self.cues is None:
            raise RuntimeError("this index was built without a cue source")
        return await self.cues.hits(self.rank(text, limit), view)

    # ------------------------------------------------------------ introspection
    def memory_breakdown(self) -> dict[str, int]:
        """Approximate bytes held per structure (for the benchmark's report)."""
        return {**self._store.memory_breakdown(), "scratch": self._scratch.nbytes}
