"""Cart check: which items of a cart touch a customer's allergies, diet or dislikes, and
which ones they will like.

An allergy label is read through the allergen table (`prefstore.search.allergens`:
`data/allergens.toml`, extendable with a business's own file): "nut allergy" means every
tree-nut and peanut word, "almonds" means almonds and, to be safe, the rest of its group.
Matching is normalised (`prefstore.search.text`): case, accents, punctuation, plurals and
compound spacing do not hide an allergen, and a typo in an item name ("chedar") is caught by
a similarity threshold. Where in doubt, it alerts: a missed allergy is worse than a question
at the till.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from rapidfuzz import fuzz, process

from prefstore.models.fields import SEVERITY_RANK, Severity
from prefstore.models.records import CustomerRecord
from prefstore.models.results import AlertKind, CartAlert, CartCheck, CartDelight
from prefstore.search.allergens import FUZZY_MIN_LENGTH, PREFIX, AllergenTable, Diet, Group
from prefstore.search.negation import Span
from prefstore.search.reading import Found, Reading, occurrences, read_item
from prefstore.search.text import Phrase, compact, terms

ALERT_FUZZY_CUTOFF = 85.0
"""rapidfuzz ratio from which an item word is taken as a misspelt allergen word."""
LIKE_FUZZY_CUTOFF = 90.0
TABLE_MEMO = 50_000
"""Typo readings and rules kept per table before the memo starts afresh."""
RELATED_DISCOUNT = 0.9
"""Score factor for a word that is only in the same group as the allergy ("walnut" for an
almond allergy): still an alert, ranked after direct hits."""
LABEL_NOISE = frozenset(
    "allergy allergic allergies intolerance intolerant sensitivity sensitive severe mild to no "  # noqa: SIM905
    "avoid avoids diet strict only anaphylaxis anaphylactic disease".split()
)


# ---------------------------------------------------------------- what a customer's label means
@dataclass
class Rule:
    """One fact about the customer, as the phrases that should fire on a cart item."""

    kind: AlertKind | None
    """None for a like (a delight, not an alert)."""
    label: str
    severity: Severity | None
    direct: Phrase | None
    groups: list[Group] = field(default_factory=list)
    """Groups the label names as a whole ("tree nuts", "dairy") or a diet avoids."""
    related: list[Group] = field(default_factory=list)
    """Groups the label is one member of ("almonds"): the other members alert too."""
    diet: Diet | None = None
    typo: bool = False
    """The label is one word long enough to be read despite a typo ("chedar")."""
    plain: str = ""
    """The label's compact form when nothing but the label itself can fire the rule."""


def _core(label: str) -> str:
    return " ".join(t for t in terms(label) if t not in LABEL_NOISE)


def make_rule(
    table: AllergenTable,
    label: str,
    kind: AlertKind | None,
    severity: Severity | None,
    *,
    related: bool,
) -> Rule:
    core = _core(label) or label
    forms = {compact(label), compact(core)}
    rule = Rule(kind=kind, label=label, severity=severity, direct=Phrase(core))
    for diet in table.diets.values():
        if forms & diet.aliases:
            rule.diet = diet
            rule.groups.extend(diet.avoid)
            break
    for group in table.groups.values():
        if forms & group.aliases and group not in rule.groups:
            rule.groups.append(group)
        elif related and group.allergen and group.member_of(compact(core)):
            rule.related.append(group)
    if rule.groups:  # the label names groups or a diet: their words, look-alikes and negations
        rule.direct = None
    elif rule.direct is not None:
        rule.typo = len(rule.direct.terms) == 1 and len(rule.direct.compact) >= FUZZY_MIN_LENGTH
        rule.plain = "" if rule.related else rule.direct.compact
    return rule


def _rule(
    table: AllergenTable, label: str, kind: AlertKind | None, severity: Severity | None
) -> Rule:
    """`make_rule`, kept per table: a rule is never changed once made."""
    key = ("rule", label, kind, severity)
    found = table.memo.get(key)
    if found is None:
        _room(table)
        related = kind == "allergy"  # an allergy to a member: ask about the rest of its group
        table.memo[key] = found = make_rule(table, label, kind, severity, related=related)
    return cast("Rule", found)


def rules_for(table: AllergenTable, record: CustomerRecord) -> list[Rule]:
    rules = [
        _rule(table, a.label, "dietary" if a.severity == "dietary" else "allergy", a.severity)
        for a in record.allergies
    ]
    for p in record.preferences:
        kind: AlertKind | None = "dislike" if p.sentiment == "dislikes" else None
        rules.append(_rule(table, p.label, kind, None))
    return rules


# ---------------------------------------------------------------- matching an item
@dataclass(frozen=True)
class Hit:
    score: float
    matched: str
    group: str | None
    why: str
    ask: str = ""
    """Why to check with the guest; "" when the hit is sure."""


@dataclass(frozen=True)
class _Found:
    score: float
    word: str
    ask: str


def _better(new: _Found | Hit, old: _Found | Hit | None) -> bool:
    """Higher score wins; on a tie a sure hit beats an unsure one."""
    if old is None or new.score != old.score:
        return old is None or new.score > old.score
    return bool(old.ask) and not new.ask


def _best(
    table: AllergenTable,
    reading: Reading,
    found: list[Found],
    keys: tuple[str, ...],
    blocked: list[Span],
    group: Group | None = None,
    replaced: tuple[Span, ...] = (),
) -> _Found | None:
    """Best counted occurrence: not inside a `blocked` span (a look-alike or a replacement),
    not in a `replaced` segment, not negated (`Reading.judge`); inside one of the group's
    `ask` words it asks."""
    asks = [] if group is None or not group.ask else reading.spans(group.ask)
    best: _Found | None = None
    for start, end, score, word in found:
        if any(s <= start and end <= e for s, e in blocked):
            continue
        if replaced and reading.segment_of(start) in replaced:
            continue
        counts, ask = reading.judge(keys, start, end, group is not None and word in group.core)
        if not counts:
            continue
        if not ask:
            unsure = next(
                (reading.item.compact[s:e] for s, e in asks if s <= start and end <= e), ""
            )
            ask = f"not every {table.texts.get(unsure, unsure)} has it" if unsure else ""
        text = table.texts.get(word, word)
        if _better(candidate := _Found(score, text, ask), best):
            best = candidate
    return best


def _typos(table: AllergenTable, term: str, cutoff: float) -> dict[str, float]:
    """Table words within `cutoff` of an item word the table does not know (memoised per
    table: menus repeat their words)."""
    key = ("typo", term, cutoff)
    found = table.memo.get(key)
    if found is None:
        _room(table)
        table.memo[key] = found = {
            word: float(score)
            for word, score, _i in process.extract(
                term, table.fuzzy_words, scorer=fuzz.ratio, score_cutoff=cutoff, limit=None
            )
        }
    return cast("dict[str, float]", found)


def _room(table: AllergenTable) -> None:
    if len(table.memo) > TABLE_MEMO:
        table.memo.clear()


def _fuzzy(
    table: AllergenTable,
    reading: Reading,
    words: frozenset[str],
    cutoff: float,
    keys: tuple[str, ...],
    blocked: list[Span],
) -> _Found | None:
    """The closest long table word to an item word the table does not know, within `cutoff`
    (a typo: "chedar"); always asked."""
    best: _Found | None = None
    for term, start, end in reading.unknown:
        if any(s <= start and end <= e for s, e in blocked):
            continue
        if not reading.judge(keys, start, end, False)[0]:
            continue
        for word, score in _typos(table, term, cutoff).items():
            if word in words and (best is None or score > best.score):
                best = _Found(score, f"{word} (read from '{term}')", f"'{term}' is read as {word}")
    return best


def _group_hit(
    table: AllergenTable, reading: Reading, group: Group, cutoff: float
) -> _Found | None:
    """Best occurrence of one of the group's words in the item, honouring look-alikes
    (`not`), replacements (`unless`) and negations; one answer per item, group and cutoff."""
    memo_key = (group.key, cutoff)
    if memo_key in reading.memo:
        return cast("_Found | None", reading.memo[memo_key])
    unless = reading.spans(group.unless)
    best: _Found | None = None
    if not unless or group.allergen:  # diets' groups: any `unless` clears ("veggie burger")
        keys, blocked = (group.key,), [*reading.spans(group.not_), *unless]
        found = [f for f in reading.found if f[3] in group.words]
        best = _best(table, reading, found, keys, blocked, group)
        # A latte is milk unless its part of the item names what replaces it.
        implied = [f for f in reading.found if f[3] in group.implied]
        if implied:
            replaced = tuple(reading.segment_of(start) for start, _end in unless)
            other = _best(table, reading, implied, keys, blocked, group, replaced)
            if other is not None and _better(other, best):
                best = other
        if (best is None or best.score < 100.0) and group.fuzzy_words:
            fuzzy = _fuzzy(table, reading, group.fuzzy_words, cutoff, keys, blocked)
            if fuzzy is not None and _better(fuzzy, best):
                best = fuzzy
    reading.memo[memo_key] = best
    return best


def _direct_hit(table: AllergenTable, reading: Reading, rule: Rule, cutoff: float) -> _Found | None:
    """The label itself in the item, with the look-alikes and negations of its groups."""
    label = rule.direct
    assert label is not None
    found = occurrences(reading.item, label) if label.compact in reading.item.compact else []
    typos = [t for t in reading.typos(ALERT_FUZZY_CUTOFF).get(label.compact, ()) if t[3] >= cutoff]
    if not found and not typos:
        return None
    groups = (*rule.groups, *rule.related)
    keys = tuple(g.key for g in groups)
    blocked = [s for g in groups for s in (*reading.spans(g.not_), *reading.spans(g.unless))]
    best = _best(table, reading, found, keys, blocked)
    for term, start, end, score in typos if best is None else ():
        if reading.judge(keys, start, end, False)[0]:
            why = f"'{term}' is read as {label.text}"
            typo = _Found(score, f"{label.text} (read from '{term}')", why)
            if _better(typo, best):
                best = typo
    return best


def match_rule(table: AllergenTable, reading: Reading, rule: Rule) -> Hit | None:
    """The strongest reason this rule fires on the item, or None."""
    cutoff = LIKE_FUZZY_CUTOFF if rule.kind in (None, "dislike") else ALERT_FUZZY_CUTOFF
    best: Hit | None = None
    what = rule.kind or "like"
    if rule.direct is not None:
        direct = _direct_hit(table, reading, rule, cutoff)
        if direct is not None:
            why = f"the item contains {direct.word} ({what})"
            best = Hit(direct.score, direct.word, None, why, direct.ask)
    for group in rule.groups:
        found = _group_hit(table, reading, group, cutoff)
        if found is not None and _better(found, best):
            reason = (
                f"{found.word} is {group.name}, which a {rule.label} diet avoids"
                if rule.diet is not None
                else f"{found.word} is {group.name} ({what}: {rule.label})"
            )
            best = Hit(found.score, found.word, group.name, reason, found.ask)
    if rule.diet is not None:
        words = rule.diet.words
        found = _best(table, reading, [f for f in reading.found if f[3] in words], (), [])
        if found is not None and _better(found, best):
            reason = f"a {rule.label} diet avoids {found.word}"
            best = Hit(found.score, found.word, rule.label, reason, found.ask)
    if best is None or best.score < 100.0:
        for group in rule.related:
            found = _group_hit(table, reading, group, cutoff)
            if found is None:
                continue
            score = found.score * RELATED_DISCOUNT
            if best is None or score > best.score:
                reason = f"{found.word} is {group.name}, the same group as {rule.label}"
                best = Hit(score, found.word, group.name, reason, found.ask or "same group")
    return best


def _why(hit: Hit) -> str:
    return f"{hit.why}: check with the guest ({hit.ask})" if hit.ask else hit.why


# ---------------------------------------------------------------- the whole cart
_KIND_ORDER = {"allergy": 0, "dietary": 1, "dislike": 2}


@dataclass
class _Customer:
    """A customer's rules ready for a cart: those only their own label can fire ("olives")
    are tried on an item only when the label, or a typo of it, is in the item."""

    rules: list[Rule]
    labels: tuple[str, ...]
    """One-word labels, read for typos together."""
    plain: dict[str, list[int]] = field(default_factory=dict)
    """Label → positions in `rules` of the rules only it fires."""
    index: dict[str, list[str]] = field(default_factory=dict)
    """`plain` labels by their first `PREFIX` characters."""

    @classmethod
    def of(cls, table: AllergenTable, record: CustomerRecord) -> _Customer:
        rules = rules_for(table, record)
        labels = tuple({r.direct.compact: None for r in rules if r.typo and r.direct})
        customer = cls(rules, labels)
        for position, rule in enumerate(rules):
            if rule.plain:
                customer.plain.setdefault(rule.plain, []).append(position)
        for label in customer.plain:
            customer.index.setdefault(label[:PREFIX], []).append(label)
        return customer

    def candidates(self, reading: Reading) -> list[Rule]:
        text = reading.item.compact
        present = set(reading.typos(ALERT_FUZZY_CUTOFF))
        for start in range(len(text)):
            for size in range(1, min(PREFIX, len(text) - start) + 1):
                for label in self.index.get(text[start : start + size], ()):
                    if text.startswith(label, start):
                        present.add(label)
        tried = {p for label in present for p in self.plain.get(label, ())}
        return [r for p, r in enumerate(self.rules) if not r.plain or p in tried]


def check_cart(table: AllergenTable, record: CustomerRecord, items: list[str]) -> CartCheck:
    customer = _Customer.of(table, record)
    alerts: list[tuple[int, CartAlert]] = []
    delights: list[tuple[int, CartDelight]] = []
    for position, text in enumerate(items):
        reading = read_item(table, text)
        reading.labels = customer.labels
        found = ((r, match_rule(table, reading, r)) for r in customer.candidates(reading))
        hits = [(rule, hit) for rule, hit in found if hit is not None]
        # Nothing the customer may not eat is offered as a treat.
        unsafe = any(rule.kind in ("allergy", "dietary") for rule, _hit in hits)
        for rule, hit in hits:
            score = round(hit.score, 1)
            if rule.kind is None and not unsafe:
                delight = CartDelight(
                    item=text, label=rule.label, matched=hit.matched, why=hit.why, score=score
                )
                delights.append((position, delight))
            elif rule.kind is not None:
                alert = CartAlert(
                    item=text,
                    kind=rule.kind,
                    label=rule.label,
                    severity=rule.severity,
                    matched=hit.matched,
                    group=hit.group,
                    why=_why(hit),
                    score=score,
                    check_with_guest=bool(hit.ask),
                )
                alerts.append((position, alert))
    alerts.sort(
        key=lambda pa: (
            _KIND_ORDER[pa[1].kind],
            SEVERITY_RANK.get(pa[1].severity or "", 9),
            pa[0],
            -pa[1].score,
        )
    )
    delights.sort(key=lambda pd: (pd[0], -pd[1].score))
    return CartCheck(
        customer_id=record.id,
        alerts=[a for _p, a in alerts],
        delights=[d for _p, d in delights],
    )
