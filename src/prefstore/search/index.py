"""The in-process customer search index: find a person from a mistyped name, a partial
email or the last digits of a phone.

Two stages:

1. **Candidates.** Each customer has a small integer *ordinal*. Inverted postings (compact
   `array('i')` of ordinals) exist per folded name word, per email-local-part trigram and per
   phone's last four digits. A query word is first expanded to *vocabulary* words — exact,
   one deletion away in either direction (which covers insertion, deletion, substitution
   and transposition; SymSpell's trick), the same metaphone key (jellyfish), a prefix of the
   word being typed, or as a last resort the closest words by rapidfuzz — each with a
   similarity. The vocabulary of distinct name words is tiny next to the customers, so this
   is cheap; the postings of the chosen words are then summed per customer with numpy into
   a coarse score, and the best few hundred customers go on.
2. **Scoring.** Those candidates are scored with rapidfuzz against the query: per-word
   alignment (order-free, so swapped first/last names score full), whole-name similarity,
   phone suffix and email similarity. The score is 0-100.

Everything is folded (case, accents, punctuation) on both sides. The index is plain
synchronous Python: a search takes a few milliseconds and never awaits, so it needs no lock
against the follower that applies changes between searches.
"""

from __future__ import annotations

import bisect
import contextlib
import threading
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

import jellyfish
import msgspec
import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process

from prefstore.customers.reader import View
from prefstore.models import CustomerRecord, SearchCues, SearchField, SearchHit
from prefstore.search.text import digits, fold

PHONE_SUFFIX = 4
"""Digits of a phone's end that are indexed; a query needs at least this many digits."""
GRAM = 3
CANDIDATES = 200
"""At most this many customers are re-scored with rapidfuzz per query, by coarse score."""
COARSE_FLOOR = 0.7
"""…and only those whose coarse score is within this fraction of the best one: a customer
far behind on the cheap score does not win on the exact one, and re-scoring is where the
time goes."""
MAX_EXPANSIONS = 24
"""Vocabulary words one query word may expand to (the most similar ones)."""
MIN_WORD_SIMILARITY = 60.0
PREFIX_SIMILARITY = 90.0
"""What a word being typed ("smi") scores against the words it begins ("smith")."""
FALLBACK_BELOW = 75.0
"""When no expansion is this similar, rapidfuzz scans the whole vocabulary for the word."""
MAX_NAME_WORDS = 8
MIN_SCORE = 70.0
"""Hits scoring below this are left out: "peter smith" is not a way to write "John Smith"."""
MASK = "••••"


class Entry(msgspec.Struct, array_like=True):
    """What the index keeps per customer, packed: the searchable fields and the cues."""

    id: str
    name: str
    emails: list[str]
    phones: list[str]
    last_visit: datetime | None
    tags: list[str]
    city: str | None


_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(Entry).decode


def entry_of(record: CustomerRecord) -> Entry:
    return Entry(
        id=record.id,
        name=record.name,
        emails=record.emails,
        phones=record.phones,
        last_visit=record.history.last_visit,
        tags=record.tags,
        city=record.city,
    )


# ---------------------------------------------------------------- keys of one customer
def name_words(name: str) -> list[str]:
    return fold(name).split()


def email_local(email: str) -> tuple[str, str]:
    """(alphanumerics of the local part, domain): "Ada.Love+x@Example.com" → ("adalovex", …)."""
    local, _, domain = email.casefold().partition("@")
    return "".join(ch for ch in local if ch.isalnum()), domain.strip()


def grams(local: str) -> set[str]:
    padded = f"^{local}$"
    return {padded[i : i + GRAM] for i in range(max(1, len(padded) - GRAM + 1))}


def deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))} if len(word) > 2 else set()


def mask_phone(phone: str) -> str:
    return f"{MASK} {digits(phone)[-4:]}"


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}"


# ---------------------------------------------------------------- the query
@dataclass
class Query:
    words: list[str]
    """Folded name words (initials included)."""
    numbers: list[str]
    """Digit runs of 3+ digits (adjacent digit groups joined: "555 0123" → "5550123")."""
    emails: list[tuple[str, str]]
    """(local alphanumerics, domain) of each part with an '@'."""

    @property
    def empty(self) -> bool:
        return not (self.words or self.numbers or self.emails)


def parse_query(text: str) -> Query:
    words: list[str] = []
    numbers: list[str] = []
    emails: list[tuple[str, str]] = []
    run = ""
    for raw in text.split():
        stripped = raw.strip("+-().,;")
        if "@" in raw:
            emails.append(email_local(raw.strip("<>,;")))
        elif stripped and all(ch.isdigit() or ch in "-./()" for ch in stripped):
            run += digits(stripped)
            continue
        else:
            words.extend(fold(raw).split())
        if len(run) >= 3:
            numbers.append(run)
        run = ""
    if len(run) >= 3:
        numbers.append(run)
    return Query(words=words[:MAX_NAME_WORDS], numbers=numbers, emails=emails)


# ---------------------------------------------------------------- the index
Postings = dict[str, "array[int]"]
IntArray = npt.NDArray[np.int32]


class SearchIndex:
    def __init__(self) -> None:
        self._ordinals: dict[str, int] = {}
        self._entries: list[bytes | None] = []
        self._free: list[int] = []
        self._names: Postings = {}
        self._grams: Postings = {}
        self._phones: Postings = {}
        self._deletes: dict[str, list[str]] = {}
        self._sounds: dict[str, list[str]] = {}
        self._vocabulary: list[str] = []
        """Sorted name words, for prefixes and the rapidfuzz fallback."""
        self._new_words: list[str] = []
        self._acc = np.zeros(1024, dtype=np.float32)
        self._tmp = np.zeros(1024, dtype=np.float32)
        # Uncontended when searches and changes share one event loop (as in a server); it
        # keeps the index whole should they ever run on different threads (test harnesses
        # run the lifespan, hence the follower, on a thread of its own).
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._ordinals)

    def __contains__(self, customer_id: object) -> bool:
        return customer_id in self._ordinals

    # ------------------------------------------------------------ changes
    def upsert(self, record: CustomerRecord) -> None:
        """Index (or re-index) one customer from their current record."""
        with self._lock:
            self._upsert(record)

    def _upsert(self, record: CustomerRecord) -> None:
        entry = entry_of(record)
        blob = _encode(entry)
        ordinal = self._ordinals.get(record.id)
        if ordinal is not None:
            old = self._entries[ordinal]
            if old == blob:
                return
            if old is not None:
                self._unpost(ordinal, _decode(old))
        else:
            ordinal = self._free.pop() if self._free else len(self._entries)
            if ordinal == len(self._entries):
                self._entries.append(None)
                self._grow(ordinal + 1)
            self._ordinals[record.id] = ordinal
        self._entries[ordinal] = blob
        self._post(ordinal, entry)

    def remove(self, customer_id: str) -> bool:
        with self._lock:
            return self._remove(customer_id)

    def _remove(self, customer_id: str) -> bool:
        ordinal = self._ordinals.pop(customer_id, None)
        if ordinal is None:
            return False
        old = self._entries[ordinal]
        if old is not None:
            self._unpost(ordinal, _decode(old))
        self._entries[ordinal] = None
        self._free.append(ordinal)
        return True

    def _grow(self, size: int) -> None:
        if size > len(self._acc):
            capacity = max(size, len(self._acc) * 2)
            self._acc = np.zeros(capacity, dtype=np.float32)
            self._tmp = np.zeros(capacity, dtype=np.float32)

    @staticmethod
    def _keys(entry: Entry) -> Iterator[tuple[int, str]]:
        """(which postings, key) of every key the customer is filed under, once each."""
        for word in dict.fromkeys(name_words(entry.name)):
            yield 0, word
        local_grams: set[str] = set()
        for email in entry.emails:
            local_grams |= grams(email_local(email)[0])
        for gram in local_grams:
            yield 1, gram
        for suffix in {digits(p)[-PHONE_SUFFIX:] for p in entry.phones}:
            yield 2, suffix

    def _post(self, ordinal: int, entry: Entry) -> None:
        tables = (self._names, self._grams, self._phones)
        for which, key in self._keys(entry):
            postings = tables[which].get(key)
            if postings is None:
                postings = tables[which][key] = array("i")
                if which == 0:
                    self._new_word(key)
            postings.append(ordinal)

    def _unpost(self, ordinal: int, entry: Entry) -> None:
        tables = (self._names, self._grams, self._phones)
        for which, key in self._keys(entry):
            postings = tables[which].get(key)
            if postings is not None:
                with contextlib.suppress(ValueError):
                    postings.remove(ordinal)

    def _new_word(self, word: str) -> None:
        """A word seen for the first time joins the vocabulary (it is never dropped: an
        empty postings list costs nothing to look up)."""
        for deleted in deletions(word):
            self._deletes.setdefault(deleted, []).append(word)
        if word.isalpha():
            self._sounds.setdefault(jellyfish.metaphone(word), []).append(word)
        self._new_words.append(word)

    def _sorted_vocabulary(self) -> list[str]:
        if self._new_words:
            if len(self._new_words) > 64:
                self._vocabulary = sorted({*self._vocabulary, *self._new_words})
            else:
                for word in self._new_words:
                    bisect.insort(self._vocabulary, word)
            self._new_words = []
        return self._vocabulary

    # ------------------------------------------------------------ stage 1: candidates
    def expand(self, word: str, typing: bool) -> dict[str, float]:
        """Vocabulary words a query word may stand for, with their similarity (0-100)."""
        found: dict[str, float] = {}

        def add(candidate: str, score: float | None = None) -> None:
            if candidate not in found and self._names.get(candidate):
                found[candidate] = fuzz.ratio(word, candidate) if score is None else score

        add(word, 100.0)
        if len(word) < 2:
            return found
        for deleted in {word} | deletions(word):
            add(deleted)
            for candidate in self._deletes.get(deleted, ()):
                add(candidate)
        if word.isalpha():
            for candidate in self._sounds.get(jellyfish.metaphone(word), ()):
                add(candidate)
        if typing:
            vocabulary = self._sorted_vocabulary()
            start = bisect.bisect_left(vocabulary, word)
            for candidate in vocabulary[start : start + MAX_EXPANSIONS]:
                if not candidate.startswith(word):
                    break
                score = PREFIX_SIMILARITY if len(word) >= 3 else PREFIX_SIMILARITY - 10
                add(candidate, max(score, fuzz.ratio(word, candidate)))
        if not found or max(found.values()) < FALLBACK_BELOW:
            for candidate, score, _ in process.extract(
                word,
                self._sorted_vocabulary(),
                scorer=fuzz.ratio,
                score_cutoff=MIN_WORD_SIMILARITY,
                limit=MAX_EXPANSIONS // 2,
            ):
                add(candidate, score)
        best = sorted(found.items(), key=lambda kv: -kv[1])[:MAX_EXPANSIONS]
        return {w: s for w, s in best if s >= MIN_WORD_SIMILARITY}

    def _split_joined(self, words: list[str]) -> list[str]:
        """ "johnsmith" typed without its space → "john", "smith" when both are known."""
        out: list[str] = []
        for word in words:
            if len(word) >= 6 and not self._names.get(word):
                for i in range(2, len(word) - 1):
                    if self._names.get(word[:i]) and self._names.get(word[i:]):
                        out += [word[:i], word[i:]]
                        break
                else:
                    out.append(word)
            else:
                out.append(word)
        return out

    def _query_parts(self, query: Query) -> list[list[tuple[array[int], float]]]:
        """Per part of the query, the postings it draws on with their weights."""
        parts: list[list[tuple[array[int], float]]] = []
        words = [w for w in query.words if len(w) > 1] or query.words
        for i, word in enumerate(words):
            expanded = self.expand(word, typing=i == len(words) - 1)
            parts.append([(self._names[w], s) for w, s in expanded.items()])
        for number in query.numbers:
            postings = self._phones.get(number[-PHONE_SUFFIX:])
            if len(number) >= PHONE_SUFFIX and postings:
                parts.append([(postings, 100.0)])
        for local, _domain in query.emails:
            local_grams = grams(local) if local else set()
            share = 100.0 / max(1, len(local_grams))
            for gram in local_grams:
                postings = self._grams.get(gram)
                if postings:
                    parts.append([(postings, share)])
        return parts

    def candidates(self, query: Query, limit: int = CANDIDATES) -> IntArray:
        """The ordinals of the best `limit` customers by coarse score."""
        touched: list[IntArray] = []
        acc, tmp = self._acc, self._tmp
        try:
            for part in self._query_parts(query):
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

    # ------------------------------------------------------------ stage 2: scoring
    def search(self, text: str, limit: int, view: View) -> list[SearchHit]:
        query = parse_query(text)
        if query.empty:
            return []
        with self._lock:
            query = Query(self._split_joined(query.words), query.numbers, query.emails)
            entries = list(self._entries_at(self.candidates(query)))
        scored = [
            (score, field, entry)
            for entry in entries
            for score, field in [score_entry(query, entry)]
            if score >= MIN_SCORE
        ]
        scored.sort(key=lambda s: (-s[0], -_timestamp(s[2].last_visit), s[2].id))
        return [hit_of(entry, score, field, view) for score, field, entry in scored[:limit]]

    def _entries_at(self, ordinals: Iterable[int]) -> Iterator[Entry]:
        for ordinal in ordinals:
            blob = self._entries[int(ordinal)]
            if blob is not None:
                yield _decode(blob)

    # ------------------------------------------------------------ introspection
    def memory_breakdown(self) -> dict[str, int]:
        """Approximate bytes held per structure (for the benchmark's report)."""
        import sys

        def table(t: Postings) -> int:
            return sys.getsizeof(t) + sum(sys.getsizeof(k) + sys.getsizeof(v) for k, v in t.items())

        return {
            "entries": sys.getsizeof(self._entries)
            + sum(sys.getsizeof(b) for b in self._entries if b is not None),
            "id_map": sys.getsizeof(self._ordinals) + sum(sys.getsizeof(k) for k in self._ordinals),
            "name_postings": table(self._names),
            "email_gram_postings": table(self._grams),
            "phone_postings": table(self._phones),
            "vocabulary": sys.getsizeof(self._deletes)
            + sum(sys.getsizeof(k) + sys.getsizeof(v) for k, v in self._deletes.items())
            + sys.getsizeof(self._sounds)
            + sum(sys.getsizeof(v) for v in self._sounds.values())
            + sys.getsizeof(self._vocabulary),
            "scratch": self._acc.nbytes + self._tmp.nbytes,
        }


def _timestamp(moment: datetime | None) -> float:
    return moment.timestamp() if moment else 0.0


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
    if view != "staff":
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
