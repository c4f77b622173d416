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

from rapidfuzz import fuzz, process

from prefstore.models.fields import SEVERITY_RANK, Severity
from prefstore.models.records import CustomerRecord
from prefstore.models.results import AlertKind, CartAlert, CartCheck, CartDelight
from prefstore.search.allergens import FUZZY_MIN_LENGTH, AllergenTable, Diet, Group
from prefstore.search.text import Found, Phrase, Prepared, compact, find_phrase, term_span, terms

ALERT_FUZZY_CUTOFF = 85.0
"""rapidfuzz ratio from which an item word is taken as a misspelt allergen word."""
LIKE_FUZZY_CUTOFF = 90.0
RELATED_DISCOUNT = 0.9
"""Score factor for a word that is only in the same group as the allergy ("walnut" for an
almond allergy): still an alert, ranked after direct hits."""
LABEL_NOISE = frozenset(
    {
        "allergy",
        "allergic",
        "allergies",
        "intolerance",
        "intolerant",
        "sensitivity",
        "sensitive",
        "severe",
        "mild",
        "to",
        "no",
        "avoid",
        "avoids",
        "diet",
        "strict",
        "only",
        "anaphylaxis",
        "anaphylactic",
        "disease",
    }
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
    return rule


def rules_for(table: AllergenTable, record: CustomerRecord) -> list[Rule]:
    rules = [
        make_rule(
            table,
            a.label,
            "dietary" if a.severity == "dietary" else "allergy",
            a.severity,
            related=a.severity != "dietary",
        )
        for a in record.allergies
    ]
    for p in record.preferences:
        kind: AlertKind | None = "dislike" if p.sentiment == "dislikes" else None
        rules.append(make_rule(table, p.label, kind, None, related=False))
    return rules


# ---------------------------------------------------------------- matching an item
@dataclass(frozen=True)
class Hit:
    score: float
    matched: str
    group: str | None
    why: str


def _fuzzy(
    item: Prepared, words: tuple[str, ...], cutoff: float, hidden: list[Found] | None = None
) -> tuple[str, str, float] | None:
    """(item word, table word, score) of the closest long word, if within `cutoff`; item
    words inside a `hidden` span (an `unless` phrase) are not considered."""
    best: tuple[str, str, float] | None = None
    for index, term in enumerate(item.terms):
        if len(term) < FUZZY_MIN_LENGTH:
            continue
        if hidden:
            start, end = term_span(item, index)
            if any(u.start <= start and end <= u.end for u in hidden):
                continue
        found = process.extractOne(term, words, scorer=fuzz.ratio, score_cutoff=cutoff)
        if found is not None and (best is None or found[1] > best[2]):
            best = (term, found[0], float(found[1]))
    return best


def _unless_spans(item: Prepared, group: Group) -> list[Found]:
    return [f for f in (find_phrase(item, p) for p in group.unless) if f is not None]


def _group_hit(item: Prepared, group: Group, cutoff: float) -> tuple[Found | None, str, float]:
    """Best occurrence of one of the group's words in the item, honouring `unless`."""
    unless = _unless_spans(item, group)
    best: tuple[Found | None, str, float] = (None, "", 0.0)
    for phrase in group.words:
        found = find_phrase(item, phrase)
        if found is None or found.score <= best[2]:
            continue
        # An allergen word is hidden only by a phrase around it ("butter" in "peanut
        # butter"); for diets' groups any `unless` in the item counts ("veggie burger").
        hidden = any(found.within(u) for u in unless) or (not group.allergen and unless)
        if not hidden:
            best = (found, phrase.text, found.score)
    if not unless:
        for phrase in group.implied:
            found = find_phrase(item, phrase)
            if found is not None and found.score > best[2]:
                best = (found, phrase.text, found.score)
    if best[2] < 100.0 and group.fuzzy_words and (group.allergen or not unless):
        fuzzy = _fuzzy(item, group.fuzzy_words, cutoff, unless)
        if fuzzy is not None and fuzzy[2] > best[2]:
            best = (None, f"{fuzzy[1]} (read from '{fuzzy[0]}')", fuzzy[2])
    return best


def _direct_hit(item: Prepared, phrase: Phrase, cutoff: float) -> tuple[str, float] | None:
    found = find_phrase(item, phrase)
    if found is not None:
        return phrase.text, found.score
    if len(phrase.terms) == 1 and len(phrase.compact) >= FUZZY_MIN_LENGTH:
        fuzzy = _fuzzy(item, (phrase.compact,), cutoff)
        if fuzzy is not None:
            return f"{phrase.text} (read from '{fuzzy[0]}')", fuzzy[2]
    return None


def match_rule(item: Prepared, rule: Rule) -> Hit | None:
    """The strongest reason this rule fires on the item, or None."""
    cutoff = LIKE_FUZZY_CUTOFF if rule.kind in (None, "dislike") else ALERT_FUZZY_CUTOFF
    best: Hit | None = None
    what = rule.kind or "like"
    if rule.direct is not None:
        direct = _direct_hit(item, rule.direct, cutoff)
        if direct is not None:
            best = Hit(direct[1], direct[0], None, f"the item contains {direct[0]} ({what})")
    for group in rule.groups:
        _found, word, score = _group_hit(item, group, cutoff)
        # On a tie the group wins: "lupin is lupin" says more than "contains lupin".
        if score and (
            best is None or score > best.score or (score == best.score and not best.group)
        ):
            reason = (
                f"{word} is {group.name}, which a {rule.label} diet avoids"
                if rule.diet is not None
                else f"{word} is {group.name} ({what}: {rule.label})"
            )
            best = Hit(score, word, group.name, reason)
    if rule.diet is not None:
        for phrase in rule.diet.words:
            found = find_phrase(item, phrase)
            if found is not None and (best is None or found.score > best.score):
                reason = f"a {rule.label} diet avoids {phrase.text}"
                best = Hit(found.score, phrase.text, rule.label, reason)
    if best is None or best.score < 100.0:
        for group in rule.related:
            _found, word, score = _group_hit(item, group, cutoff)
            score *= RELATED_DISCOUNT
            if score and (best is None or score > best.score):
                reason = f"{word} is {group.name}, the same group as {rule.label}: check with them"
                best = Hit(score, word, group.name, reason)
    return best


# ---------------------------------------------------------------- the whole cart
_KIND_ORDER = {"allergy": 0, "dietary": 1, "dislike": 2}


def check_cart(table: AllergenTable, record: CustomerRecord, items: list[str]) -> CartCheck:
    rules = rules_for(table, record)
    prepared = [(i, Prepared(text)) for i, text in enumerate(items)]
    alerts: list[tuple[int, CartAlert]] = []
    delights: list[tuple[int, CartDelight]] = []
    for position, item in prepared:
        safety_alert = False
        for rule in rules:
            hit = match_rule(item, rule)
            if hit is None:
                continue
            score = round(hit.score, 1)
            if rule.kind is None:
                delights.append(
                    (
                        position,
                        CartDelight(
                            item=item.text,
                            label=rule.label,
                            matched=hit.matched,
                            why=hit.why,
                            score=score,
                        ),
                    )
                )
                continue
            safety_alert |= rule.kind != "dislike"
            alerts.append(
                (
                    position,
                    CartAlert(
                        item=item.text,
                        kind=rule.kind,
                        label=rule.label,
                        severity=rule.severity,
                        matched=hit.matched,
                        group=hit.group,
                        why=hit.why,
                        score=score,
                    ),
                )
            )
        if safety_alert:
            # Nothing the customer may not eat is offered as a treat.
            delights = [(p, d) for p, d in delights if p != position]
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
