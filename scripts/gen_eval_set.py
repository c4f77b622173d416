"""Generate the labelled evaluation set for search and cart check (fixed seed).

* customers: names drawn from Faker's per-locale name lists (en_US weighted by frequency, so
  "Smith" is common, plus German, French, Spanish, Italian, Portuguese, Dutch, Swedish, Czech
  and Turkish names with their accents), emails built from the names, US phones, cities,
  tags, last visits, allergies, diets and likes/dislikes;
* queries: one per sampled customer, in classes a front desk produces — exact, case, one
  insertion/deletion/substitution (keyboard neighbour)/transposition, two typos, swapped
  first/last, surname only, initial + surname, accents dropped, a surname being typed,
  surname + last 4 phone digits, last 7 phone digits, email exact / domain typo / local typo.
  Each query lists every customer it cannot be told apart from (same name for a name query,
  same surname for "smith", …): hitting any of them counts, because no search could do better;
* `--extended`: names from 21 locales, a third of them in other scripts (Cyrillic, Greek, Han,
  kanji, Arabic, Hebrew, Devanagari; `scripts/eval_names.py`), and six more query classes:
  a nickname for the first name ("Bill Whitfield" for William; the `nicknames` dataset read in
  reverse), the start of both words ("marg whitf"), the name in its own script with and
  without a typo (keyboard neighbour on the script's layout; a homophone or variant character
  for Han and kanji), and a Latin transliteration as staff type it, in several conventions of
  which only some are `anyascii`'s (the query's `note` says the locale and the convention):
  `translit` for those the script alone determines, `translit_reading` for those that need
  the reading of kanji or the vowels Arabic and Hebrew leave unwritten (Hepburn "Akemi Sato",
  "Ahmed", "Cohen"). The original name classes draw Latin-script customers, the phone and
  email classes anyone, the script classes each non-Latin locale equally often;
* carts: items from a hand-labelled menu (the labels are written here, independently of
  `allergens.toml`), each cart checked against a customer with allergies or a diet; the truth
  says which items must alert.

    python scripts/gen_eval_set.py --customers 5000 --queries 1000 --out eval.json
    python scripts/gen_eval_set.py --extended --seed 7 --customers 100000 --queries 2300

Names are folded here with this script's own `fold` (case, accents and punctuation; letters
of every script kept), not the engine's, so the truth does not move when the engine changes.
"""

from __future__ import annotations

import argparse
import bisect
import importlib
import itertools
import random
import re
import string
import sys
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import msgspec
from anyascii import anyascii
from nicknames import NickNamer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prefstore.models.fields import Sentiment, Severity
from prefstore.models.records import Allergy, CustomerRecord, History, Preference
from scripts.eval_names import (
    NEIGHBOURS,
    OTHER_LOCALES,
    ROMANIZATIONS,
    HanHomophones,
    PeoplePool,
    Person,
    alphabet_typo,
    email_name,
    strip_marks,
)

SEED = 20240611
LOCALES = {
    "en_US": 0.40,
    "en_GB": 0.10,
    "en_IE": 0.06,
    "de_DE": 0.07,
    "fr_FR": 0.07,
    "es_ES": 0.07,
    "it_IT": 0.06,
    "pt_BR": 0.04,
    "nl_NL": 0.04,
    "sv_SE": 0.04,
    "cs_CZ": 0.03,
    "tr_TR": 0.02,
}
DOMAINS = [
    "gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "proton.me",
    "example.com", "example.org", "mail.de", "orange.fr", "aol.com", "fastmail.com",
]  # fmt: skip
AREA_CODES = ["212", "415", "312", "617", "646", "718", "305", "202", "503", "206", "512", "303"]
CITIES = [
    "Springfield", "Riverside", "Fairview", "Madison", "Georgetown", "Salem", "Portland",
    "Clinton", "Ashland", "Burlington", "Franklin", "Greenville", "Bristol", "Dover", "Oxford",
    "Kingston", "Milton", "Newport", "Arlington", "Lexington", "Hamburg", "Lyon", "Sevilla",
    "Torino", "Utrecht", "Malmö", "Brno", "İzmir", "Porto Alegre", "Cork",
]  # fmt: skip
TAGS = ["vip", "regular", "student", "corporate", "family", "staff", "new", "birthday-club"]
KEYBOARD = {
    "q": "wa", "w": "qes", "e": "wrd", "r": "etf", "t": "ryg", "y": "tuh", "u": "yij",
    "i": "uok", "o": "ipl", "p": "ol", "a": "qsz", "s": "adwx", "d": "sfec", "f": "dgrv",
    "g": "fhtb", "h": "gjyn", "j": "hkum", "k": "jlim", "l": "kop", "z": "asx", "x": "zsdc",
    "c": "xdfv", "v": "cfgb", "b": "vghn", "n": "bhjm", "m": "njk",
}  # fmt: skip

# ---------------------------------------------------------------- allergies and diets
# label → the menu tags that label must alert on (the truth, written by hand).
ALLERGY_LABELS: dict[str, set[str]] = {
    "Peanuts": {"peanuts"},
    "Peanut allergy": {"peanuts"},
    "Tree nuts": {"tree_nuts"},
    "Nut allergy": {"tree_nuts", "peanuts"},
    "Almonds": {"almond"},
    "Walnuts": {"walnut"},
    "Cashews": {"cashew"},
    "Hazelnuts": {"hazelnut"},
    "Dairy": {"dairy"},
    "Milk": {"dairy"},
    "Lactose intolerance": {"dairy"},
    "Gluten": {"gluten"},
    "Coeliac disease": {"gluten"},
    "Wheat": {"wheat"},
    "Eggs": {"eggs"},
    "Shellfish": {"crustaceans", "molluscs"},
    "Prawns": {"prawn"},
    "Crustaceans": {"crustaceans"},
    "Fish": {"fish"},
    "Salmon": {"salmon"},
    "Soy": {"soy"},
    "Sesame": {"sesame"},
    "Celery": {"celery"},
    "Mustard": {"mustard"},
    "Sulphites": {"sulphites"},
    "Molluscs": {"molluscs"},
    "Lupin": {"lupin"},
}
DIET_LABELS: dict[str, set[str]] = {
    "Vegan": {"meat", "fish", "crustaceans", "molluscs", "dairy", "eggs", "honey"},
    "Vegetarian": {"meat", "fish", "crustaceans", "molluscs"},
    "Pescatarian": {"meat"},
    "Halal": {"pork", "alcohol"},
    "Kosher": {"pork", "crustaceans", "molluscs"},
    "Gluten free": {"gluten"},
}
_NUTS = {"tree_nuts"}
_WHEAT = {"wheat", "gluten"}
# A hand-labelled menu: item as a POS sends it → what is in it.
MENU: dict[str, set[str]] = {
    "Almond croissant": {"almond", *_NUTS, *_WHEAT, "dairy", "eggs"},
    "Almond Croissants": {"almond", *_NUTS, *_WHEAT, "dairy", "eggs"},
    "Butter croissant": {*_WHEAT, "dairy", "eggs"},
    "Pain au Chocolat": {*_WHEAT, "dairy", "eggs"},
    "Cheddar & ham toastie": {*_WHEAT, "dairy", "meat", "pork"},
    "Chedar cheese scone": {*_WHEAT, "dairy", "eggs"},
    "Wholewheat bread": {*_WHEAT},
    "Sourdough loaf": {*_WHEAT},
    "Rye crispbread": {"gluten"},
    "OATMILK LATTE": {"gluten"},
    "Oat Milk Cappuccino": {"gluten"},
    "Latte": {"dairy"},
    "Flat white": {"dairy"},
    "Soy latte": {"soy"},
    "Almond milk mocha": {"almond", *_NUTS},
    "Espresso": set(),
    "Americano": set(),
    "Green tea": set(),
    "Chai latte": {"dairy"},
    "Hot chocolate": {"dairy"},
    "Fresh orange juice": set(),
    "Sparkling water": set(),
    "House red wine": {"sulphites", "alcohol"},
    "Prosecco": {"sulphites", "alcohol"},
    "IPA beer": {"gluten", "alcohol"},
    "Walnut & banana bread": {"walnut", *_NUTS, *_WHEAT, "eggs"},
    "Carrot cake with walnuts": {"walnut", *_NUTS, *_WHEAT, "eggs"},
    "Pecan pie": {*_NUTS, *_WHEAT, "eggs"},
    "Pistachio gelato": {*_NUTS, "dairy"},
    "Hazelnut praline": {"hazelnut", *_NUTS},
    "Nutella crêpe": {"hazelnut", *_NUTS, "dairy", *_WHEAT, "eggs"},
    "Cashew stir fry": {"cashew", *_NUTS, "soy"},
    "Chicken satay": {"peanuts", "meat", "soy"},
    "Pad Thai": {"peanuts", "eggs", "fish", "soy", "crustaceans", "prawn"},
    "Peanut butter cookie": {"peanuts", *_WHEAT, "eggs", "dairy"},
    "PB&J sandwich": {"peanuts", *_WHEAT},
    "Marzipan cake": {"almond", *_NUTS, *_WHEAT},
    "Pesto pasta": {*_NUTS, *_WHEAT, "dairy"},
    "Caesar salad": {"eggs", "fish", "dairy", *_WHEAT},
    "Greek salad": {"dairy"},
    "Garden salad": set(),
    "Fruit salad": set(),
    "Kale & quinoa bowl": set(),
    "Fries": set(),
    "Sweet potato wedges": set(),
    "Hummus & crudités": {"sesame", "celery"},
    "Falafel wrap": {"sesame", *_WHEAT},
    "Tahini dressing": {"sesame"},
    "Sesame bagel": {"sesame", *_WHEAT},
    "Edamame": {"soy"},
    "Miso soup": {"soy", "fish"},
    "Tofu curry": {"soy"},
    "Vegetable soup": {"celery"},
    "Celeriac remoulade": {"celery", "eggs", "mustard"},
    "Waldorf salad": {"celery", "walnut", *_NUTS, "eggs"},
    "Honey mustard chicken": {"mustard", "meat", "honey"},
    "Dijon vinaigrette": {"mustard", "sulphites"},
    "Grilled salmon": {"fish", "salmon"},
    "Smoked salmon bagel": {"fish", "salmon", *_WHEAT, "sesame"},
    "Tuna melt": {"fish", *_WHEAT, "dairy"},
    "Fish & chips": {"fish", *_WHEAT},
    "Sushi platter": {"fish", "salmon", "sesame", "soy"},
    "Prawn cocktail": {"crustaceans", "prawn", "eggs"},
    "King prawns": {"crustaceans", "prawn"},
    "Lobster roll": {"crustaceans", *_WHEAT},
    "Crab cakes": {"crustaceans", *_WHEAT},
    "Moules marinières": {"molluscs"},
    "Fried calamari": {"molluscs"},
    "Oysters": {"molluscs"},
    "Scallops": {"molluscs"},
    "Seafood paella": {"crustaceans", "molluscs", "fish", "prawn"},
    # English muffin (wheat) and hollandaise (butter, egg yolk): the old label left both out.
    "Eggs Benedict": {"eggs", "meat", "pork", *_WHEAT, "dairy"},
    "Mayonnaise": {"eggs"},
    "Scrambled eggs on toast": {"eggs", *_WHEAT},
    "Omelette": {"eggs"},
    "Meringue": {"eggs"},
    "Crème brûlée": {"eggs", "dairy"},
    "Tiramisu": {"eggs", "dairy", *_WHEAT, "alcohol"},
    "Cheesecake": {"dairy", *_WHEAT, "eggs"},
    "Vanilla ice cream": {"dairy", "eggs"},
    "Mac & cheese": {"dairy", *_WHEAT},
    "Greek yoghurt": {"dairy"},
    "Margherita pizza": {"dairy", *_WHEAT},
    "Pepperoni pizza": {"dairy", *_WHEAT, "meat", "pork"},
    "Beef burger": {"meat", *_WHEAT, "sesame"},
    "Veggie burger": {*_WHEAT, "sesame", "soy"},
    "Bacon roll": {"meat", "pork", *_WHEAT},
    "Chorizo & bean stew": {"meat", "pork"},
    "Roast chicken": {"meat"},
    "Lamb kofta": {"meat"},
    "Spaghetti bolognese": {"meat", *_WHEAT, "celery"},
    "Lupin flour pancakes": {"lupin", "eggs", "dairy", *_WHEAT},
    "Dried apricots": {"sulphites"},
    "Honey & granola yoghurt": {"honey", "gluten", "dairy"},
    "Gelatine gummy bears": {"meat", "pork"},
    "Apple": set(),
    "Banana": set(),
    "Rice cakes": set(),
    "Steamed rice": set(),
    "Avocado toast": {*_WHEAT},
    "Guacamole & corn chips": set(),
}
LIKE_LABELS = [
    "Oat milk", "Chai latte", "Almond croissant", "Espresso", "Green tea", "Sourdough",
    "Salmon", "Cheesecake", "Window seat", "Quiet table", "Sparkling water", "Dark chocolate",
    "Olives", "Mushrooms", "Coriander", "Spicy food", "Flat white", "Fruit salad",
]  # fmt: skip


class EvalQuery(msgspec.Struct, kw_only=True, omit_defaults=True):
    text: str
    kind: str
    target: str
    relevant: list[str]
    note: str = ""
    """Extended set: the target's locale, and for a transliteration the convention."""


class EvalCart(msgspec.Struct, kw_only=True):
    customer: str
    items: list[str]
    must_alert: list[str]
    """Items that touch the customer's allergies or diet (by the menu's labels)."""


class EvalSet(msgspec.Struct, kw_only=True):
    seed: int
    customers: list[CustomerRecord]
    queries: list[EvalQuery]
    carts: list[EvalCart]


# ---------------------------------------------------------------- names
# Letters that NFKD does not decompose into a base letter plus a combining mark.
_SPECIAL = str.maketrans(
    {"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th",
     "ı": "i", "ħ": "h"}  # noqa: RUF001 (dotless i, Turkish)
)  # fmt: skip
_NOT_WORD = re.compile(r"[^\w\u0900-\u097f]+|_")  # Devanagari vowel signs are not \w


@lru_cache(maxsize=1 << 18)
def fold(text: str) -> str:
    """Case- and accent-folded, punctuation turned into single spaces; letters of every script
    kept. On Latin text it equals the engine's fold as it was when this set was first drawn,
    so the original set (`--seed 7`) stays what it was."""
    lowered = text.casefold().translate(_SPECIAL)
    decomposed = unicodedata.normalize("NFKD", lowered)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_NOT_WORD.sub(" ", stripped).split())


def _names(locale: str, attr: str) -> tuple[list[str], list[float] | None]:
    """The locale's names, with cumulative weights where Faker has frequencies."""
    provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
    pool = getattr(provider, attr)
    if isinstance(pool, dict):
        return list(pool), list(itertools.accumulate(float(w) for w in pool.values()))
    return list(pool), None


def ascii_fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class NamePool:
    def __init__(self) -> None:
        self.locales = list(LOCALES)
        self.weights = list(LOCALES.values())
        self.first = {loc: _names(loc, "first_names") for loc in self.locales}
        self.last = {loc: _names(loc, "last_names") for loc in self.locales}

    def name(self, rng: random.Random) -> str:
        locale = rng.choices(self.locales, self.weights)[0]
        firsts, fw = self.first[locale]
        lasts, lw = self.last[locale]
        first = rng.choices(firsts, cum_weights=fw)[0] if fw else rng.choice(firsts)
        last = rng.choices(lasts, cum_weights=lw)[0] if lw else rng.choice(lasts)
        return f"{first} {last}"


# ---------------------------------------------------------------- customers
def _email(rng: random.Random, name: str, taken: set[str]) -> str:
    words = [w for w in fold(ascii_fold(name)).split() if w.isalnum()] or ["guest"]
    first, last = words[0], words[-1]
    pattern = rng.randrange(5)
    local = [
        f"{first}.{last}",
        f"{first[0]}{last}",
        f"{first}{last}",
        f"{last}.{first}",
        f"{first}_{last[:3]}",
    ][pattern]
    domain = rng.choice(DOMAINS)
    email = f"{local}@{domain}"
    while email in taken:
        email = f"{local}{rng.randrange(1, 9999)}@{domain}"
    taken.add(email)
    return email


def _phone(rng: random.Random, taken: set[str]) -> str:
    while True:
        phone = f"+1{rng.choice(AREA_CODES)}{rng.randrange(200, 1000)}{rng.randrange(10_000):04d}"
        if phone not in taken:
            taken.add(phone)
            return phone


class _Draw:
    """The per-customer draws shared by both sets (in one order, so a seed gives one set)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.emails: set[str] = set()
        self.phones: set[str] = set()
        self.now = datetime(2024, 6, 1, tzinfo=UTC)

    def customer(self, i: int, name: str, latin_name: str) -> CustomerRecord:
        rng = self.rng
        record = CustomerRecord(
            id=f"c{i:07d}",
            name=name,
            emails=[_email(rng, latin_name, self.emails)] if rng.random() < 0.85 else [],
            phones=[_phone(rng, self.phones)] if rng.random() < 0.9 else [],
            tags=rng.sample(TAGS, rng.choice([0, 0, 1, 1, 2])),
            city=rng.choice(CITIES),
            history=History(
                visits=rng.randrange(0, 40),
                last_visit=self.now - timedelta(minutes=rng.randrange(60 * 24 * 700))
                if rng.random() < 0.8
                else None,
            ),
            version=1,
        )
        if rng.random() < 0.3:
            for label in rng.sample(sorted(ALLERGY_LABELS), rng.choice([1, 1, 2])):
                severity: Severity = rng.choice(["allergy", "allergy", "severe", "intolerance"])
                record.allergies.append(
                    Allergy(id=f"a{i}{label[:3]}", label=label, severity=severity)
                )
        if rng.random() < 0.12:
            label = rng.choice(sorted(DIET_LABELS))
            record.allergies.append(Allergy(id=f"d{i}", label=label, severity="dietary"))
        for label in rng.sample(LIKE_LABELS, rng.choice([0, 1, 2, 3])):
            sentiment: Sentiment = "likes" if rng.random() < 0.75 else "dislikes"
            record.preferences.append(
                Preference(id=f"p{i}{label[:3]}", label=label, sentiment=sentiment)
            )
        return record


def make_customers(count: int, seed: int = SEED) -> list[CustomerRecord]:
    """The original set's customers (12 Latin-script locales)."""
    draw = _Draw(seed)
    pool = NamePool()
    customers = []
    for i in range(count):
        name = pool.name(draw.rng)
        customers.append(draw.customer(i, name, name))
    return customers


@dataclass
class Population:
    """The extended set's customers with the person each was drawn as (locale, name parts)."""

    customers: list[CustomerRecord]
    people: list[Person]


def make_population(count: int, seed: int = SEED) -> Population:
    draw = _Draw(seed)
    pool = PeoplePool()
    customers, people = [], []
    for i in range(count):
        person = pool.person(draw.rng)
        people.append(person)
        customers.append(draw.customer(i, person.name, email_name(person)))
    return Population(customers, people)


# ---------------------------------------------------------------- typos
def _typo(rng: random.Random, word: str, kind: str) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)  # front desks rarely get the first letter wrong
    if kind == "insertion":
        return (
            word[:i] + rng.choice(KEYBOARD.get(word[i].lower(), string.ascii_lowercase)) + word[i:]
        )
    if kind == "deletion":
        return word[:i] + word[i + 1 :]
    if kind == "substitution":
        near = KEYBOARD.get(word[i].lower(), "aeiou")
        return word[:i] + rng.choice(near) + word[i + 1 :]
    if kind == "transposition":
        i = min(i, len(word) - 2)
        if word[i] == word[i + 1]:
            i = max(0, i - 1)
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    raise ValueError(kind)


TYPOS = ["insertion", "deletion", "substitution", "transposition"]
QUERY_KINDS = [
    "exact", "case", *TYPOS, "two_typos", "swapped", "surname_only", "initial", "accents",
    "partial", "surname_phone", "phone_digits", "email_exact", "email_domain_typo",
    "email_local_typo",
]  # fmt: skip


class Groups:
    """Who cannot be told apart from whom, per kind of query."""

    def __init__(self, customers: list[CustomerRecord]) -> None:
        self.by_name: dict[str, list[str]] = defaultdict(list)
        self.by_surname: dict[str, list[CustomerRecord]] = defaultdict(list)
        self.by_first: dict[str, list[CustomerRecord]] = defaultdict(list)
        self.by_phone7: dict[str, list[str]] = defaultdict(list)
        for c in customers:
            words = fold(c.name).split()
            self.by_name[" ".join(words)].append(c.id)
            self.by_surname[words[-1]].append(c)
            self.by_first[words[0]].append(c)
            for p in c.phones:
                self.by_phone7[p[-7:]].append(c.id)


def _query(rng: random.Random, c: CustomerRecord, kind: str, groups: Groups) -> EvalQuery | None:
    words = c.name.split()
    first, last = words[0], words[-1]
    folded = fold(c.name).split()
    same_name = groups.by_name[" ".join(folded)]
    text: str
    relevant = same_name
    if kind == "exact":
        text = c.name
    elif kind == "case":
        text = rng.choice([c.name.lower(), c.name.upper()])
    elif kind in TYPOS:
        target = rng.randrange(len(words))
        typed = list(words)
        typed[target] = _typo(rng, words[target], kind)
        text = " ".join(typed).lower()
    elif kind == "two_typos":
        text = " ".join(_typo(rng, w, rng.choice(TYPOS)) for w in words).lower()
    elif kind == "swapped":
        text = f"{last} {first}".lower()
    elif kind == "surname_only":
        text = last.lower()
        relevant = [x.id for x in groups.by_surname[folded[-1]]]
    elif kind == "initial":
        text = f"{first[0]} {last}".lower()
        relevant = [x.id for x in groups.by_surname[folded[-1]] if fold(x.name)[0] == folded[0][0]]
    elif kind == "accents":
        if ascii_fold(c.name) == c.name:
            return None
        text = ascii_fold(c.name).lower()
    elif kind == "partial":
        if len(folded[-1]) < 5:
            return None
        prefix = folded[-1][: rng.randrange(3, len(folded[-1]))]
        text = f"{first} {prefix}".lower()
        relevant = [
            x.id for x in groups.by_first[folded[0]] if fold(x.name).split()[-1].startswith(prefix)
        ]
    elif kind == "surname_phone":
        if not c.phones:
            return None
        text = f"{last.lower()} {c.phones[0][-4:]}"
        relevant = [
            x.id
            for x in groups.by_surname[folded[-1]]
            if any(p.endswith(c.phones[0][-4:]) for p in x.phones)
        ]
    elif kind == "phone_digits":
        if not c.phones:
            return None
        digits7 = c.phones[0][-7:]
        text = f"{digits7[:3]} {digits7[3:]}"
        relevant = groups.by_phone7[digits7]
    elif kind.startswith("email"):
        if not c.emails:
            return None
        local, _, domain = c.emails[0].partition("@")
        if kind == "email_domain_typo":
            domain = _typo(rng, domain, rng.choice(TYPOS))
        elif kind == "email_local_typo":
            local = _typo(rng, local, rng.choice(TYPOS))
        text = f"{local}@{domain}"
        relevant = [c.id]
    else:
        raise ValueError(kind)
    return EvalQuery(text=text, kind=kind, target=c.id, relevant=sorted(set(relevant)))


def make_queries(customers: list[CustomerRecord], count: int, seed: int = SEED) -> list[EvalQuery]:
    rng = random.Random(seed + 1)
    groups = Groups(customers)
    queries: list[EvalQuery] = []
    while len(queries) < count:
        kind = QUERY_KINDS[len(queries) % len(QUERY_KINDS)]
        made = None
        for _attempt in range(50):
            made = _query(rng, rng.choice(customers), kind, groups)
            if made is not None:
                break
        if made is None:
            made = _query(rng, rng.choice(customers), "exact", groups)
        assert made is not None
        queries.append(made)
    return queries


# ---------------------------------------------------------------- extended set
NEW_KINDS = ["nickname", "prefix_both", "native", "native_typo", "translit", "translit_reading"]
EXTENDED_KINDS = [*QUERY_KINDS, *NEW_KINDS]
SCRIPT_KINDS = {"native", "native_typo", "translit", "translit_reading"}
"""Drawn from customers with a non-Latin name, each of those locales equally often."""
ANYONE_KINDS = {"phone_digits", "email_exact", "email_domain_typo", "email_local_typo"}
"""Drawn from every customer; every other kind from customers with a Latin-script name."""
READINGS = {"ja_JP": {"hepburn", "hepburn_western"}, "ar_AA": {"popular"}, "he_IL": {"popular"}}
"""Romanizations that need more than the script to produce: the reading of kanji, the vowels
Arabic and Hebrew leave unwritten. Their queries are the class `translit_reading`, so that
they are neither hidden in `translit` nor hide how the rest of it does."""


def conventions(kind: str) -> dict[str, list[str]]:
    """Per locale, the romanizations a query of `kind` may be typed in."""
    if kind not in ("translit", "translit_reading"):
        return {locale: [""] for locale in sorted(OTHER_LOCALES)}
    found = {}
    for locale in sorted(OTHER_LOCALES):
        reading = READINGS.get(locale, set())
        names = [c for c in sorted(ROMANIZATIONS[locale]) if (c in reading) == (kind != "translit")]
        if names:
            found[locale] = names
    return found


class ExtendedGroups(Groups):
    """`Groups`, plus who a nickname, a pair of prefixes or a transliteration stands for."""

    def __init__(self, population: Population) -> None:
        super().__init__(population.customers)
        self.population = population
        self.nicknames = NickNamer()
        self.surnames = sorted(self.by_surname)
        self.latin = [i for i, p in enumerate(population.people) if p.latin]
        self.everyone = list(range(len(population.people)))
        self.by_locale: dict[str, list[int]] = defaultdict(list)
        for i, p in enumerate(population.people):
            self.by_locale[p.locale].append(i)
        self.romanized: dict[tuple[str, str], dict[str, list[str]]] = {}
        chinese = [f"{p.last}{p.first}" for p in population.people if p.locale == "zh_CN"]
        japanese = [f"{p.last}{p.first}" for p in population.people if p.locale == "ja_JP"]
        self.homophones = {"zh_CN": HanHomophones(chinese), "ja_JP": HanHomophones(japanese)}
        self.by_reading: dict[str, list[CustomerRecord]] = defaultdict(list)
        for i in self.by_locale["zh_CN"] + self.by_locale["ja_JP"]:
            customer = population.customers[i]
            self.by_reading[reading(customer.name)].append(customer)

    def same_name(self, text: str) -> list[str]:
        return self.by_name.get(fold(text), [])

    def one_character_off(self, typed: str) -> list[str]:
        """Han and kanji names that read like `typed` and differ from it in one character:
        as close to a homophone typo as the person meant."""
        return [
            c.id
            for c in self.by_reading.get(reading(typed), [])
            if len(c.name) == len(typed)
            and sum(a != b for a, b in zip(c.name, typed, strict=True)) <= 1
        ]

    def with_prefixes(self, first: str, last: str) -> list[str]:
        start = bisect.bisect_left(self.surnames, last)
        found = []
        for surname in self.surnames[start:]:
            if not surname.startswith(last):
                break
            found += [c.id for c in self.by_surname[surname] if fold(c.name).startswith(first)]
        return found

    def spelled_alike(self, locale: str, convention: str, spelled: str) -> list[str]:
        """Everyone of `locale` whose name `convention` spells the same way."""
        key = (locale, convention)
        if key not in self.romanized:
            table: dict[str, list[str]] = defaultdict(list)
            spell = ROMANIZATIONS[locale][convention]
            for i in self.by_locale[locale]:
                if (text := spell(self.population.people[i])) is not None:
                    table[fold(text)].append(self.population.customers[i].id)
            self.romanized[key] = table
        return self.romanized[key].get(fold(spelled), [])


def reading(han: str) -> str:
    return fold(anyascii(han))


def _styled(rng: random.Random, text: str) -> str:
    return text.lower() if rng.random() < 0.5 else text


def _nickname(rng: random.Random, c: CustomerRecord, groups: ExtendedGroups) -> EvalQuery | None:
    words = fold(c.name).split()
    nicknames = sorted(n for n in groups.nicknames.nicknames_of(words[0]) if n.isalpha())
    if len(words) < 2 or not nicknames:
        return None
    nick = rng.choice(nicknames)
    stands_for = groups.nicknames.canonicals_of(nick) | {nick}
    relevant = [x.id for x in groups.by_surname[words[-1]] if fold(x.name).split()[0] in stands_for]
    text = f"{nick.title()} {c.name.split()[-1]}"
    return EvalQuery(text=_styled(rng, text), kind="nickname", target=c.id, relevant=relevant)


def _prefix_both(rng: random.Random, c: CustomerRecord, groups: ExtendedGroups) -> EvalQuery | None:
    words = fold(strip_marks(c.name)).split()
    if len(words) < 2 or min(len(words[0]), len(words[-1])) < 4:
        return None
    first = words[0][: min(rng.randint(3, 5), len(words[0]) - 1)]
    last = words[-1][: min(rng.randint(3, 5), len(words[-1]) - 1)]
    relevant = groups.with_prefixes(first, last)
    return EvalQuery(text=f"{first} {last}", kind="prefix_both", target=c.id, relevant=relevant)


def _native_typo(rng: random.Random, p: Person, name: str) -> str | None:
    if p.locale not in NEIGHBOURS:
        return None
    words = name.split()
    long_enough = [i for i, w in enumerate(words) if len(w) >= 4]
    if not long_enough:
        return None
    i = rng.choice(long_enough)
    typed = alphabet_typo(rng, words[i], rng.choice(TYPOS), NEIGHBOURS[p.locale])
    return None if typed is None else " ".join([*words[:i], typed, *words[i + 1 :]])


def _in_script(
    rng: random.Random, i: int, kind: str, convention: str, groups: ExtendedGroups
) -> EvalQuery | None:
    p, c = groups.population.people[i], groups.population.customers[i]
    note = p.locale
    if p.latin:  # a set too small to hold the locale asked for
        return None
    if kind.startswith("translit"):
        note = f"{p.locale} {convention}"
        spelled = ROMANIZATIONS[p.locale][convention](p)
        if spelled is None:
            return None
        text = _styled(rng, spelled)
        relevant = groups.spelled_alike(p.locale, convention, spelled) + groups.same_name(text)
    else:
        text = strip_marks(c.name) if rng.random() < 0.5 else c.name
        relevant = groups.same_name(c.name)
        if kind == "native_typo":
            homophones = groups.homophones.get(p.locale)
            typed = homophones.typo(rng, text) if homophones else _native_typo(rng, p, text)
            if typed is None or fold(typed) == fold(text):  # e.g. a virama: folded away
                return None
            text = typed
            relevant = relevant + groups.same_name(text)
            if homophones:
                relevant += groups.one_character_off(text)
        text = _styled(rng, text)
    return EvalQuery(text=text, kind=kind, target=c.id, relevant=sorted(set(relevant)), note=note)


def _extended_query(rng: random.Random, kind: str, groups: ExtendedGroups) -> EvalQuery:
    convention = ""
    if kind in SCRIPT_KINDS:
        options = conventions(kind)
        locale = rng.choice(sorted(options))
        pool = groups.by_locale[locale] or groups.everyone
        convention = rng.choice(options[locale])
    else:
        pool = groups.everyone if kind in ANYONE_KINDS else groups.latin or groups.everyone
    people, customers = groups.population.people, groups.population.customers
    make: Callable[[int], EvalQuery | None]
    if kind in SCRIPT_KINDS:
        make = lambda i: _in_script(rng, i, kind, convention, groups)  # noqa: E731
    elif kind == "nickname":
        make = lambda i: _nickname(rng, customers[i], groups)  # noqa: E731
    elif kind == "prefix_both":
        make = lambda i: _prefix_both(rng, customers[i], groups)  # noqa: E731
    else:
        make = lambda i: _query(rng, customers[i], kind, groups)  # noqa: E731
    for _attempt in range(200):
        i = rng.choice(pool)
        if (made := make(i)) is not None:
            made.note = made.note or people[i].locale
            return made
    i = rng.choice(pool)
    made = _query(rng, customers[i], "exact", groups)
    assert made is not None
    made.note = people[i].locale
    return made


def make_extended_queries(population: Population, count: int, seed: int = SEED) -> list[EvalQuery]:
    rng = random.Random(seed + 1)
    groups = ExtendedGroups(population)
    return [
        _extended_query(rng, EXTENDED_KINDS[n % len(EXTENDED_KINDS)], groups) for n in range(count)
    ]


# ---------------------------------------------------------------- carts
def truth_tags(record: CustomerRecord) -> set[str]:
    tags: set[str] = set()
    for a in record.allergies:
        tags |= ALLERGY_LABELS.get(a.label, set()) | DIET_LABELS.get(a.label, set())
    return tags


def make_carts(customers: list[CustomerRecord], count: int, seed: int = SEED) -> list[EvalCart]:
    rng = random.Random(seed + 2)
    with_needs = [c for c in customers if c.allergies]
    items = sorted(MENU)
    carts = []
    for _ in range(min(count, len(with_needs) * 4)):
        c = rng.choice(with_needs)
        cart = rng.sample(items, rng.randrange(1, 7))
        bad = truth_tags(c)
        carts.append(
            EvalCart(customer=c.id, items=cart, must_alert=[i for i in cart if MENU[i] & bad])
        )
    return carts


def make_eval_set(
    customers: int, queries: int, carts: int, seed: int = SEED, *, extended: bool = False
) -> EvalSet:
    if extended:
        population = make_population(customers, seed)
        people = population.customers
        asked = make_extended_queries(population, queries, seed)
    else:
        people = make_customers(customers, seed)
        asked = make_queries(people, queries, seed)
    return EvalSet(
        seed=seed, customers=people, queries=asked, carts=make_carts(people, carts, seed)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--carts", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, default=Path("eval_set.json"))
    parser.add_argument(
        "--extended", action="store_true", help="many locales and scripts, and five more classes"
    )
    args = parser.parse_args()
    data = make_eval_set(
        args.customers, args.queries, args.carts, args.seed, extended=args.extended
    )
    args.out.write_bytes(msgspec.json.encode(data))
    print(
        f"wrote {args.out}: {len(data.customers)} customers, {len(data.queries)} queries, "
        f"{len(data.carts)} carts"
    )


if __name__ == "__main__":
    main()
