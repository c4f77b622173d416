"""What the search index holds: each customer's packed entry under a small integer
*ordinal* (`forward`), and the inverted postings (compact `array('i')` of ordinals) that
file them — per name word in its own script and in Latin (`vocabulary`), per sampled
email-local-part trigram and per phone's last four digits.

Plain synchronous Python with no lock of its own: `SearchIndex` serialises access.
"""

from __future__ import annotations

import contextlib
import re
import sys
from array import array
from collections.abc import Iterator

from prefstore.customers.names import joined_readings, split_name
from prefstore.models.records import CustomerRecord
from prefstore.search.forward import PHONE_DIGITS, ForwardStore, Packed, rank_key
from prefstore.search.text import digits
from prefstore.search.vocabulary import Vocabulary

_NOT_ALNUM = re.compile(r"[\W_]+")
PHONE_SUFFIX = 4
"""Digits of a phone's end that are indexed; a query needs at least this many digits."""
GRAM = 3
GRAM_STEP = 2
"""Every other trigram of an email's local part is filed (a query looks up all of its own):
half the postings, and a typo still leaves most of a local part's filed trigrams whole."""


def email_local(email: str) -> tuple[str, str]:
    """(alphanumerics of the local part, domain): "Ada.Love+x@Example.com" → ("adalovex", …)."""
    local, _, domain = email.casefold().partition("@")
    return _NOT_ALNUM.sub("", local), domain.strip()


def grams(local: str, step: int = 1) -> list[str]:
    """The trigrams of `^local$` (every `step`-th), in order, repeats included."""
    padded = f"^{local}$"
    return [padded[i : i + GRAM] for i in range(0, max(1, len(padded) - GRAM + 1), step)]


def readings(words: tuple[str, ...] | list[str]) -> list[str]:
    """The joined Latin readings of a name written in characters (`names.joined_readings`),
    from its folded words, so that filing and unfiling agree."""
    if "".join(words).isascii():
        return []
    return joined_readings("".join(words))


Postings = dict[str, "array[int]"]


class PostingStore:
    def __init__(self) -> None:
        self.vocabulary = Vocabulary()
        self.forward = ForwardStore()
        self.grams: Postings = {}
        self.phones: Postings = {}
        self.skeletons: Postings = {}
        """Hebrew and Arabic name words by their consonants (`names.skeleton`)."""
        self.domains: list[str] = []
        self._domain_ids: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.forward)

    # ------------------------------------------------------------ changes
    def upsert(self, record: CustomerRecord) -> None:
        """File (or re-file) one customer from their current record."""
        packed = self.pack(record)
        key = rank_key(record.id, record.history.last_visit)
        ordinal, old = self.forward.put(packed, key, self.initials(packed.words))
        if old is not None:
            if old == packed:
                return
            self._file(ordinal, old, remove=True)
        self._file(ordinal, packed, remove=False)

    def remove(self, customer_id: str) -> bool:
        found = self.forward.delete(customer_id)
        if found is None:
            return False
        self._file(found[0], found[1], remove=True)
        return True

    def pack(self, record: CustomerRecord) -> Packed:
        vocabulary = self.vocabulary
        native = split_name(record.name)
        words = [vocabulary.intern(w) for w in native]
        for reading in readings(native):
            vocabulary.intern(reading)
        locals_: list[str] = []
        domains: list[int] = []
        for email in record.emails:
            local, domain = email_local(email)
            locals_.append(local)
            domains.append(self._domain_id(domain))
        phones = [digits(p)[-PHONE_DIGITS:] for p in record.phones]
        return Packed(record.id, words, locals_, domains, [p for p in phones if p])

    def _domain_id(self, domain: str) -> int:
        found = self._domain_ids.get(domain)
        if found is None:
            found = self._domain_ids[domain] = len(self.domains)
            self.domains.append(domain)
        return found

    def initials(self, words: list[int]) -> int:
        """The bits of the letters a-z that begin the name's words, in Latin."""
        latin_of, all_words = self.vocabulary.latin_of, self.vocabulary.words
        bits = 0
        for wid in words:
            first = all_words[latin_of[wid]][:1]
            if "a" <= first <= "z":
                bits |= 1 << (ord(first) - 97)
        return bits

    def name_ids(self, packed: Packed) -> list[int]:
        """Every vocabulary word the customer is filed under: the name's words, their Latin
        forms, and the joined reading of a name written in characters."""
        latin_of = self.vocabulary.latin_of
        ids = [*packed.words, *(latin_of[w] for w in packed.words)]
        if any(latin_of[w] != w for w in packed.words):
            words = self.vocabulary.words
            ids += [self.vocabulary.ids[r] for r in readings([words[w] for w in packed.words])]
        return list(dict.fromkeys(ids))

    def _file(self, ordinal: int, packed: Packed, *, remove: bool) -> None:
        """Add `ordinal` to (or take it from) every postings list the entry is filed in."""
        postings = self.vocabulary.postings
        abjad = self.vocabulary.skeletons
        keyed: list[tuple[Postings, set[str]]] = [
            (self.grams, {g for local in packed.locals for g in grams(local, GRAM_STEP)}),
            (self.phones, {p[-PHONE_SUFFIX:] for p in packed.phones}),
        ]
        if abjad:
            keyed.append((self.skeletons, {k for w in packed.words for k in abjad.get(w, ())}))
        if remove:
            for wid in self.name_ids(packed):
                with contextlib.suppress(ValueError):
                    postings[wid].remove(ordinal)
            for table, keys in keyed:
                for key in keys:
                    with contextlib.suppress(ValueError, KeyError):
                        table[key].remove(ordinal)
            return
        for wid in self.name_ids(packed):
            postings[wid].append(ordinal)
        for table, keys in keyed:
            for key in keys:
                found = table.get(key)
                if found is None:
                    found = table[key] = array("i")
                found.append(ordinal)

    # ------------------------------------------------------------ reading
    def entries_at(self, ordinals: list[int]) -> Iterator[tuple[int, Packed]]:
        for ordinal in ordinals:
            packed = self.forward.get(ordinal)
            if packed is not None:
                yield ordinal, packed

    def memory_breakdown(self) -> dict[str, int]:
        """Approximate bytes held per structure (for the benchmark's report)."""

        def table(t: Postings) -> int:
            return sys.getsizeof(t) + sum(sys.getsizeof(k) + sys.getsizeof(v) for k, v in t.items())

        return {
            **self.forward.memory(),
            "name_postings": self.vocabulary.postings_nbytes,
            "email_gram_postings": table(self.grams),
            "phone_postings": table(self.phones),
            "skeleton_postings": table(self.skeletons),
            "vocabulary": self.vocabulary.nbytes,
        }
