"""The quick-entry shorthand: one line of staff input → likes, dislikes, allergies, tags, a note.

    +popcorn -pretzels !peanuts #vip window seat please

is a like, a dislike, an allergy, a tag and the note "window seat please". The syntax is
documented in docs/SHORTHAND.md and on the page. This is the only parser of it: the page
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
_MARKER_CHARS = frozenset("".join(m for m, _ in MARKERS))
# Tablet keyboards type “smart” quotes; accept them as well as plain ones.
_QUOTES = {'"': '"', "“": "”", "„": "“", "«": "»"}
_TRAILING = ".,;:!?…)]}"


class Item(msgspec.Struct, frozen=True, kw_only=True):
    kind: ItemKind
    label: str


class Entry(msgspec.Struct, kw_only=True):
    items: list[Item]
    note: str | None
    warnings: list[str]
    """Things staff may want to know before saving (e.g. a lone '+' kept in the note)."""

    @property
    def empty(self) -> bool:
        return not self.items and self.note is None


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
    i = 0
    while i < len(text):
        if text[i].isspace():
            i += 1
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
    return Entry(items=items, note=note, warnings=warnings)


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
        close = text.find(_QUOTES[text[j]], j + 1)
        if close == -1:
            raise InvalidInput("text", f"close the quote after {text[start : j + 12]}…")
        end = _word_end(text, close + 1)
        tail = text[close + 1 : end].rstrip(_TRAILING)
        return _Token(marker, text[j + 1 : close] + tail, True, text[start:end]), end
    end = _word_end(text, j)
    return _Token(marker, text[j:end], False, text[start:end]), end


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
    if len(label) > MAX_LABEL:
        raise InvalidInput("text", f"'{label[:20]}…' is longer than {MAX_LABEL} characters")
    return Item(kind=kind, label=label), None


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
