"""The allergen table: groups of words that are one allergen ("tree nuts": almond,
walnut, …), the look-alikes and negations around them ("butternut", "nut-free"), and diets
that avoid groups, read from `data/allergens.toml` and extendable with a business's own file
of the same shape. `prefstore.search.cartcheck` matches cart items against it;
`prefstore.search.negation` reads what an item says it is not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import msgspec

from prefstore.search.text import compact, terms

FUZZY_MIN_LENGTH = 5
"""Words shorter than this only match exactly: "rye"/"rue" are too close to call typos."""


# ---------------------------------------------------------------- the file's shape
class _GroupSpec(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: str = ""
    allergen: bool = True
    aliases: list[str] = []
    words: list[str] = []
    implied: list[str] = []
    unless: list[str] = []
    free: list[str] = []
    cleared_by: list[str] = []
    not_: list[str] = msgspec.field(default_factory=list, name="not")
    ask: list[str] = []
    core: list[str] = []


class _DietSpec(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    aliases: list[str] = []
    avoid: list[str] = []
    words: list[str] = []


class _NegationSpec(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    not_: list[str] = msgspec.field(default_factory=list, name="not")
    before: list[str] = []
    after: list[str] = []
    suffix: list[str] = []
    either: list[str] = []
    ask: list[str] = []
    joins: list[str] = []
    clause: list[str] = []


class _TableSpec(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    negation: _NegationSpec = msgspec.field(default_factory=_NegationSpec)
    groups: dict[str, _GroupSpec] = {}
    diets: dict[str, _DietSpec] = {}


_GROUP_LISTS = (
    "aliases",
    "words",
    "implied",
    "unless",
    "free",
    "cleared_by",
    "not_",
    "ask",
    "core",
)


# ---------------------------------------------------------------- the compiled table
Words = frozenset[str]
"""Phrases as compact strings ("oat milk" → "oatmilk"); `AllergenTable.texts` has their text."""


@dataclass(frozen=True)
class Group:
    key: str
    name: str
    allergen: bool
    aliases: Words
    words: Words
    """Ingredients and dishes that contain the allergen, plus its `free` names ("dairy"), its
    `ask` and `core` words: any of them in an item alerts."""
    implied: Words = frozenset()
    unless: Words = frozenset()
    not_: Words = frozenset()
    """Look-alikes: a word of the group inside one of these is not the allergen."""
    cleared_by: Words = frozenset()
    ask: Words = frozenset()
    """Words that alert with "check with the guest"; so does any word inside them."""
    core: Words = frozenset()
    """The allergen itself: a negation of the group never hides these."""
    fuzzy_words: Words = frozenset()
    """Single words long enough to be matched despite a typo."""

    def member_of(self, label_compact: str) -> bool:
        return label_compact in self.words or label_compact in self.implied


@dataclass(frozen=True)
class Diet:
    key: str
    aliases: Words
    avoid: tuple[Group, ...]
    words: Words


@dataclass(frozen=True)
class Target:
    """What a negated phrase names: the groups it clears ("nut" → tree nuts and peanuts) and
    the groups it is one word of ("walnut" → tree nuts: only that word is gone)."""

    clears: frozenset[str] = frozenset()
    member: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Grammar:
    """How items say "not": `[negation]` of the table, each phrase as its folded terms."""

    not_: frozenset[tuple[str, ...]]
    before: frozenset[tuple[str, ...]]
    after: frozenset[tuple[str, ...]]
    suffix: tuple[str, ...]
    either: frozenset[str]
    ask: frozenset[tuple[str, ...]]
    joins: frozenset[str]
    clause: frozenset[str]
    longest: int
    """Terms in the longest negation or target phrase."""
    targets: dict[tuple[str, ...], Target] = field(default_factory=dict)
    """Every phrase a negation can name, by its terms."""
    stems: tuple[tuple[str, Target], ...] = ()
    """Single-word targets of 4+ letters, matched at the start or end of an inflected word
    ("глютена", "الحليب")."""
    unspaced: tuple[tuple[str, Target], ...] = ()
    """Targets in scripts written without spaces (Chinese, Japanese), found inside a run."""
    unspaced_before: tuple[str, ...] = ()
    bound: dict[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)
    """Table phrases with a list or clause word inside ("fish and chips"), by first term: one
    unit, not two clauses."""


PREFIX = 3
"""Characters of a phrase's index key: an item is scanned once, position by position."""


@dataclass(frozen=True)
class AllergenTable:
    groups: dict[str, Group]
    diets: dict[str, Diet]
    grammar: Grammar = field(default_factory=lambda: _grammar(_NegationSpec(), {}, (), {}))
    vocabulary: Words = frozenset()
    """Single words the table knows: an item word among them is never read as a typo of
    another ("mustard" is not a misspelt "custard")."""
    texts: dict[str, str] = field(default_factory=dict)
    """Every phrase of the table, compact → text."""
    index: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Compact phrases by their first `PREFIX` characters (all of them when shorter)."""
    fuzzy_words: tuple[str, ...] = ()
    """Every group's `fuzzy_words`."""
    memo: dict[tuple[object, ...], object] = field(default_factory=dict)
    """What the cart check derives from the table and keeps: typo readings of item words,
    the rules a label makes (a serving process sees the same words and labels again)."""


def unspaced(text: str) -> bool:
    """Whether a word is in a script written without spaces between words (Han, kana, Thai,
    Lao, Khmer, Myanmar): its words are found inside runs, not at word edges."""
    return bool(text) and all(
        0x3040 <= ord(ch) <= 0x30FF  # kana
        or 0x3400 <= ord(ch) <= 0x9FFF  # Han
        or 0xF900 <= ord(ch) <= 0xFAFF
        or 0x0E00 <= ord(ch) <= 0x0EFF  # Thai, Lao
        or 0x1000 <= ord(ch) <= 0x109F  # Myanmar
        or 0x1780 <= ord(ch) <= 0x17FF  # Khmer
        for ch in text
    )


def _merge(base: _TableSpec, extra: _TableSpec) -> _TableSpec:
    """A business file adds groups and diets, and extends the lists of existing ones (and of
    the negation grammar)."""
    groups = dict(base.groups)
    for key, spec in extra.groups.items():
        old = groups.get(key)
        if old is None:
            groups[key] = spec
            continue
        lists = {n: [*getattr(old, n), *getattr(spec, n)] for n in _GROUP_LISTS}
        groups[key] = _GroupSpec(
            name=spec.name or old.name, allergen=old.allergen and spec.allergen, **lists
        )
    diets = dict(base.diets)
    for key, diet in extra.diets.items():
        old_diet = diets.get(key)
        diets[key] = (
            diet
            if old_diet is None
            else _DietSpec(
                aliases=[*old_diet.aliases, *diet.aliases],
                avoid=[*old_diet.avoid, *diet.avoid],
                words=[*old_diet.words, *diet.words],
            )
        )
    negation = _NegationSpec(
        **{
            n: [*getattr(base.negation, n), *getattr(extra.negation, n)]
            for n in _NegationSpec.__struct_fields__
        }
    )
    return _TableSpec(negation=negation, groups=groups, diets=diets)


def _phrases(texts: list[str]) -> dict[str, str]:
    """Each text as compact → text, plus its plural where folding does not bring the plural
    back to it ("cookies" folds to "cooky", "quiches" to "quich"): an item says "cookies"."""
    found: dict[str, str] = {}
    for text in texts:
        for form in (text, f"{text}s") if text.isascii() else (text,):
            key = compact(form)
            if key:
                found.setdefault(key, form)
    return found


def _group(key: str, g: _GroupSpec, texts: dict[str, str]) -> Group:
    def words(*lists: list[str]) -> Words:
        found = _phrases([w for lst in lists for w in lst])
        for k, text in found.items():
            texts.setdefault(k, text)
        return frozenset(found)

    every = words(g.words, g.free, g.ask, g.core)
    return Group(
        key=key,
        name=g.name or key.replace("_", " "),
        allergen=g.allergen,
        # A label that is the group's name in any language names the group ("Арахис").
        aliases=frozenset(compact(a) for a in [*g.aliases, *g.free, key.replace("_", " ")]),
        words=every,
        implied=words(g.implied),
        unless=words(g.unless),
        not_=words(g.not_),
        cleared_by=words(g.cleared_by),
        ask=words(g.ask),
        core=words(g.core),
        fuzzy_words=frozenset(
            w
            for w in every
            if len(terms(texts[w])) == 1 and len(w) >= FUZZY_MIN_LENGTH and not unspaced(w)
        ),
    )


def _grammar(
    spec: _NegationSpec,
    groups: dict[str, Group],
    free: tuple[tuple[str, str], ...],
    texts: dict[str, str],
) -> Grammar:
    clears: dict[tuple[str, ...], set[str]] = {}
    member: dict[tuple[str, ...], set[str]] = {}
    for key, text in free:
        clears.setdefault(tuple(terms(text)), set()).add(key)
    for group in groups.values():
        for word in (*group.words, *group.implied):
            member.setdefault(tuple(terms(texts[word])), set()).add(group.key)
    targets = {
        t: Target(frozenset(clears.get(t, ())), frozenset(member.get(t, ())))
        for t in {*clears, *member}
        if t
    }
    as_terms = [tuple(terms(p)) for p in [*spec.before, *spec.after, *spec.ask, *spec.not_]]
    joins = frozenset(compact(w) for w in [*spec.joins, *spec.either])
    clause = frozenset(compact(w) for w in spec.clause)
    bound: dict[str, set[tuple[str, ...]]] = {}
    for t in targets:
        if any(w in joins or w in clause for w in t[1:-1]):
            bound.setdefault(t[0], set()).add(t)
    return Grammar(
        not_=frozenset(tuple(terms(p)) for p in spec.not_),
        before=frozenset(tuple(terms(p)) for p in spec.before),
        after=frozenset(tuple(terms(p)) for p in spec.after),
        suffix=tuple(sorted({compact(s) for s in spec.suffix}, key=len, reverse=True)),
        either=frozenset(compact(w) for w in spec.either),
        ask=frozenset(tuple(terms(p)) for p in spec.ask),
        joins=joins,
        clause=clause,
        longest=max((len(t) for t in [*targets, *as_terms]), default=1),
        targets=targets,
        stems=tuple(
            (t[0], target)
            for t, target in targets.items()
            if len(t) == 1 and len(t[0]) >= 4 and not unspaced(t[0])
        ),
        unspaced=tuple(
            sorted(
                ((t[0], target) for t, target in targets.items() if len(t) == 1 and unspaced(t[0])),
                key=lambda pair: -len(pair[0]),
            )
        ),
        unspaced_before=tuple(compact(p) for p in spec.before if unspaced(compact(p))),
        bound={first: tuple(sorted(ps, key=len, reverse=True)) for first, ps in bound.items()},
    )


def _compile(spec: _TableSpec) -> AllergenTable:
    texts: dict[str, str] = {}
    groups = {key: _group(key, g, texts) for key, g in spec.groups.items()}
    diets: dict[str, Diet] = {}
    for key, d in spec.diets.items():
        unknown = [g for g in d.avoid if g not in groups]
        if unknown:
            raise ValueError(f"diet {key!r} avoids unknown groups: {', '.join(unknown)}")
        found = _phrases(d.words)
        for k, text in found.items():
            texts.setdefault(k, text)
        diets[key] = Diet(
            key=key,
            aliases=frozenset(compact(a) for a in [*d.aliases, key.replace("_", " ")]),
            avoid=tuple(groups[g] for g in d.avoid),
            words=frozenset(found),
        )
    free = tuple(
        (key, text) for key, g in spec.groups.items() for text in _phrases(g.free).values()
    )
    index: dict[str, list[str]] = {}
    for key in texts:
        index.setdefault(key[:PREFIX], []).append(key)
    return AllergenTable(
        groups=groups,
        diets=diets,
        grammar=_grammar(spec.negation, groups, free, texts),
        vocabulary=frozenset(t for text in texts.values() for t in terms(text)),
        texts=texts,
        index={k: tuple(v) for k, v in index.items()},
        fuzzy_words=tuple(sorted({w for g in groups.values() for w in g.fuzzy_words})),
    )


def load_table(extra: Path | None = None) -> AllergenTable:
    """The packaged table, extended by `extra` (a TOML file of the same shape) if given."""
    packaged = resources.files("prefstore").joinpath("data/allergens.toml").read_bytes()
    spec = msgspec.toml.decode(packaged, type=_TableSpec)
    if extra is not None:
        try:
            more = msgspec.toml.decode(extra.read_bytes(), type=_TableSpec)
        except (OSError, msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise ValueError(f"allergen file {extra}: {exc}") from exc
        spec = _merge(spec, more)
    return _compile(spec)
