"""The allergen table: groups of words that are one allergen ("tree nuts": almond,
walnut, …) and diets that avoid groups, read from `data/allergens.toml` and extendable with
a business's own file of the same shape. `prefstore.search.cartcheck` matches cart items
against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import msgspec

from prefstore.search.text import Phrase, compact

FUZZY_MIN_LENGTH = 5
"""Words shorter than this only match exactly: "rye"/"rue" are too close to call typos."""


# ---------------------------------------------------------------- the allergen table
class _GroupSpec(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: str = ""
    allergen: bool = True
    aliases: list[str] = []
    words: list[str] = []
    implied: list[str] = []
    unless: list[str] = []


class _DietSpec(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    aliases: list[str] = []
    avoid: list[str] = []
    words: list[str] = []


class _TableSpec(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    groups: dict[str, _GroupSpec] = {}
    diets: dict[str, _DietSpec] = {}


@dataclass(frozen=True)
class Group:
    key: str
    name: str
    allergen: bool
    aliases: frozenset[str]
    words: tuple[Phrase, ...]
    implied: tuple[Phrase, ...]
    unless: tuple[Phrase, ...]
    fuzzy_words: tuple[str, ...]
    """Single words long enough to be matched despite a typo."""

    def member_of(self, label_compact: str) -> bool:
        return any(word.compact == label_compact for word in (*self.words, *self.implied))


@dataclass(frozen=True)
class Diet:
    key: str
    aliases: frozenset[str]
    avoid: tuple[Group, ...]
    words: tuple[Phrase, ...]


@dataclass(frozen=True)
class AllergenTable:
    groups: dict[str, Group]
    diets: dict[str, Diet]


def _merge(base: _TableSpec, extra: _TableSpec) -> _TableSpec:
    """A business file adds groups and diets, and extends the lists of existing ones."""
    groups = dict(base.groups)
    for key, spec in extra.groups.items():
        old = groups.get(key)
        groups[key] = (
            spec
            if old is None
            else _GroupSpec(
                name=spec.name or old.name,
                allergen=old.allergen and spec.allergen,
                aliases=[*old.aliases, *spec.aliases],
                words=[*old.words, *spec.words],
                implied=[*old.implied, *spec.implied],
                unless=[*old.unless, *spec.unless],
            )
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
    return _TableSpec(groups=groups, diets=diets)


def _compile(spec: _TableSpec) -> AllergenTable:
    groups: dict[str, Group] = {}
    for key, g in spec.groups.items():
        words = tuple(Phrase(w) for w in dict.fromkeys(g.words))
        groups[key] = Group(
            key=key,
            name=g.name or key.replace("_", " "),
            allergen=g.allergen,
            aliases=frozenset(compact(a) for a in [*g.aliases, key.replace("_", " ")]),
            words=words,
            implied=tuple(Phrase(w) for w in g.implied),
            unless=tuple(Phrase(w) for w in g.unless),
            fuzzy_words=tuple(
                w.compact for w in words if len(w.terms) == 1 and len(w.compact) >= FUZZY_MIN_LENGTH
            ),
        )
    diets: dict[str, Diet] = {}
    for key, d in spec.diets.items():
        unknown = [g for g in d.avoid if g not in groups]
        if unknown:
            raise ValueError(f"diet {key!r} avoids unknown groups: {', '.join(unknown)}")
        diets[key] = Diet(
            key=key,
            aliases=frozenset(compact(a) for a in [*d.aliases, key.replace("_", " ")]),
            avoid=tuple(groups[g] for g in d.avoid),
            words=tuple(Phrase(w) for w in d.words),
        )
    return AllergenTable(groups=groups, diets=diets)


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
