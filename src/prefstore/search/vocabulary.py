"""The distinct name words of every customer, each with a small integer id, the customers
filed under it (an `array('i')` of ordinals), its Latin transliteration, and the tables that
find a word from a mistyped one: one deletion away (SymSpell's trick, which covers an
insertion, a deletion, a substitution or a transposition), the same metaphone key
(jellyfish), a prefix (sorted words), and the letter pairs that find words two edits away.

The vocabulary is tiny next to the customers (tens of thousands of words for a million
people) and a word is never dropped: an empty postings list costs nothing to look up.
"""

from __future__ import annotations

import bisect
from array import array

import jellyfish
import numpy as np

from prefstore.customers.names import latin, skeletons
from prefstore.search.multimap import Multimap


def deletions(word: str) -> list[str]:
    return [word[:i] + word[i + 1 :] for i in range(len(word))] if len(word) > 2 else []


def pairs(word: str) -> set[str]:
    padded = f"^{word}$"
    return {padded[i : i + 2] for i in range(len(padded) - 1)}


class Vocabulary:
    def __init__(self) -> None:
        self.words: list[str] = []
        self.ids: dict[str, int] = {}
        self.postings: list[array[int]] = []
        self.latin_of = array("i")
        """Word id → the id of its Latin transliteration (itself when already Latin)."""
        self.skeletons: dict[int, tuple[str, ...]] = {}
        """Word id → its consonant skeletons, for Hebrew and Arabic words only."""
        self._deletes = Multimap()
        self._sounds = Multimap()
        self._pairs: dict[str, array[int]] = {}
        self._sorted: list[str] = []
        self._new: list[str] = []

    def __len__(self) -> int:
        return len(self.words)

    def intern(self, word: str) -> int:
        """The id of `word`, added (with its Latin form) when new."""
        found = self.ids.get(word)
        if found is not None:
            return found
        wid = len(self.words)
        self.words.append(word)
        self.ids[word] = wid
        self.postings.append(array("i"))
        self.latin_of.append(wid)
        for deleted in deletions(word):
            self._deletes.add(deleted, wid)
        if word.isascii() and word.isalpha():
            self._sounds.add(jellyfish.metaphone(word), wid)
        if len(word) >= 3:  # `near` looks for words two edits from one of 5 letters or more
            for pair in pairs(word):
                self._pairs.setdefault(pair, array("i")).append(wid)
        self._new.append(word)
        if consonants := skeletons(word):
            self.skeletons[wid] = consonants
        roman = latin(word)
        if roman and roman != word:
            self.latin_of[wid] = self.intern(roman)
        return wid

    # ------------------------------------------------------------ finding words
    def one_edit(self, word: str) -> list[int]:
        """Words one deletion away from `word` or one of its deletions (both directions)."""
        variants = [word, *deletions(word)]
        found = self._deletes.get_many(variants)
        found += [wid for v in variants[1:] if (wid := self.ids.get(v)) is not None]
        return found

    def sounds_like(self, word: str) -> list[int]:
        if not (word.isascii() and word.isalpha()):
            return []
        return self._sounds.get_many([jellyfish.metaphone(word)])

    def near(self, word: str, least_shared: int) -> list[int]:
        """Words that share at least `least_shared` letter pairs with `word` (a word two
        edits away still shares most of its pairs)."""
        arrays = [self._pairs[p] for p in sorted(pairs(word)) if p in self._pairs]
        if not arrays:
            return []
        counts = np.bincount(
            np.concatenate([np.frombuffer(a, dtype=np.int32) for a in arrays]),
            minlength=len(self.words),
        )
        return [int(w) for w in np.flatnonzero(counts >= least_shared)]

    def completions(self, prefix: str, limit: int) -> list[int]:
        """Words that begin with `prefix` (not itself), the most common first."""
        ordered = self.sorted_words()
        start = bisect.bisect_right(ordered, prefix)
        end = bisect.bisect_left(ordered, prefix + "\U0010ffff", lo=start)
        found = [self.ids[w] for w in ordered[start:end]]
        if len(found) > limit:
            found.sort(key=lambda wid: (-len(self.postings[wid]), self.words[wid]))
            found = found[:limit]
        return found

    def sorted_words(self) -> list[str]:
        if self._new:
            if len(self._new) > 64:
                self._sorted = sorted({*self._sorted, *self._new})
            else:
                for word in self._new:
                    bisect.insort(self._sorted, word)
            self._new = []
        return self._sorted

    def settle(self) -> None:
        """Fold what was added into the compact tables (a search does it on demand too)."""
        self._deletes.merge()
        self._sounds.merge()
        self.sorted_words()

    @property
    def nbytes(self) -> int:
        import sys

        words = sum(sys.getsizeof(w) for w in self.words)
        return (
            words
            + sys.getsizeof(self.words)
            + sys.getsizeof(self.ids)
            + sys.getsizeof(self.postings)
            + sys.getsizeof(self._sorted)
            + self.latin_of.itemsize * len(self.latin_of)
            + self._deletes.nbytes
            + self._sounds.nbytes
            + sum(sys.getsizeof(a) for a in self._pairs.values())
        )

    @property
    def postings_nbytes(self) -> int:
        import sys

        return sum(sys.getsizeof(a) for a in self.postings)
