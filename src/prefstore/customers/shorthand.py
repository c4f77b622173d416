"""The quick-entry shorthand: one line of staff input → likes, dislikes, allergies, tags, a
note and follow-ups.

    +popcorn>pretzels -olives !peanuts #vip window seat please ^comp the dessert we owe her

is a like (popcorn, preferred over pretzels), a dislike, an allergy, a tag, the note "window
seat please" and a follow-up (`^` takes the rest of the line, or a quoted text). The syntax
is documented in docs/SHORTHAND.md and on the page. This is the only parser of it: the page
shows the server's parse as a preview, so what staff see is what gets saved.

Pure: no I/O, no clock. Bad input raises `InvalidInput("text", why)`.
"""

from __future__ import annotations

import unicodedata
from typing import Literal

import msgspec

from prefstore.errors import InvalidInput

MAX_TEXT = 2000
"""Characters in one entry: a line at a desk, not an essay (a note may hold up to 4000)."""
MAX_ITEMS = 30
MAX_LABEL = 120
MAX_TAG = 40
MAX_FOLLOW_UP = 500
FOLLOW_UP = "^"
"""Starts a follow-up: the rest of the line is its text, unless it is quoted."""
OVER = ">"
"""Inside a like: what it is preferred over (`+popcorn>pretzels`, `+"oat milk">"soy milk"`)."""

ItemKind = Literal["like", "dislike", "allergy", "severe", "dietary", "tag"]

# Longest marker first: "!!" must win over "!".
MARKERS: tuple[tuple[str, ItemKind], ...] = (
    ("!!", "severe"),
    ("!", "allergy"),
    ("~", "dietary"),
    ("+", "like"),
    ("-", "dislike"),
    ("#", "tag"),
)
_MARKER_CHARS = frozenset("".join(m for m, _ in MARKERS) + FOLLOW_UP)
# Tablet keyboards type “smart” quotes; accept them as well as plain ones.
_QUOTES = {'"': '"', "“": "”", "„": "“", "«": "»"}
_TRAILING = ".,;:!?…)]}"


class Item(msgspec.Struct, frozen=True, kw_only=True):
    kind: ItemKind
    label: str
    over: str | None = None
    """For a like: what it is preferred over."""


class Entry(msgspec.Struct, kw_only=True):
    items: list[Item]
    note: str | None
    warnings: list[str]
    """Things staff may want to know before saving (e.g. a lone '+' kept in the note)."""
    follow_ups: list[str] = []

    @property
    def empty(self) -> bool:
        return not self.items and self.note is None and not self.follow_ups


def parse(text: str) -> Entry:
    """Parse one line of shorthand. Raises InvalidInput('text', …) on input it cannot save."""
    # Length first: nothing else (NFC included) looks at an over-long entry. Every step
    # below is one pass over the text (no regex), so a pathological line costs what its
    # length does.
    if len(text) > MAX_TEXT:
        raise InvalidInput("text", f"at most {MAX_TEXT} characters (this has {len(text)})")
    text = unicodedata.normalize("NFC", text)
    if len(text) > MAX_TEXT:
        raise InvalidInput("text", f"at most {MAX_TEXT} characters (this has {len(text)})")
    items: list[Item] = []
    note_words: list[str] = []
    warnings: list[str] = []
    follow_ups: list[str] = []
    i = 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        if text[i] == FOLLOW_UP:
            follow_up, end = _follow_up(text, i + 1)
            if follow_up is None:
                warnings.append(f"'{FOLLOW_UP}' has no text after it: kept in the note")
                end = _word_end(text, i)
                note_words.append(text[i:end])
            else:
                follow_ups.append(follow_up)
            i = end
            continue
        token, i = _next_token(text, i)
        item, warning = _item_of(token)
        if warning:
            warnings.append(warning)
        if item is None:
            note_words.append(_literal(token))
        else:
            items.append(item)
    items = _merged(items)
    if len(items) > MAX_ITEMS:
        raise InvalidInput("text", f"at most {MAX_ITEMS} items in one entry")
    note = " ".join(w for w in note_words if w) or None
    return Entry(items=items, note=note, warnings=warnings, follow_ups=follow_ups)


def _follow_up(text: str, i: int) -> tuple[str | None, int]:
    """The follow-up text starting at `i` (just after `^`): quoted, or the rest of the line;
    None when it holds no letter or digit. Returns it and the index after it."""
    if i < len(text) and text[i] in _QUOTES:
        close = text.find(_QUOTES[text[i]], i + 1)
        if close == -1:
            raise InvalidInput("text", f"close the quote after {text[i - 1 : i + 12]}…")
        body, end = text[i + 1 : close], close + 1
    else:
        body, end = text[i:], len(text)
    body = " ".join(body.split())
    if len(body) > MAX_FOLLOW_UP:
        raise InvalidInput("text", f"a follow-up holds at most {MAX_FOLLOW_UP} characters")
    return (body if any(ch.isalnum() for ch in body) else None), end


class _Token(msgspec.Struct, frozen=True):
    marker: str
    body: str
    quoted: bool
    raw: str


def _marker_at(text: str, i: int) -> str:
    return next((m for m, _ in MARKERS if text.startswith(m, i)), "")


def _next_token(text: str, i: int) -> tuple[_Token, int]:
    """The token starting at `i` (not whitespace) and the index after it."""
    start = i
    if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in _MARKER_CHARS:
        # An escaped marker is plain note text: "\-5 degrees" keeps "-5".
        end = _word_end(text, i)
        return _Token("", text[i + 1 : end], False, text[start:end]), end
    marker = _marker_at(text, i)
    j = i + len(marker)
    if marker and j < len(text) and text[j] in _QUOTES:
        close = _closing(text, j, start)
        body = text[j + 1 : close]
        if marker == "+" and _quoted_over_at(text, close + 1):
            second = _closing(text, close + 2, start)  # +"oat milk">"soy milk"
            body, close = f"{body}{OVER}{text[close + 3 : second]}", second
        end = _word_end(text, close + 1)
        tail = text[close + 1 : end].rstrip(_TRAILING)
        return _Token(marker, body + tail, True, text[start:end]), end
    end = _word_end(text, j)
    over = text.find(OVER, j, end)
    if marker == "+" and over != -1 and _quoted_over_at(text, over):
        close = _closing(text, over + 1, start)  # +popcorn>"salted pretzels"
        end = _word_end(text, close + 1)
        body = f"{text[j:over]}{OVER}{text[over + 2 : close]}{text[close + 1 : end]}"
        return _Token(marker, body.rstrip(_TRAILING), True, text[start:end]), end
    return _Token(marker, text[j:end], False, text[start:end]), end


def _quoted_over_at(text: str, i: int) -> bool:
    """Whether `>` and an opening quote start at `i`."""
    return text.startswith(OVER, i) and i + 1 < len(text) and text[i + 1] in _QUOTES


def _closing(text: str, opening: int, start: int) -> int:
    """The index of the quote that closes the one at `opening`."""
    close = text.find(_QUOTES[text[opening]], opening + 1)
    if close == -1:
        raise InvalidInput("text", f"close the quote after {text[start : opening + 12]}…")
    return close


def _word_end(text: str, i: int) -> int:
    while i < len(text) and not text[i].isspace():
        i += 1
    return i


def _literal(token: _Token) -> str:
    return token.raw if token.marker or token.quoted else token.body


def _item_of(token: _Token) -> tuple[Item | None, str | None]:
    """The item a token names, or None when it is note text (with a warning if it looked
    like an item but was not one)."""
    if not token.marker:
        return None, None
    kind = dict(MARKERS)[token.marker]
    if not token.body.strip():
        return None, f"'{token.raw}' has nothing after it: kept in the note"
    label = " ".join(token.body.split())
    if not token.quoted:
        label = label.rstrip(_TRAILING)
    if not any(ch.isalnum() for ch in label):
        return None, f"'{token.raw}' has no letters or digits: kept in the note"
    if kind == "tag":
        return Item(kind=kind, label=_tag(label)), None
    over = None
    if kind == "like" and OVER in label:
        label, _, rest = (part.strip() for part in label.partition(OVER))
        over = " ".join(rest.split()).rstrip(_TRAILING) or None
        if not any(ch.isalnum() for ch in label):
            return None, f"'{token.raw}' likes nothing before '{OVER}': kept in the note"
        if over is not None and over.casefold() == label.casefold():
            over = None  # "tea over tea" says no more than "tea"
    for text in (label, over or ""):
        if len(text) > MAX_LABEL:
            raise InvalidInput("text", f"'{text[:20]}…' is longer than {MAX_LABEL} characters")
    return Item(kind=kind, label=label, over=over), None


def _tag(label: str) -> str:
    tag = label.casefold()
    if len(tag) > MAX_TAG:
        raise InvalidInput("text", f"tag '#{tag[:20]}…' is longer than {MAX_TAG} characters")
    if not (tag[0].isalnum() or tag[0] == "_") or any(
        not (ch.isalnum() or ch in "_ .:-") for ch in tag
    ):
        raise InvalidInput("text", f"tag '#{tag}' may hold only letters, digits and ' _.:-'")
    return tag


_SAFETY_RANK = {"severe": 0, "allergy": 1, "dietary": 2}


def _merged(items: list[Item]) -> list[Item]:
    """Drop repeats (case-insensitive); keep the most severe safety marker for one label;
    refuse a label both liked and disliked in one entry."""
    out: dict[tuple[str, str], Item] = {}
    for item in items:
        group = "safety" if item.kind in _SAFETY_RANK else item.kind
        key = (group, item.label.casefold())
        held = out.get(key)
        if held is None or (
            group == "safety" and _SAFETY_RANK[item.kind] < _SAFETY_RANK[held.kind]
        ):
            out[key] = item
    likes = {label for group, label in out if group == "like"}
    both = sorted(label for group, label in out if group == "dislike" and label in likes)
    if both:
        raise InvalidInput("text", f"'{both[0]}' is both liked (+) and disliked (-)")
    return list(out.values())
