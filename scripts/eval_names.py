"""Names of many locales and scripts for the extended evaluation set, and how staff type them.

Used by `scripts/gen_eval_set.py --extended`. Three things live here:

* `PeoplePool`: given and family names drawn per locale from Faker's lists (gendered lists
  where Faker has them, frequency weights where it has them), in Latin and in Cyrillic, Greek,
  Han (Chinese), kanji (Japanese, with Faker's Hepburn reading of each name), Arabic, Hebrew
  and Devanagari script;
* romanizations, as a front desk would type a non-Latin name in Latin letters. Only some come
  from `anyascii` (the library the engine uses); the others are written independently here,
  so that an engine that only indexes `anyascii` output is not flattered: popular and ICAO
  (passport) Russian, ELOT-style Greek, Hunterian-style Hindi with the inherent vowel, Hepburn
  for Japanese (Faker's own readings, which `anyascii` cannot produce: it reads kanji as
  Chinese), and hand-collected popular spellings of common Arabic and Hebrew names;
* typos in a name's own script: keyboard neighbours on the script's usual layout (ЙЦУКЕН,
  Greek, Hebrew, Arabic, InScript), and for Han and kanji a homophone or variant character
  (what an input method gives when the wrong candidate is picked).
"""

# ruff: noqa: RUF001 (letters of other scripts that look like Latin ones are the point here)
from __future__ import annotations

import importlib
import itertools
import random
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from anyascii import anyascii

# Weights of the extended set: about two thirds Latin script, a third other scripts.
LATIN_LOCALES = {
    "en_US": 0.20, "en_GB": 0.06, "en_IE": 0.02, "de_DE": 0.05, "fr_FR": 0.05, "es_ES": 0.05,
    "it_IT": 0.03, "pt_BR": 0.03, "nl_NL": 0.02, "pl_PL": 0.04, "tr_TR": 0.03, "vi_VN": 0.03,
    "sv_SE": 0.01, "cs_CZ": 0.01,
}  # fmt: skip
OTHER_LOCALES = {
    "ru_RU": 0.08, "el_GR": 0.04, "zh_CN": 0.06, "ja_JP": 0.05, "ar_AA": 0.05, "he_IL": 0.04,
    "hi_IN": 0.05,
}  # fmt: skip
EXTENDED_LOCALES = {**LATIN_LOCALES, **OTHER_LOCALES}
# Locales whose family name is written first with no space between the names.
NO_SPACE = {"zh_CN"}
FAMILY_FIRST = {"zh_CN", "ja_JP"}


@dataclass(frozen=True)
class Person:
    locale: str
    first: str
    last: str
    roman: tuple[str, str] | None = None
    """(first, last) in Latin as the locale's own data spells them (Faker's Hepburn for ja)."""

    @property
    def name(self) -> str:
        if self.locale in NO_SPACE:
            return f"{self.last}{self.first}"
        if self.locale in FAMILY_FIRST:
            return f"{self.last} {self.first}"
        return f"{self.first} {self.last}"

    @property
    def latin(self) -> bool:
        return self.locale in LATIN_LOCALES


Weighted = tuple[list[str], list[float] | None]


def _weighted(pool: object) -> Weighted:
    if isinstance(pool, dict):
        return list(pool), list(itertools.accumulate(float(w) for w in pool.values()))
    assert isinstance(pool, list | tuple)
    return list(pool), None


def _pick(rng: random.Random, pool: Weighted) -> str:
    names, cumulative = pool
    return rng.choices(names, cum_weights=cumulative)[0] if cumulative else rng.choice(names)


class PeoplePool:
    """Draws a `Person` from the extended locales (fixed order, so a seed gives one set)."""

    def __init__(self) -> None:
        self.locales = list(EXTENDED_LOCALES)
        self.weights = list(EXTENDED_LOCALES.values())
        self.first: dict[tuple[str, str], Weighted] = {}
        self.last: dict[tuple[str, str], Weighted] = {}
        for locale in self.locales:
            provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
            for gender in ("female", "male"):
                first = getattr(provider, f"first_names_{gender}", provider.first_names)
                last = getattr(provider, f"last_names_{gender}", provider.last_names)
                if locale == "pl_PL":  # its `last_names` is a placeholder
                    last = provider.unisex_last_names
                self.first[locale, gender] = _weighted(first)
                self.last[locale, gender] = _weighted(last)
        japanese = importlib.import_module("faker.providers.person.ja_JP").Provider
        self.ja_first = {
            g: list(getattr(japanese, f"first_name_{g}_pairs")) for g in ("female", "male")
        }
        pairs = japanese.last_name_pairs
        self.ja_last = (list(pairs), list(itertools.accumulate(float(w) for w in pairs.values())))

    def person(self, rng: random.Random) -> Person:
        locale = rng.choices(self.locales, self.weights)[0]
        gender = "female" if rng.random() < 0.5 else "male"
        if locale == "ja_JP":
            first_kanji, _, first_roman = rng.choice(self.ja_first[gender])
            last_kanji, _, last_roman = rng.choices(self.ja_last[0], cum_weights=self.ja_last[1])[0]
            return Person(locale, first_kanji, last_kanji, (first_roman, last_roman))
        first = _pick(rng, self.first[locale, gender])
        last = _pick(rng, self.last[locale, gender])
        return Person(locale, first, last)


# ---------------------------------------------------------------- romanization
def strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )


class Rules:
    """Longest-first replacement on the lower-cased text (padded with spaces, so a rule can
    say "at a word's start or end"), then each word capitalised."""

    def __init__(self, table: list[tuple[str, str]]) -> None:
        self.mapping = dict(table)
        keys = sorted(self.mapping, key=len, reverse=True)
        self.pattern = re.compile("|".join(re.escape(k) for k in keys))

    def __call__(self, text: str) -> str:
        out = self.pattern.sub(lambda m: self.mapping[m.group(0)], f" {text.lower()} ")
        return " ".join(w[:1].upper() + w[1:] for w in out.split())


_RU_BASE = dict(zip("абвгдезиклмнопрстуфы", "abvgdeziklmnoprstufy", strict=True))
_RU_POPULAR = [
    *_RU_BASE.items(), ("ё", "yo"), ("ж", "zh"), ("й", "y"), ("х", "kh"), ("ц", "ts"),
    ("ч", "ch"), ("ш", "sh"), ("щ", "shch"), ("ъ", ""), ("ь", ""), ("э", "e"), ("ю", "yu"),
    ("я", "ya"), ("ий ", "y "), ("ый ", "y "),
]  # fmt: skip
# ICAO Doc 9303 (Russian passports since 2013): й → i, ю → iu, я → ia, ъ → ie.
_RU_ICAO = [
    *_RU_BASE.items(), ("ё", "e"), ("ж", "zh"), ("й", "i"), ("х", "kh"), ("ц", "ts"),
    ("ч", "ch"), ("ш", "sh"), ("щ", "shch"), ("ъ", "ie"), ("ь", ""), ("э", "e"), ("ю", "iu"),
    ("я", "ia"),
]  # fmt: skip
# Greek as it is usually written on cards and bookings (ELOT 743 with the common digraphs).
_EL_POPULAR = [
    *zip("αβγδεζηικλμνξοπρσςτυφω", ["a", "v", "g", "d", "e", "z", "i", "i", "k", "l", "m", "n",
                                  "x", "o", "p", "r", "s", "s", "t", "y", "f", "o"], strict=True),
    ("θ", "th"), ("χ", "ch"), ("ψ", "ps"), ("ου", "ou"), ("αυ", "av"), ("ευ", "ev"),
    ("γγ", "ng"), ("γκ", "gk"), ("γχ", "nch"), ("γξ", "nx"), (" μπ", " b"), ("μπ", "mb"),
    (" ντ", " d"), ("ντ", "nt"), (" γκ", " g"),
]  # fmt: skip


russian_popular = Rules(_RU_POPULAR)
russian_icao = Rules(_RU_ICAO)
_greek = Rules(_EL_POPULAR)


def greek_popular(text: str) -> str:
    return _greek(strip_marks(text))


_HI_CONSONANTS = {
    "क": "k", "ख": "kh", "ग": "g", "घ": "gh", "ङ": "n", "च": "ch", "छ": "chh", "ज": "j",
    "झ": "jh", "ञ": "n", "ट": "t", "ठ": "th", "ड": "d", "ढ": "dh", "ण": "n", "त": "t",
    "थ": "th", "द": "d", "ध": "dh", "न": "n", "प": "p", "फ": "ph", "ब": "b", "भ": "bh",
    "म": "m", "य": "y", "र": "r", "ल": "l", "व": "v", "श": "sh", "ष": "sh", "स": "s",
    "ह": "h", "ळ": "l",
}  # fmt: skip
_HI_VOWELS = {
    "अ": "a", "आ": "a", "इ": "i", "ई": "i", "उ": "u", "ऊ": "u", "ऋ": "ri", "ए": "e",
    "ऐ": "ai", "ओ": "o", "औ": "au",
}  # fmt: skip
_HI_SIGNS = {
    "ा": "a", "ि": "i", "ी": "i", "ु": "u", "ू": "u", "ृ": "ri", "े": "e", "ै": "ai",
    "ो": "o", "ौ": "au",
}  # fmt: skip
_HI_NASAL = {"ं": "n", "ँ": "n", "ः": "h"}
_VIRAMA, _NUKTA = "्", "़"


def _hindi_word(word: str) -> str:
    """Hunterian-style: a consonant carries "a" unless a sign or virama follows; the last
    consonant of a word drops it unless it closes a cluster ("Aditya", "Sharma", "Rahul")."""
    chars = list(word)
    out: list[str] = []
    for i, ch in enumerate(chars):
        if ch in "डढ" and chars[i + 1 : i + 2] == [_NUKTA]:
            out.append("r" if ch == "ड" else "rh")  # ड़ ढ़: flapped, written r
        elif ch not in _HI_CONSONANTS:
            out.append(_HI_SIGNS.get(ch) or _HI_VOWELS.get(ch) or _HI_NASAL.get(ch, ""))
            continue
        else:
            out.append(_HI_CONSONANTS[ch])
        rest = [c for c in chars[i + 1 :] if c != _NUKTA]
        if rest and (rest[0] in _HI_SIGNS or rest[0] == _VIRAMA):
            continue
        final = all(c in _HI_NASAL for c in rest)
        cluster = i > 0 and chars[i - 1] == _VIRAMA
        if not final or cluster:
            out.append("a")
    return "".join(out).capitalize()


def hindi_hunterian(text: str) -> str:
    return " ".join(_hindi_word(w) for w in text.split())


def anyascii_words(text: str) -> str:
    """`anyascii`, as a person would type it: apostrophes and backticks dropped."""
    return re.sub(r"['`]", "", anyascii(text)).strip()


def pinyin(han: str) -> str:
    """Toneless pinyin from `anyascii`, syllables of one name joined ("Xiuying")."""
    return "".join(anyascii(c).lower() for c in han).capitalize()


# Popular Latin spellings of common Arabic and Hebrew names (collected by hand from usage,
# not from any transliteration library). Keys without diacritics.
ARABIC_POPULAR = {
    "أحمد": "Ahmed", "تامر": "Tamer", "توفيق": "Tawfiq", "جابر": "Jaber", "جاسم": "Jassim",
    "جعفر": "Jaafar", "جلال": "Jalal", "جمال": "Jamal", "جميل": "Jamil", "جهاد": "Jihad",
    "حاتم": "Hatem", "حازم": "Hazem", "حافظ": "Hafez", "حامد": "Hamed", "حسام": "Hossam",
    "حسن": "Hassan", "حسني": "Hosni", "حسين": "Hussein", "حكيم": "Hakim", "حمدان": "Hamdan",
    "حمدي": "Hamdi", "حمزة": "Hamza", "حميد": "Hamid", "حيدر": "Haidar", "خالد": "Khaled",
    "خليفة": "Khalifa", "خليل": "Khalil", "خميس": "Khamis", "داوود": "Dawood", "رائد": "Raed",
    "راشد": "Rashed", "رامي": "Rami", "رامز": "Ramez", "رجب": "Rajab", "رشيد": "Rashid",
    "رضوان": "Radwan", "رمضان": "Ramadan", "زكريا": "Zakaria", "زياد": "Ziad", "زيد": "Zaid",
    "سالم": "Salem", "سامح": "Sameh", "سامر": "Samer", "سامي": "Sami", "سعد": "Saad",
    "سعيد": "Saeed", "سلطان": "Sultan", "سلمان": "Salman", "سليم": "Salim", "سمير": "Samir",
    "سليمان": "Suleiman", "سهيل": "Suhail", "شادي": "Shadi", "شريف": "Sherif", "شوقي": "Shawki",
    "أحلام": "Ahlam", "أروى": "Arwa", "أريج": "Areej", "ايمان": "Iman", "بشرى": "Bushra",
    "بثينة": "Buthaina", "جميلة": "Jamila", "حياة": "Hayat", "دانة": "Dana", "ريم": "Reem",
    "ريما": "Rima", "زهرة": "Zahra", "شهد": "Shahd", "ضحى": "Doha", "لارا": "Lara",
    "لينا": "Lina", "مريم": "Maryam", "مايا": "Maya", "ميرا": "Mira", "ناهد": "Nahed",
    "نوال": "Nawal", "هاجر": "Hajar", "هدى": "Huda", "هند": "Hind", "وفاء": "Wafaa",
    "يارا": "Yara", "ياسمين": "Yasmin", "يسرى": "Yusra", "ابتسام": "Ibtisam",
    "الأنصاري": "Al-Ansari", "الأيوبي": "Al-Ayoubi", "البخاري": "Al-Bukhari",
    "البغدادي": "Al-Baghdadi", "البيطار": "Al-Bitar", "الحسيني": "Al-Husseini",
    "الحلاق": "Al-Hallaq", "الحلواني": "Al-Halawani", "الخالدي": "Al-Khalidi",
    "الخطيب": "Al-Khatib", "الداودي": "Al-Daoudi", "الدجاني": "Al-Dajani",
    "الدسوقي": "El-Desouky", "السمان": "Al-Samman", "الشامي": "Al-Shami",
    "الشهابي": "Al-Shihabi", "الطحان": "Al-Tahhan", "العلمي": "Al-Alami",
    "المغربي": "Al-Maghribi", "المفتي": "Al-Mufti", "النجار": "Al-Najjar", "النمر": "Al-Nimr",
    "الصالح": "Al-Saleh", "القباني": "Al-Qabbani", "النقيب": "Al-Naqib",
    "المتولي": "El-Metwally", "بيروتي": "Beiruti", "حجازي": "Hijazi", "درويش": "Darwish",
    "طرابلسي": "Trabulsi", "عبده": "Abdo", "غنيم": "Ghoneim", "كمال": "Kamal", "نجم": "Najm",
    "نجيب": "Najib", "صيام": "Siam", "شرف": "Sharaf", "قريش": "Quraish", "زهران": "Zahran",
}  # fmt: skip
HEBREW_POPULAR = {
    "מוחמד": "Mohammed", "נועם": "Noam", "דוד": "David", "אורי": "Uri", "אריאל": "Ariel",
    "איתן": "Eitan", "יוסף": "Yosef", "איתי": "Itay", "יהונתן": "Yehonatan", "דניאל": "Daniel",
    "משה": "Moshe", "איתמר": "Itamar", "עידו": "Ido", "אברהם": "Avraham", "אחמד": "Ahmad",
    "יהודה": "Yehuda", "יונתן": "Yonatan", "יאיר": "Yair", "שמואל": "Shmuel", "עומר": "Omer",
    "ישראל": "Israel", "חיה": "Haya", "הראל": "Harel", "יעקב": "Yaakov", "מיכאל": "Michael",
    "יצחק": "Yitzhak", "חיים": "Haim", "אלון": "Alon", "גיא": "Guy", "עמית": "Amit",
    "שמעון": "Shimon", "רפאל": "Refael", "אדם": "Adam", "שלמה": "Shlomo", "אהרון": "Aharon",
    "נתנאל": "Netanel", "נדב": "Nadav", "עלי": "Ali", "אליהו": "Eliyahu", "נועה": "Noa",
    "תמר": "Tamar", "מאיה": "Maya", "אביגיל": "Avigail", "טליה": "Talia", "שירה": "Shira",
    "איילה": "Ayala", "יעל": "Yael", "שרה": "Sarah", "רוני": "Roni", "רומי": "Romi",
    "חנה": "Hana", "מיכל": "Michal", "אסתר": "Esther", "נויה": "Noya", "הודיה": "Hodaya",
    "רבקה": "Rivka", "אלה": "Ella", "יובל": "Yuval", "רחל": "Rachel", "מרים": "Miriam",
    "אגם": "Agam", "עלמה": "Alma", "נעמי": "Naomi", "רות": "Ruth", "עדי": "Adi",
    "אפרת": "Efrat", "הילה": "Hila", "מעיין": "Maayan", "לאה": "Leah", "כהן": "Cohen",
    "לוי": "Levi", "מזרחי": "Mizrahi", "פרץ": "Peretz", "ביטון": "Biton", "דהן": "Dahan",
    "פרידמן": "Friedman", "אגבאריה": "Agbaria", "מלכה": "Malka", "אזולאי": "Azoulay",
    "כץ": "Katz", "מחאמיד": "Mahamid", "ג'בארין": "Jabarin", "עמר": "Amar",
    "אוחיון": "Ohayon", "חדד": "Hadad", "גבאי": "Gabay", "ח'טיב": "Khatib",
    "בן דוד": "Ben David", "אדרי": "Edri", "לוין": "Levin", "טל": "Tal", "קליין": "Klein",
    "חן": "Chen", "שפירא": "Shapira", "חזן": "Hazan", "אשכנזי": "Ashkenazi", "אוחנה": "Ohana",
    "סגל": "Segal", "גולן": "Golan", "בר": "Bar", "מור": "Mor", "שלום": "Shalom",
    "דיין": "Dayan", "אלבז": "Elbaz",
}  # fmt: skip


def _popular(table: dict[str, str]) -> Callable[[Person], str | None]:
    def spell(p: Person) -> str | None:
        first, last = table.get(strip_marks(p.first)), table.get(strip_marks(p.last))
        return f"{first} {last}" if first and last else None

    return spell


def _words(convert: Callable[[str], str]) -> Callable[[Person], str | None]:
    return lambda p: convert(p.name)


def _han(western: bool) -> Callable[[Person], str | None]:
    def spell(p: Person) -> str | None:
        first, last = pinyin(p.first), pinyin(p.last)
        return f"{first} {last}" if western else f"{last} {first}"

    return spell


def _hepburn(western: bool) -> Callable[[Person], str | None]:
    def spell(p: Person) -> str | None:
        if p.roman is None:
            return None
        first, last = p.roman
        return f"{first} {last}" if western else f"{last} {first}"

    return spell


Romanizer = Callable[[Person], str | None]
# Per locale: convention name → how it spells a person (None when it cannot).
ROMANIZATIONS: dict[str, dict[str, Romanizer]] = {
    "ru_RU": {
        "anyascii": _words(anyascii),
        "popular": _words(russian_popular),
        "icao": _words(russian_icao),
    },
    "el_GR": {"anyascii": _words(anyascii_words), "elot": _words(greek_popular)},
    # No maintained pinyin library is installed, so Chinese gets `anyascii`'s toneless pinyin
    # per character, grouped and ordered as people write it ("Wang Xiuying", "Xiuying Wang").
    "zh_CN": {"pinyin": _han(western=False), "pinyin_western": _han(western=True)},
    "ja_JP": {"hepburn": _hepburn(western=False), "hepburn_western": _hepburn(western=True)},
    "ar_AA": {"anyascii": _words(anyascii_words), "popular": _popular(ARABIC_POPULAR)},
    "he_IL": {"anyascii": _words(anyascii_words), "popular": _popular(HEBREW_POPULAR)},
    "hi_IN": {"anyascii": _words(anyascii_words), "hunterian": _words(hindi_hunterian)},
}
# The Latin form a customer's email address is built from.
EMAIL_CONVENTION = {"zh_CN": "pinyin_western", "ja_JP": "hepburn_western"}


def email_name(p: Person) -> str:
    if p.latin:
        return p.name
    spellings = ROMANIZATIONS[p.locale]
    for convention in (EMAIL_CONVENTION.get(p.locale), "popular", "elot", "hunterian"):
        if convention in spellings and (spelled := spellings[convention](p)):
            return spelled
    return anyascii(p.name)


# ---------------------------------------------------------------- typos in a name's own script
def _grid_neighbours(rows: list[str]) -> dict[str, str]:
    """Keys next to each key on a staggered keyboard: same row either side, the row above
    (same column and one right) and the row below (same column and one left)."""
    near: dict[str, str] = defaultdict(str)
    for r, row in enumerate(rows):
        for c, key in enumerate(row):
            spots = [(r, c - 1), (r, c + 1), (r - 1, c), (r - 1, c + 1), (r + 1, c - 1), (r + 1, c)]
            for rr, cc in spots:
                if 0 <= rr < len(rows) and 0 <= cc < len(rows[rr]):
                    near[key] += rows[rr][cc]
    return dict(near)


LAYOUTS = {
    "ru_RU": ["йцукенгшщзхъ", "фывапролджэ", "ячсмитьбю"],
    "el_GR": ["ςερτυθιοπ", "ασδφγηξκλ", "ζχψωβνμ"],
    "he_IL": ["קראטוןםפ", "שדגכעיחלךף", "זסבהנמצתץ"],
    "ar_AA": ["ضصثقفغعهخحجد", "شسيبلاتنمكط", "ئءؤرىةوزظ"],
    "hi_IN": ["ौैाीूबहगदजड", "ोे्िुपरकतचट", "ंमनवलस"],
}
NEIGHBOURS = {locale: _grid_neighbours(rows) for locale, rows in LAYOUTS.items()}
# Kanji that are written in an old or variant form in many family names (斎藤/齋藤, 渡辺/渡邊).
KANJI_VARIANTS = {
    "斉": "斎", "斎": "齋", "辺": "邊", "沢": "澤", "浜": "濱", "崎": "﨑", "高": "髙",
    "島": "嶋", "桜": "櫻", "広": "廣", "竜": "龍", "国": "國", "恵": "惠", "真": "眞",
}  # fmt: skip


def alphabet_typo(rng: random.Random, word: str, kind: str, near: dict[str, str]) -> str | None:
    """One typo of `kind` in a word of an alphabetic script (never its first letter)."""
    if len(word) < 4:
        return None
    i = rng.randrange(1, len(word) - 1)
    ch = word[i].lower()
    if kind == "insertion":
        return word[:i] + rng.choice(near.get(ch) or ch) + word[i:]
    if kind == "deletion":
        return word[:i] + word[i + 1 :]
    if kind == "substitution":
        return word[:i] + rng.choice(near[ch]) + word[i + 1 :] if near.get(ch) else None
    i = min(i, len(word) - 2)
    if word[i] == word[i + 1]:
        return None
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


class HanHomophones:
    """Characters of the name pools grouped by reading: a wrong but same-sounding pick."""

    def __init__(self, names: list[str]) -> None:
        by_reading: dict[str, set[str]] = defaultdict(set)
        for name in names:
            for ch in name:
                by_reading[anyascii(ch).lower()].add(ch)
        self.alternatives = {
            ch: sorted(same - {ch}) for same in by_reading.values() for ch in same if len(same) > 1
        }

    def typo(self, rng: random.Random, name: str) -> str | None:
        spots = [i for i, ch in enumerate(name) if ch in self.alternatives or ch in KANJI_VARIANTS]
        if not spots:
            return None
        i = rng.choice(spots)
        options: list[str] = [*self.alternatives.get(name[i], []), *KANJI_VARIANTS.get(name[i], "")]
        return name[:i] + rng.choice(options) + name[i + 1 :]
