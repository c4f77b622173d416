"""Text normalisation shared by search, recall and cart check.

Everything that compares human text goes through here, so "Crème Brûlée", "creme brulee"
and "CREME-BRULEE" are one thing, "almonds" matches "almond", and "oatmilk" matches
"oat milk"; letters of every script are kept ("арахис" is a word). The rules are
deliberately simple and symmetric: both sides of a comparison are normalised the same way,
so a rule that is linguistically rough (plural stripping) still makes equal things equal.
"""

from __future__ import annotations

import re
from functools import lru_cache

from prefstore.customers import names

# Words whose final "s" is not a plural: stripping it would make them collide with others.
_KEEP_S = frozenset(
    {
        "hummus",
        "couscous",
        "asparagus",
        "citrus",
        "molasses",
        "swiss",
        "brussels",
        "bass",
        "grass",
        "glass",
        "cress",
        "watercress",
        "news",
        "gas",
        "bus",
        "plus",
        "lupus",
        "octopus",
        "haggis",
        "jus",
        "series",
        "species",
    }
)
_IRREGULAR = {"oats": "oat", "peas": "pea", "anchovies": "anchovy", "knives": "knife"}


def fold(text: str) -> str:
    """Case- and accent-folded words of any script, punctuation turned into single spaces
    (`prefstore.customers.names.fold`: the one folding names and menus share)."""
    return names.fold(text)


def tokens(text: str) -> list[str]:
    return fold(text).split()


@lru_cache(maxsize=65_536)
def singular(word: str) -> str:
    """A rough English singular: enough to make "berries" = "berry", "almonds" = "almond"."""
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if len(word) <= 3 or word in _KEEP_S or not word.endswith("s"):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "sses", "xes", "zes", "oes")):
        return word[:-2]
    if word.endswith(("ss", "us", "is")):
        return word
    return word[:-1]


def terms(text: str) -> list[str]:
    """Folded, singular tokens: the unit every phrase comparison works on."""
    return [singular(t) for t in tokens(text)]


def compact(text: str) -> str:
    """Terms joined with no spaces: "oat milk", "oatmilk" and "Oat-Milk" are all "oatmilk"."""
    return "".join(terms(text))


def contains_phrase(haystack: list[str], needle: list[str]) -> bool:
    """Whether the terms of `needle` appear in `haystack` as a contiguous run."""
    n = len(needle)
    if n == 0 or n > len(haystack):
        return False
    return any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


_NON_DIGIT = re.compile(r"\D+")


def digits(text: str) -> str:
    return _NON_DIGIT.sub("", text)


# ---------------------------------------------------------------- phrase finding
COMPOUND_MIN = 4
"""A phrase this long (compacted) may match inside a compound word ("oatmilk", "peanutbutter");
shorter ones only as whole words, so "ale" does not fire on "kale" nor "gin" on "ginger"."""


class Prepared:
    """A text ready to be searched for phrases: its terms and their compact concatenation,
    with the positions in the compact string where words start or end."""

    __slots__ = ("boundaries", "compact", "terms", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.terms = terms(text)
        self.compact = "".join(self.terms)
        edges = {0}
        position = 0
        for term in self.terms:
            position += len(term)
            edges.add(position)
        self.boundaries = frozenset(edges)


class Phrase:
    __slots__ = ("compact", "terms", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.terms = tuple(terms(text))
        self.compact = "".join(self.terms)


class Found:
    """Where a phrase was found in a prepared text (compact coordinates) and how well."""

    __slots__ = ("end", "how", "score", "start")

    def __init__(self, start: int, end: int, score: float, how: str) -> None:
        self.start, self.end, self.score, self.how = start, end, score, how

    def within(self, other: Found) -> bool:
        return other.start <= self.start and self.end <= other.end


def find_phrase(text: Prepared, phrase: Phrase) -> Found | None:
    """The best occurrence of `phrase` in `text`: whole words (100) beat a part of a compound
    word that is aligned with a word edge (92). None when absent."""
    needle = phrase.compact
    if not needle:
        return None
    best: Found | None = None
    start = text.compact.find(needle)
    while start != -1:
        end = start + len(needle)
        at_start, at_end = start in text.boundaries, end in text.boundaries
        if at_start and at_end:
            return Found(start, end, 100.0, "word")
        if (at_start or at_end) and len(needle) >= COMPOUND_MIN and best is None:
            best = Found(start, end, 92.0, "compound")
        start = text.compact.find(needle, start + 1)
    return best


def term_span(text: Prepared, index: int) -> tuple[int, int]:
    """The compact coordinates of term number `index`."""
    start = sum(len(t) for t in text.terms[:index])
    return start, start + len(text.terms[index])
