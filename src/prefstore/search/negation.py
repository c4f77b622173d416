"""What a cart item says it is not: "gluten-free", "no peanuts", "without eggs", "eggless",
"vegan", read from the raw item text before folding, so punctuation still separates clauses.

A negation names a target: a group's `free` name ("nut", "dairy") clears that whole group
in its clause ("nut-free pesto" is no nut alert), any other word of a group ("no anchovies")
removes only that word. A clause ends at punctuation or a clause word ("with", "but",
"contains"), so "peanut-free cookie with almond" still alerts on the almond. Anything unsure
is not cleared but asked: "may contain", "non-dairy", a claim ending in "?", a list after
"no … and …". The grammar is data (`[negation]` in `data/allergens.toml`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from prefstore.search.allergens import AllergenTable, Grammar, Target
from prefstore.search.text import Prepared, terms

STEM_SLACK = 3
"""Letters an inflection or article may add to a 4+ letter target ("глютен" → "глютена",
"حليب" → "الحليب") and still name it."""
# Punctuation that joins a list ("gluten, dairy & nut free") or ends a clause.
_SPLIT = re.compile(
    r"(\s[-\u2013\u2014]+\s|[;:()\[\]{}+|!.?\uff08\uff09\uff1b\uff1a]|[,&/\u3001\uff0c]|(?<=\w)-(?=\w))"
)
_LIST = frozenset(",&/\u3001\uff0c")

Span = tuple[int, int]


def _inside(start: int, end: int, spans: list[Span]) -> bool:
    return any(s <= start and end <= e for s, e in spans)


@dataclass
class Negations:
    """What an item says it is not, as compact spans: `judge` tells whether an allergen word
    found at a place counts, and whether to ask the guest."""

    clauses: list[Span] = field(default_factory=list)
    segments: list[Span] = field(default_factory=list)
    """Parts between punctuation and list words: where a replacement ("oat milk") speaks."""
    hidden: list[Span] = field(default_factory=list)
    """Words a negation names: not in the item."""
    cleared: dict[str, list[Span]] = field(default_factory=dict)
    """Group key → clauses a negation or a `cleared_by` word clears."""
    excluded: dict[str, str] = field(default_factory=dict)
    """Group key → what the item excludes of it (for the reason of a partial cover)."""
    asked: list[tuple[Span, str]] = field(default_factory=list)
    """Places the item is unsure about ("may contain nuts"), with why."""
    asked_groups: dict[str, list[tuple[Span, str]]] = field(default_factory=dict)
    """Group key → clauses unsure about the whole group ("non-dairy"), with why."""

    def clause_of(self, position: int) -> Span:
        return next((c for c in self.clauses if c[0] <= position < c[1]), (0, 0))

    def segment_of(self, position: int) -> Span:
        return next((c for c in self.segments if c[0] <= position < c[1]), (0, 0))

    def clear(self, key: str, where: Span, named: str) -> None:
        self.cleared.setdefault(key, []).append(where)
        self.excluded.setdefault(key, named)

    def judge(self, groups: tuple[str, ...], start: int, end: int, core: bool) -> tuple[bool, str]:
        """(counts, why to ask the guest or ""), for a word of `groups` at start:end."""
        if _inside(start, end, self.hidden):
            return False, ""
        for key in groups:
            if _inside(start, end, self.cleared.get(key, [])):
                if not core:
                    return False, ""
                return True, f"the item says it is free of {self.excluded[key]}"
        asked = [*self.asked, *(a for key in groups for a in self.asked_groups.get(key, ()))]
        for (s, e), why in asked:
            if s <= start and end <= e:
                return True, why
        for key in groups:
            if key in self.excluded:
                return True, f"the item excludes only {self.excluded[key]}"
        return True, ""


# ---------------------------------------------------------------- reading the words
@dataclass
class _Words:
    terms: list[str]
    gaps: list[str]
    """Before each term: "" (a space), "-" (a hyphen inside a word: "egg-less"), or "list" or
    "clause" punctuation."""
    starts: list[int]
    question: bool


def _split(text: str) -> _Words:
    words: list[str] = []
    gaps: list[str] = []
    gap, question = "clause", False
    for chunk in _SPLIT.split(text):
        if chunk == "-" or _SPLIT.fullmatch(chunk):
            question |= "?" in chunk
            kind = "-" if chunk == "-" else "list" if chunk in _LIST else "clause"
            gap = max(gap, kind, key=("", "-", "list", "clause").index)
            continue
        for term in terms(chunk):
            words.append(term)
            gaps.append(gap)
            gap = ""
    starts, position = [], 0
    for term in words:
        starts.append(position)
        position += len(term)
    return _Words(words, gaps, starts, question)


def _target(g: Grammar, words: list[str], first: int, last: int) -> Target | None:
    phrase = tuple(words[first : last + 1])
    found = g.targets.get(phrase)
    if found is not None or last != first:
        return found
    word = phrase[0]
    for stem, target in g.stems:
        if len(word) - len(stem) <= STEM_SLACK and (word.startswith(stem) or word.endswith(stem)):
            return target
    for run, target in g.unspaced:
        if word.startswith(run) or word.endswith(run):
            return target
    return None


def _target_from(g: Grammar, words: list[str], i: int) -> tuple[int, Target] | None:
    """The longest target starting at term i: (terms it takes, target)."""
    for n in range(min(g.longest, len(words) - i), 0, -1):
        found = _target(g, words, i, i + n - 1)
        if found is not None:
            return n, found
    return None


def _target_to(g: Grammar, words: list[str], i: int) -> tuple[int, Target] | None:
    """The longest target ending at term i."""
    for n in range(min(g.longest, i + 1), 0, -1):
        found = _target(g, words, i - n + 1, i)
        if found is not None:
            return n, found
    return None


@dataclass
class _Negation:
    first: int
    last: int
    """Term range of the negation with its targets."""
    targets: list[tuple[int, int, Target]]
    unsure: list[tuple[int, int]] = field(default_factory=list)
    """Term ranges that may or may not be negated ("no peanuts, sesame": sesame)."""


def _phrase_at(words: list[str], i: int, phrases: frozenset[tuple[str, ...]]) -> int:
    for n in range(min(4, len(words) - i), 0, -1):
        if tuple(words[i : i + n]) in phrases:
            return n
    return 0


def _forward(g: Grammar, w: _Words, i: int, n: int, wide: bool) -> _Negation | None:
    """A negation word of n terms at i ("without", "may contain"), and what it names after
    it: the next target, then more joined by "or" (by any list word or comma when `wide`);
    one more joined otherwise ("no peanuts, sesame") is unsure."""
    found = _target_from(g, w.terms, i + n)
    if found is None:
        return None
    neg = _Negation(i, i + n + found[0] - 1, [(i + n, i + n + found[0] - 1, found[1])])
    while neg.last + 1 < len(w.terms):
        k = neg.last + 1
        word = w.terms[k] in g.joins
        if not word and w.gaps[k] != "list":
            break
        start = k + 1 if word else k
        more = _target_from(g, w.terms, start) if start < len(w.terms) else None
        if more is None:
            break
        span = (start, start + more[0] - 1)
        if not (wide or w.terms[k] in g.either):
            neg.unsure.append(span)
            break
        neg.targets.append((*span, more[1]))
        neg.last = span[1]
    return neg


def _backward(g: Grammar, w: _Words, i: int, head: tuple[int, Target], end: int) -> _Negation:
    """A negation after its targets ("gluten and dairy free", "laktosefrei"): the target
    ending at term `end`, then more before it joined by list words. A list that does not
    start the item or follow punctuation may belong to something else ("with nuts and
    dairy-free cream"): only the last target is taken, the others are unsure."""
    first = end - head[0] + 1
    neg = _Negation(first, i, [(first, end, head[1])])
    earlier: list[tuple[int, int, Target]] = []
    at = first
    while True:
        if at >= 1 and w.gaps[at] == "list":
            before = at - 1
        elif at >= 2 and w.terms[at - 1] in g.joins:
            before = at - 2
        else:
            break
        more = _target_to(g, w.terms, before)
        if more is None:
            break
        at = before - more[0] + 1
        earlier.append((at, before, more[1]))
    if earlier and w.gaps[at] in ("list", "clause"):
        neg.targets += earlier
        neg.first = at
    else:
        neg.unsure += [(s, e) for s, e, _t in earlier]
    return neg


def _after(g: Grammar, w: _Words, i: int) -> _Negation | None:
    """ "nut free", "nut-free", "nut-less", "eggless", "laktosefrei"."""
    term = w.terms[i]
    if i and ((term,) in g.after or (w.gaps[i] == "-" and term in g.suffix)):
        head = _target_to(g, w.terms, i - 1)
        return None if head is None else _backward(g, w, i, head, i - 1)
    for suffix in g.suffix:
        if term.endswith(suffix) and len(term) > len(suffix):
            target = _target(g, [term[: -len(suffix)]], 0, 0)
            return None if target is None else _backward(g, w, i, (1, target), i)
    return None


def _negations(g: Grammar, w: _Words) -> tuple[list[_Negation], list[tuple[_Negation, str]]]:
    """Negations, and ask markers ("may contain", "non") with what they name."""
    found: list[_Negation] = []
    asks: list[tuple[_Negation, str]] = []
    for i in range(len(w.terms)):
        if _phrase_at(w.terms, i, g.not_):
            continue
        n = _phrase_at(w.terms, i, g.ask)
        if n:
            marker = _forward(g, w, i, n, wide=True)
            if marker is not None:
                asks.append((marker, " ".join(w.terms[i : i + n])))
            continue
        n = _phrase_at(w.terms, i, g.before)
        neg = _forward(g, w, i, n, wide=False) if n else _after(g, w, i)
        if neg is not None:
            found.append(neg)
    return found, asks


# ---------------------------------------------------------------- clauses and the reading
def _bound(g: Grammar, w: _Words) -> set[int]:
    """Terms inside a table phrase that has a list or clause word ("fish and chips")."""
    inside: set[int] = set()
    for i, term in enumerate(w.terms):
        for phrase in g.bound.get(term, ()):
            if tuple(w.terms[i : i + len(phrase)]) == phrase:
                inside.update(range(i + 1, i + len(phrase)))
                break
    return inside


def _breaks(g: Grammar, w: _Words, unbroken: set[int]) -> list[tuple[int, str]]:
    """(term, kind) where a clause starts: after punctuation ("list" or "punct"), at a list
    word ("and": "list") or at a clause word ("with": "word")."""
    found: list[tuple[int, str]] = []
    for i, term in enumerate(w.terms):
        if i == 0 or i in unbroken:
            continue
        if w.gaps[i] == "clause":
            found.append((i, "punct"))
        elif w.gaps[i] == "list" or term in g.joins:
            found.append((i, "list"))
        elif term in g.clause:
            found.append((i, "word"))
    return found


def _clauses(g: Grammar, w: _Words, negated: set[int]) -> list[tuple[int, int]]:
    """Term ranges of the clauses. A clause of nothing but negations joins the next one when
    a list separates them ("gluten-free, dairy-free muffin"), else the one before it when
    punctuation does ("brownie (gluten free)"); never across "with", "but", "contains"."""
    breaks = _breaks(g, w, negated | _bound(g, w))
    starts = [0, *(i for i, _kind in breaks)]
    kinds = ["punct", *(kind for _i, kind in breaks), "punct"]
    ranges = [[a, b - 1] for a, b in zip(starts, [*starts[1:], len(w.terms)], strict=True)]
    merged: list[list[int]] = []
    carry: int | None = None
    for index, (a, b) in enumerate(ranges):
        first = a if carry is None else carry
        carry = None
        only_negation = all(t in negated or w.terms[t] in g.joins for t in range(a, b + 1))
        if only_negation and index + 1 < len(ranges) and kinds[index + 1] == "list":
            carry = first
        elif only_negation and merged and kinds[index] != "word":
            merged[-1][1] = b
        else:
            merged.append([first, b])
    return [(a, b) for a, b in merged]


def _segments(g: Grammar, w: _Words) -> list[tuple[int, int]]:
    """Term ranges between punctuation and list words: where a replacement ("oat milk")
    speaks for a dish ("latte with oat milk", not "oat milk latte and a flat white")."""
    starts = [0, *(i for i, kind in _breaks(g, w, _bound(g, w)) if kind != "word")]
    return [(a, b - 1) for a, b in zip(starts, [*starts[1:], len(w.terms)], strict=True)]


def read_negations(table: AllergenTable, item: Prepared) -> Negations:
    found = Negations()
    w = _split(item.text)
    if w.terms != item.terms or not w.terms:
        return found  # read as written: nothing negated
    g = table.grammar
    negations, asks = _negations(g, w)

    def span(first: int, last: int) -> Span:
        return w.starts[first], w.starts[last] + len(w.terms[last])

    if w.question:
        found.asked += [(span(n.first, n.last), "the item's claim ends in '?'") for n in negations]
        negations = []
    negated = {t for n in negations for t in range(n.first, n.last + 1)}
    found.clauses = [span(a, b) for a, b in _clauses(g, w, negated)]
    found.segments = [span(a, b) for a, b in _segments(g, w)]
    for marker, said in asks:  # "non-dairy creamer": every dairy word of the clause is asked
        why = f"the item says '{said}'"
        found.asked.append((span(marker.first, marker.last), why))
        clause = found.clause_of(w.starts[marker.first])
        for key in (k for _f, _l, t in marker.targets for k in t.clears):
            found.asked_groups.setdefault(key, []).append((clause, why))
    for neg in negations:
        clause = found.clause_of(w.starts[neg.first])
        for first, last, target in neg.targets:
            found.hidden.append(span(first, last))
            named = " ".join(w.terms[first : last + 1])
            for key in target.clears:
                found.clear(key, clause, named)
            for key in target.member:
                found.excluded.setdefault(key, named)
        for first, last in neg.unsure:
            found.asked.append((span(first, last), "it is unclear what the item's 'no' covers"))
    _unspaced_negations(table, item, found)
    return found


def _unspaced_negations(table: AllergenTable, item: Prepared, found: Negations) -> None:
    """Negations inside a run of a script written without spaces ("无麸质蛋糕"): the
    negation word, then the longest target right after it; it clears to the run's end."""
    g, compact = table.grammar, item.compact
    for word in g.unspaced_before:
        at = compact.find(word)
        while at != -1:
            start = at + len(word)
            for run, target in g.unspaced:
                if compact.startswith(run, start):
                    end = min((b for b in item.boundaries if b > start), default=start)
                    found.hidden.append((start, start + len(run)))
                    for key in target.clears:
                        found.clear(key, (at, end), run)
                    for key in target.member:
                        found.excluded.setdefault(key, run)
                    break
            at = compact.find(word, at + 1)
