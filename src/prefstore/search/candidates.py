"""Stage 1 of a search: candidates. A query word is first expanded to *vocabulary* words —
exact; its Latin transliteration; the names it is a nickname of, or the nicknames of it;
one deletion away in either direction (SymSpell's trick: an insertion, deletion,
substitution or transposition); the same metaphone key; words it begins (type-ahead); and,
when none of these is close, words sharing most of its letter pairs (two typos) — each with a
similarity. The vocabulary is tiny next to the customers, so this is cheap; the postings of
the chosen words are then summed per customer with numpy into a coarse score, and the best
customers go on to be scored. An email counts by its rarest trigrams, by the names its local
part is made of, and by a digest of the local part itself (`Boosts`).

Every choice here is ordered by data alone (similarity, then the word; coarse score, then
`forward.rank_key`), never by set or hash order, so a query picks the same candidates in
every process.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from prefstore.customers.names import Nicknames, is_initial, latin, skeleton
from prefstore.search.forward import local_digest
from prefstore.search.postings import PHONE_SUFFIX, PostingStore, grams
from prefstore.search.query import Query
from prefstore.search.vocabulary import deletions, pairs

CANDIDATES = 120
"""At most this many customers are re-scored with rapidfuzz per query, by coarse score."""
COARSE_FLOOR = 0.7
"""…and only those whose coarse score is within this fraction of the best one: a customer
far behind on the cheap score does not win on the exact one, and re-scoring is where the
time goes."""
EMAIL_POOL = 600
"""For an email, trigrams and names say little about who is closest (a typo in "cgaray"
leaves one trigram): this many customers by coarse score are compared on their local parts
alone (cheap), and the closest `CANDIDATES` of them are scored."""
MAX_EXPANSIONS = 24
"""Vocabulary words one query word may expand to (the most similar ones)."""
MAX_COMPLETIONS = 400
"""Words a prefix may stand for (the most common ones)…"""
MAX_COMPLETION_POSTINGS = 250_000
"""…until their customers add up to this many: "ma" stands for too many people to sum."""
MIN_WORD_SIMILARITY = 60.0
FALLBACK_BELOW = 80.0
"""When no expansion is this similar, words sharing most letter pairs are tried (two typos)."""
PREFIX_SIMILARITY = 90.0
"""What a word being typed ("smi") scores against the words it begins ("smith")."""
NICKNAME_SIMILARITY = 85.0
"""What "bill" scores against "william": below an exact match, above most typos."""
TRANSLITERATED = 0.97
"""A word matched through its Latin form scores this fraction of the match."""
SKELETON_SIMILARITY = 80.0
"""A Latin spelling with the consonants of a Hebrew or Arabic word ("levin", "לוין"): the
vowels are a guess, so it scores as a typo would (plus a tenth of the spellings' ratio)."""

MAX_EMAIL_POSTINGS = 20_000
"""An email's trigrams are summed rarest first until their customers add up to this many…"""
MIN_EMAIL_GRAMS = 2
"""…but never fewer trigrams than this."""
EMAIL_NAME_WORD = 50
"""What a name word written in an email's local part adds to the coarse score."""
MAX_EMAIL_COMPLETIONS = 16
MAX_EMAIL_WORDS = 3
EMAIL_TYPO_SIMILARITY = 80.0
LOCAL_TYPO = 60
"""What a local part one letter shorter than the query's adds (the query has a letter too
many): more than sharing trigrams, less than the local part as typed."""

IntArray = npt.NDArray[np.int32]


def similarity(mine: str, theirs: str) -> float:
    """0-100 between two words: rapidfuzz's ratio, or the optimal-string-alignment distance
    (a transposition is one edit) over the longer length, whichever is kinder."""
    return max(fuzz.ratio(mine, theirs), 100.0 * OSA.normalized_similarity(mine, theirs))


def prefix_similarity(word: str) -> float:
    return PREFIX_SIMILARITY if len(word) >= 3 else PREFIX_SIMILARITY - 10


class Scratch:
    """Per-ordinal score buffers, reused (and left zeroed) by every query."""

    def __init__(self) -> None:
        self.acc = np.zeros(1024, dtype=np.uint16)
        self.tmp = np.zeros(1024, dtype=np.uint8)

    def grow(self, size: int) -> None:
        if size > len(self.acc):
            capacity = max(size, len(self.acc) * 2)
            self.acc = np.zeros(capacity, dtype=np.uint16)
            self.tmp = np.zeros(capacity, dtype=np.uint8)

    @property
    def nbytes(self) -> int:
        return self.acc.nbytes + self.tmp.nbytes


def _close_words(store: PostingStore, word: str, typing: bool) -> dict[int, float]:
    vocabulary = store.vocabulary
    found: dict[int, float] = {}
    words = vocabulary.words
    if len(word) >= 2:
        for wid in vocabulary.one_edit(word) + vocabulary.sounds_like(word):
            if wid not in found:
                found[wid] = similarity(word, words[wid])
    if len(word) >= 5 and (not found or max(found.values()) < FALLBACK_BELOW):
        least = len(pairs(word)) - 4  # two edits break at most four letter pairs
        for wid in vocabulary.near(word, max(2, least)):
            found.setdefault(wid, similarity(word, words[wid]))
    return found


def expand(store: PostingStore, nicknames: Nicknames, word: str, typing: bool) -> dict[int, float]:
    """Vocabulary words (ids) a query word may stand for, with their similarity (0-100)."""
    vocabulary = store.vocabulary
    found = _close_words(store, word, typing)
    exact = vocabulary.ids.get(word)
    if exact is not None:
        found[exact] = 100.0
    for name in nicknames.related(word):
        wid = vocabulary.ids.get(name)
        if wid is not None:
            found[wid] = max(found.get(wid, 0.0), NICKNAME_SIMILARITY)
    roman = latin(word)
    if roman and roman != word:
        for wid, score in expand(store, nicknames, roman, typing).items():
            found[wid] = max(found.get(wid, 0.0), score * TRANSLITERATED)
    postings = vocabulary.postings
    words = vocabulary.words
    best = sorted(
        ((s, wid) for wid, s in found.items() if s >= MIN_WORD_SIMILARITY and postings[wid]),
        key=lambda sw: (-sw[0], words[sw[1]]),
    )
    chosen = {wid: s for s, wid in best[:MAX_EXPANSIONS]}
    if typing or len(word) >= 3:
        # Every word might be cut short ("marg whitf"), not only the last one.
        volume = 0
        for wid in vocabulary.completions(word, MAX_COMPLETIONS):
            chosen[wid] = max(chosen.get(wid, 0.0), prefix_similarity(word))
            volume += len(postings[wid])
            if volume > MAX_COMPLETION_POSTINGS:
                break
    return chosen


def split_joined(store: PostingStore, words: list[str]) -> list[str]:
    """ "johnsmith" typed without its space → "john", "smith" when both are known — and the
    word is not a typo of a known word ("foxter" is "foster", not "fox ter")."""
    ids = store.vocabulary.ids
    out: list[str] = []
    for word in words:
        if len(word) >= 6 and word not in ids and not store.vocabulary.one_edit(word):
            for i in range(2, len(word) - 1):
                if word[:i] in ids and word[i:] in ids:
                    out += [word[:i], word[i:]]
                    break
            else:
                out.append(word)
        else:
            out.append(word)
    return out


Part = list[tuple["array[int]", int]]


def query_parts(
    store: PostingStore, query: Query, words: list[str], expansions: list[dict[int, float]]
) -> list[Part]:
    """Per part of the query, the postings it draws on with their weights."""
    postings = store.vocabulary.postings
    parts: list[Part] = [
        [(postings[wid], round(s)) for wid, s in expanded.items()] for expanded in expansions
    ]
    for i, word in enumerate(words):
        # A Latin spelling of a Hebrew or Arabic name, alone or joined to the word before
        # ("al bitar" for "البيطار").
        spelled = [latin(word), *([latin(words[i - 1]) + latin(word)] if i else [])]
        for key in dict.fromkeys(skeleton(s) for s in spelled if s.isascii()):
            if key in store.skeletons:
                parts[i].append((store.skeletons[key], round(SKELETON_SIMILARITY)))
    for number in query.numbers:
        found = store.phones.get(number[-PHONE_SUFFIX:])
        if len(number) >= PHONE_SUFFIX and found:
            parts.append([(found, 100)])
    for (local, _domain), letters in zip(query.emails, query.email_words, strict=True):
        parts += _email_parts(store, local, letters)
    return parts


def _email_parts(store: PostingStore, local: str, letters: list[str]) -> list[Part]:
    """An email's local part: its rarest trigrams (a common one, "^jo", says little and
    costs the most), and the names it is made of, typos and all (`email_names`)."""
    local_grams = list(dict.fromkeys(grams(local))) if local else []
    share = max(1, round(100 / max(1, len(local_grams))))
    found = sorted(
        ((len(store.grams[g]), g) for g in local_grams if g in store.grams), key=lambda ng: ng
    )
    parts: list[Part] = []
    volume = 0
    for size, gram in found:
        if volume + size > MAX_EMAIL_POSTINGS and len(parts) >= MIN_EMAIL_GRAMS:
            break
        parts.append([(store.grams[gram], share)])
        volume += size
    postings = store.vocabulary.postings
    for word, typing in email_names(store, letters):
        close = _email_word(store, word, typing)
        if close:
            parts.append([(postings[wid], round(EMAIL_NAME_WORD * s / 100)) for wid, s in close])
    return parts


def email_names(store: PostingStore, letters: list[str]) -> list[tuple[str, bool]]:
    """The name words an email's local part may be made of, and whether each may be cut
    short: "jon_smi" → jon, smi…; "jsmith" → smith (after an initial); "jonsmith" → jon,
    smith (split after a known name)."""
    if len(letters) > 1:
        return [(w, True) for w in letters if len(w) >= 3][:MAX_EMAIL_WORDS]
    if not letters or len(letters[0]) < 4:
        return []
    local = letters[0]
    found = [(local, True), (local[1:], True)]
    ids = store.vocabulary.ids
    for cut in range(3, len(local) - 2):
        if local[:cut] in ids:
            found += [(local[:cut], False), (local[cut:], True)]
            break
    return found


def _email_word(store: PostingStore, word: str, typing: bool) -> list[tuple[int, float]]:
    """Vocabulary words close to a name in an email (exact, one edit, or begun by it)."""
    vocabulary = store.vocabulary
    found: dict[int, float] = {}
    exact = vocabulary.ids.get(word)
    if exact is not None:
        found[exact] = 100.0
    for wid in vocabulary.one_edit(word):
        score = similarity(word, vocabulary.words[wid])
        if score >= EMAIL_TYPO_SIMILARITY:
            found[wid] = max(found.get(wid, 0.0), score)
    if typing:
        for wid in vocabulary.completions(word, MAX_EMAIL_COMPLETIONS):
            found[wid] = max(found.get(wid, 0.0), prefix_similarity(word))
    return sorted(found.items())


@dataclass
class Boosts:
    """What adds to the coarse score of the customers the postings found, read from
    per-ordinal arrays rather than postings."""

    initials: list[int] = field(default_factory=list)
    """A bit (as in `PostingStore.initials`) per initial of the query ("j smith": j)."""
    locals: list[tuple[int, int]] = field(default_factory=list)
    """(`local_digest`, weight): an email's local part as typed, and with one letter fewer."""

    @classmethod
    def of(cls, query: Query, initials_count: bool) -> Boosts:
        letters = [latin(w)[:1] for w in query.words if is_initial(w)] if initials_count else []
        bits = [1 << (ord(c) - 97) for c in dict.fromkeys(letters) if "a" <= c <= "z"]
        found: dict[int, int] = {}
        for local, _domain in query.emails:
            for variant in deletions(local):
                found.setdefault(local_digest(variant), LOCAL_TYPO)
            if local:
                found[local_digest(local)] = 100
        return cls(bits, sorted(found.items()))


def candidates(
    store: PostingStore,
    scratch: Scratch,
    parts: list[Part],
    boosts: Boosts,
    limit: int,
    floor: float = COARSE_FLOOR,
) -> list[int]:
    """The ordinals of the best `limit` customers by coarse score, ties by rank key; an
    initial of the query counts as a word matched in full, an email's local part matched
    exactly as much as all of its trigrams."""
    touched: list[IntArray] = []
    acc, tmp = scratch.acc, scratch.tmp
    try:
        for part in parts:
            # Ascending weight: where a customer is in several postings of one part
            # (a "jon" who is also filed under "john"), the best weight is written last;
            # the buffered `+=` then adds it once per customer.
            views = [
                (np.frombuffer(found, dtype=np.int32), weight)
                for found, weight in sorted(part, key=lambda pw: pw[1])
                if len(found)
            ]
            if not views:
                continue
            if len(views) == 1:  # one postings list: no customer twice, no best to pick
                view, weight = views[0]
                acc[view] += np.uint16(weight)
                touched.append(view)
                continue
            for view, weight in views:
                tmp[view] = weight
            cat = np.concatenate([v for v, _w in views])
            acc[cat] += tmp[cat]
            tmp[cat] = 0
            touched.append(cat)
        if not touched:
            return []
        everyone = np.concatenate(touched)
        _boost(store, acc, everyone, boosts)
        return _best(store, acc, everyone, limit, floor)
    finally:
        for cat in touched:
            acc[cat] = 0


def _boost(
    store: PostingStore, acc: npt.NDArray[np.uint16], everyone: IntArray, boosts: Boosts
) -> None:
    # `acc[everyone] +=` adds once per customer, however often they are in `everyone`.
    if boosts.initials:
        letters = np.frombuffer(store.forward.initials, dtype=np.uint32)[everyone]
        for bit in boosts.initials:
            acc[everyone] += ((letters & bit) != 0).astype(np.uint16) * np.uint16(100)
    if boosts.locals:
        digests = np.frombuffer(store.forward.local_digests, dtype=np.uint32)[everyone]
        weights = dict(boosts.locals)
        wanted = np.fromiter(weights, dtype=np.uint32, count=len(weights))
        # One pass to find the few customers whose local part is spelled so; then each once.
        matched = np.flatnonzero(np.isin(digests, wanted))
        for ordinal, digest in sorted(
            set(zip(everyone[matched].tolist(), digests[matched].tolist(), strict=True))
        ):
            acc[ordinal] += weights[digest]


def _best(
    store: PostingStore,
    acc: npt.NDArray[np.uint16],
    everyone: IntArray,
    limit: int,
    floor: float,
) -> list[int]:
    keys = np.frombuffer(store.forward.rank_keys, dtype=np.uint32)
    # One sortable number per (repeated) ordinal: coarse score, then the rank key.
    combined = (acc[everyone].astype(np.uint64) << np.uint64(32)) | keys[everyone]
    take = min(len(combined), limit * 4)
    top = np.argpartition(combined, len(combined) - take)[len(combined) - take :]
    unique = np.unique(everyone[top])
    unique_keys = (acc[unique].astype(np.uint64) << np.uint64(32)) | keys[unique]
    best_score = int(acc[unique].max())
    kept = acc[unique] >= best_score * floor
    keep, kept_keys = unique[kept], unique_keys[kept]
    order = np.argsort(-kept_keys.astype(np.int64), kind="stable")[:limit]
    return [int(o) for o in keep[order]]
