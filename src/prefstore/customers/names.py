"""People's names in every script: the text folding every comparison shares, a name's words
(native script and Latin transliteration) and the nickname table.

Search (`prefstore.search`) and the import's duplicate hints (`prefstore.transfer`) both read
names, and may not import each other; what they share lives here.

Folding keeps the letters and digits of every script. It removes what people leave out when
typing: case, the accents of Latin and Greek letters (and the diaeresis of Cyrillic "ё"), Arabic
vowel points and Hebrew points. It never removes a mark that is part of a letter (a
Devanagari or Thai vowel sign, a Japanese voicing mark, Cyrillic "й"): that would change
the word, not fold it. Transliteration is `anyascii`'s; Chinese, Japanese and Korean names
have no spaces between given and family name, so their words are their characters.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable
from functools import cache, lru_cache
from pathlib import Path

from anyascii import anyascii
from rapidfuzz import fuzz

# Letters that decomposition does not split into a base letter plus an accent.
_SPECIAL = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "œ": "oe",
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "ı": "i",  # noqa: RUF001 (dotless i, Turkish)
        "ħ": "h",
    }
)
_ASCII_NON_WORD = re.compile(r"[^0-9a-z]+")
_NON_LATIN_WORD = re.compile(r"[^0-9a-z]+")


def _accented_script(ch: str) -> bool:
    """Whether a combining mark after this base letter is an accent to fold away: Latin,
    Greek, and the two Cyrillic letters whose marks are dropped in practice (ё, ї)."""
    code = ord(ch)
    return (
        code < 0x0370
        or 0x1E00 <= code <= 0x1FFF  # Latin Extended Additional, Greek Extended
        or 0x0370 <= code <= 0x03FF  # Greek
        # Cyrillic ie and i: "ё" and "ї" lose their dots; "й" keeps its breve.
        or ch in "\u0435\u0456"
    )


def _optional_mark(ch: str) -> bool:
    """Arabic vowel points and Hebrew points: written rarely, typed more rarely still."""
    code = ord(ch)
    return (
        0x0591 <= code <= 0x05C7
        or 0x0610 <= code <= 0x061A
        or 0x064B <= code <= 0x065F
        or code == 0x0670
        or 0x06D6 <= code <= 0x06ED
    )


CACHED = 8192
"""Texts whose folding is kept per process (queries, menu items, names looked at twice):
a bound, so that the cache never grows with the customers."""


def fold_text(text: str) -> str:
    """Case- and accent-folded words of any script, separated by single spaces (uncached:
    `fold` keeps the last few thousand)."""
    if text.isascii():
        return _ASCII_NON_WORD.sub(" ", text.lower()).strip()
    decomposed = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", text).casefold())
    out: list[str] = []
    base = " "
    for ch in decomposed.translate(_SPECIAL):
        if unicodedata.category(ch)[0] == "M":
            if base != " " and not _accented_script(base) and not _optional_mark(ch):
                out.append(ch)
        elif ch.isalnum():
            out.append(ch)
            base = ch
        else:
            out.append(" ")
            base = " "
    return " ".join(unicodedata.normalize("NFC", "".join(out)).split())


# ---------------------------------------------------------------- a name's words
def _each_character(ch: str) -> bool:
    """Han ideographs and Hangul syllables: each one is a word of the name."""
    code = ord(ch)
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x3134F
        or 0xAC00 <= code <= 0xD7AF
    )


def _split_word(word: str) -> list[str]:
    """A folded word split where needed: each ideograph or Hangul syllable on its own, runs of
    anything else (kana, letters) whole."""
    if word.isascii() or not any(_each_character(ch) for ch in word):
        return [word]
    parts: list[str] = []
    run = ""
    for ch in word:
        if _each_character(ch):
            if run:
                parts.append(run)
                run = ""
            parts.append(ch)
        else:
            run += ch
    if run:
        parts.append(run)
    return parts


def is_initial(word: str) -> bool:
    """A one-letter word that abbreviates a name ("j smith"), unlike an ideograph (a word)."""
    return len(word) == 1 and not _each_character(word)


fold = lru_cache(maxsize=CACHED)(fold_text)


_INNER_APOSTROPHE = re.compile(r"(?<=\w)['\u2019\u02bc`](?=\w)")
"""An apostrophe inside a name joins it: "O'Brien" is "obrien", and "Ol'ga" (a Cyrillic soft
sign, transliterated) is "olga"."""


def split_name(name: str) -> tuple[str, ...]:
    """The folded words of a name, in its own script (characters for CJK); uncached, for the
    index, which reads every name once."""
    joined = _INNER_APOSTROPHE.sub("", name)
    return tuple(part for word in fold_text(joined).split() for part in _split_word(word))


name_words = lru_cache(maxsize=CACHED)(split_name)
"""`split_name`, for queries and the names they are compared with."""


@lru_cache(maxsize=CACHED * 2)
def latin(word: str) -> str:
    """A folded word's Latin transliteration, letters and digits only ("ольга" → "olga",
    "王" → "wang"); the word itself when it is already ASCII."""
    if word.isascii():
        return word
    return _NON_LATIN_WORD.sub("", anyascii(word).lower())


def joined_readings(name: str) -> list[str]:
    """Extra Latin words for names written in characters: the reading of a given name written
    as one word ("小明" → "xiaoming"; in "王小明" the family name is the first character)."""
    extra: list[str] = []
    for word in fold(name).split():
        parts = _split_word(word)
        if len(parts) < 2 or not all(len(p) == 1 and _each_character(p) for p in parts):
            continue
        given = parts if len(parts) == 2 else parts[1:]
        extra.append("".join(latin(p) for p in given))
    return extra


# ---------------------------------------------------------------- unwritten vowels
# Letters one Hebrew or Arabic letter is spelled as, made one: ש s/sh, פ p/f, ב b/v, צ ts/tz,
# ח and כ h/ch/kh/k, ק q/k/c, ג with a geresh and ج j/g.
_SKELETON_SPELLING = (
    ("sh", "s"),
    ("ph", "f"),
    ("th", "t"),
    ("p", "f"),
    ("b", "v"),
    ("tz", "ts"),
    ("kh", "h"),
    ("ch", "h"),
    ("ck", "h"),
    ("c", "h"),
    ("k", "h"),
    ("q", "h"),
    ("j", "g"),
)
_NOT_SKELETON = re.compile(r"[aeiouywv]+")
_DOUBLED = re.compile(r"(.)\1+")
ARTICLE = "ال"
"""The Arabic article, written joined to the name ("البيطار"), typed apart ("al-Bitar")."""


def is_abjad(word: str) -> bool:
    """Hebrew or Arabic: scripts that leave most vowels unwritten."""
    return any(0x0590 <= ord(ch) <= 0x06FF or 0x0750 <= ord(ch) <= 0x077F for ch in word)


@lru_cache(maxsize=CACHED)
def skeleton(spelled: str) -> str:
    """The consonants of a Latin spelling, as a Hebrew or Arabic name written without vowels
    is spelled in Latin by anyone: "Cohen", "Kohen" and "כהן" (anyascii "khn") are all "hn";
    "Mohammed" and "מוחמד" ("mvhmd") are "mhmd". Letters one Hebrew or Arabic letter may be
    spelled as are made one; vowels and the letters that often stand for them (y, w, v) go,
    as does a final h; doubled letters count once."""
    text = spelled
    for written, said in _SKELETON_SPELLING:
        text = text.replace(written, said)
    text = _DOUBLED.sub(r"\1", _NOT_SKELETON.sub("", text))
    return text[:-1] if len(text) > 1 and text.endswith("h") else text


def skeletons(word: str) -> tuple[str, ...]:
    """The skeletons a folded Hebrew or Arabic name word is found by (with and without the
    Arabic article); none for other scripts."""
    if not is_abjad(word):
        return ()
    found = [skeleton(latin(word))]
    if word.startswith(ARTICLE) and len(word) > len(ARTICLE) + 1:
        found.append(skeleton(latin(word[len(ARTICLE) :])))
    return tuple(dict.fromkeys(s for s in found if s))


# ---------------------------------------------------------------- nicknames
class Nicknames:
    """Which first names stand for which: "bill" ↔ "william", "peggy" ↔ "margaret".

    From the `nicknames` package's table (canonical name → nicknames), plus an optional list
    per deployment. Lookups return sorted tuples, so what depends on them is the same in every
    process."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        related: dict[str, set[str]] = {}
        for canonical, nickname in pairs:
            a, b = fold(canonical), fold(nickname)
            if a and b and a != b and " " not in a and " " not in b:
                related.setdefault(a, set()).add(b)
                related.setdefault(b, set()).add(a)
        self._related = {word: tuple(sorted(names)) for word, names in related.items()}

    def __len__(self) -> int:
        return len(self._related)

    def related(self, word: str) -> tuple[str, ...]:
        """The canonical names a nickname stands for and the nicknames of a canonical name."""
        return self._related.get(word, ())

    def same_person(self, a: str, b: str) -> bool:
        return b in self._related.get(a, ())

    @classmethod
    def load(cls, extra: Path | None = None) -> Nicknames:
        """The package's table, plus `extra`: a CSV of `name,nickname` lines (# comments)."""
        pairs = list(_package_pairs())
        if extra is not None:
            with extra.open(encoding="utf-8", newline="") as handle:
                rows = csv.reader(line for line in handle if not line.lstrip().startswith("#"))
                pairs += [(row[0], row[1]) for row in rows if len(row) >= 2]
        return cls(pairs)


@cache
def _package_pairs() -> tuple[tuple[str, str], ...]:
    from nicknames import NickNamer

    table = NickNamer.default_lookup()
    return tuple(
        (canonical, nickname)
        for canonical in sorted(table)
        for nickname in sorted(table[canonical])
    )


@cache
def default_nicknames() -> Nicknames:
    """The package's table alone, loaded once per process."""
    return Nicknames(_package_pairs())


# ---------------------------------------------------------------- two names, one person?
NICKNAME_MATCH = 95.0
"""The most a name with a nickname in it ("Peggy Whitfield") scores against the full name."""


def name_similarity(a: str, b: str, nicknames: Nicknames) -> float:
    """0-100: how alike two people's names are, whatever the order of the words, the script
    ("Ольга Смирнова" and "Olga Smirnova" are 100) or a nickname ("Peggy Whitfield" and
    "Margaret Whitfield" score `NICKNAME_MATCH`)."""
    mine, theirs = list(name_words(a)), list(name_words(b))
    nickname = False
    for i, word in enumerate(mine):
        if word not in theirs:
            same = next((t for t in theirs if nicknames.same_person(word, t)), None)
            if same is not None:
                mine[i], nickname = same, True
    score = max(
        fuzz.token_sort_ratio(" ".join(mine), " ".join(theirs)),
        fuzz.token_sort_ratio(" ".join(map(latin, mine)), " ".join(map(latin, theirs))),
    )
    return min(score, NICKNAME_MATCH) if nickname else score
