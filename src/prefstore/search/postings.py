"""What the search index holds: each customer's packed entry under a small integer
*ordinal*, the inverted postings (compact `array('i')` of ordinals) per folded name word,
per email-local-part trigram and per phone's last four digits, and the vocabulary of
distinct name words with its deletion and metaphone (jellyfish) tables.

Plain synchronous Python with no lock of its own: `SearchIndex` serialises access.
"""

from __future__ import annotations

import bisect
import contextlib
from array import array
from collections.abc import Iterable, Iterator
from datetime import datetime

import jellyfish
import msgspec

from prefstore.models.records import CustomerRecord
from prefstore.search.text import digits, fold

PHONE_SUFFIX = 4
"""Digits of a phone's end that are indexed; a query needs at least this many digits."""
GRAM = 3


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


# ---------------------------------------------------------------- the store
Postings = dict[str, "array[int]"]


class PostingStore:
    """Packed entries by ordinal, the postings that file them, and the name vocabulary."""

    def __init__(self) -> None:
        self.ordinals: dict[str, int] = {}
        self.entries: list[bytes | None] = []
        self.free: list[int] = []
        self.names: Postings = {}
        self.grams: Postings = {}
        self.phones: Postings = {}
        self.deletes: dict[str, list[str]] = {}
        self.sounds: dict[str, list[str]] = {}
        self.vocabulary: list[str] = []
        """Sorted name words, for prefixes and the rapidfuzz fallback."""
        self.new_words: list[str] = []

    # ------------------------------------------------------------ changes
    def upsert(self, record: CustomerRecord) -> None:
        """File (or re-file) one customer from their current record."""
        entry = entry_of(record)
        blob = _encode(entry)
        ordinal = self.ordinals.get(record.id)
        if ordinal is not None:
            old = self.entries[ordinal]
            if old == blob:
                return
            if old is not None:
                self._unpost(ordinal, _decode(old))
        else:
            ordinal = self.free.pop() if self.free else len(self.entries)
            if ordinal == len(self.entries):
                self.entries.append(None)
            self.ordinals[record.id] = ordinal
        self.entries[ordinal] = blob
        self._post(ordinal, entry)

    def remove(self, customer_id: str) -> bool:
        ordinal = self.ordinals.pop(customer_id, None)
        if ordinal is None:
            return False
        old = self.entries[ordinal]
        if old is not None:
            self._unpost(ordinal, _decode(old))
        self.entries[ordinal] = None
        self.free.append(ordinal)
        return True

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
        tables = (self.names, self.grams, self.phones)
        for which, key in self._keys(entry):
            postings = tables[which].get(key)
            if postings is None:
                postings = tables[which][key] = array("i")
                if which == 0:
                    self._new_word(key)
            postings.append(ordinal)

    def _unpost(self, ordinal: int, entry: Entry) -> None:
        tables = (self.names, self.grams, self.phones)
        for which, key in self._keys(entry):
            postings = tables[which].get(key)
            if postings is not None:
                with contextlib.suppress(ValueError):
                    postings.remove(ordinal)

    def _new_word(self, word: str) -> None:
        """A word seen for the first time joins the vocabulary (it is never dropped: an
        empty postings list costs nothing to look up)."""
        for deleted in deletions(word):
            self.deletes.setdefault(deleted, []).append(word)
        if word.isalpha():
            self.sounds.setdefault(jellyfish.metaphone(word), []).append(word)
        self.new_words.append(word)

    # ------------------------------------------------------------ reading
    def sorted_vocabulary(self) -> list[str]:
        if self.new_words:
            if len(self.new_words) > 64:
                self.vocabulary = sorted({*self.vocabulary, *self.new_words})
            else:
                for word in self.new_words:
                    bisect.insort(self.vocabulary, word)
            self.new_words = []
        return self.vocabulary

    def entries_at(self, ordinals: Iterable[int]) -> Iterator[Entry]:
        for ordinal in ordinals:
            blob = self.entries[int(ordinal)]
            if blob is not None:
                yield _decode(blob)

    def memory_breakdown(self) -> dict[str, int]:
        """Approximate bytes held per structure (for the benchmark's report)."""
        import sys

        def table(t: Postings) -> int:
            return sys.getsizeof(t) + sum(sys.getsizeof(k) + sys.getsizeof(v) for k, v in t.items())

        return {
            "entries": sys.getsizeof(self.entries)
            + sum(sys.getsizeof(b) for b in self.entries if b is not None),
            "id_map": sys.getsizeof(self.ordinals) + sum(sys.getsizeof(k) for k in self.ordinals),
            "name_postings": table(self.names),
            "email_gram_postings": table(self.grams),
            "phone_postings": table(self.phones),
            "vocabulary": sys.getsizeof(self.deletes)
            + sum(sys.getsizeof(k) + sys.getsizeof(v) for k, v in self.deletes.items())
            + sys.getsizeof(self.sounds)
            + sum(sys.getsizeof(v) for v in self.sounds.values())
            + sys.getsizeof(self.vocabulary),
        }
