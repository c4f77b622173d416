"""A search query read into its parts: folded name words (any script; characters for CJK),
digit runs (a phone) and emails."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from prefstore.customers.names import name_words
from prefstore.search.postings import email_local
from prefstore.search.text import digits

MAX_NAME_WORDS = 8
_LETTERS = re.compile(r"[^\W\d_]+")


@dataclass
class Query:
    words: list[str]
    """Folded name words (initials included)."""
    numbers: list[str]
    """Digit runs of 3+ digits (adjacent digit groups joined: "555 0123" → "5550123")."""
    emails: list[tuple[str, str]]
    """(local alphanumerics, domain) of each part with an '@'."""
    email_words: list[list[str]] = field(default_factory=list)
    """Per email, the runs of letters in its local part ("jon_smith2" → jon, smith): most
    local parts are made of the person's names."""

    @property
    def empty(self) -> bool:
        return not (self.words or self.numbers or self.emails)


def parse_query(text: str) -> Query:
    words: list[str] = []
    numbers: list[str] = []
    emails: list[tuple[str, str]] = []
    email_words: list[list[str]] = []
    run = ""
    for raw in text.split():
        stripped = raw.strip("+-().,;")
        if "@" in raw:
            emails.append(email_local(raw.strip("<>,;")))
            email_words.append(_LETTERS.findall(raw.partition("@")[0].casefold()))
        elif stripped and all(ch.isdigit() or ch in "-./()" for ch in stripped):
            run += digits(stripped)
            continue
        else:
            words.extend(name_words(raw))
        if len(run) >= 3:
            numbers.append(run)
        run = ""
    if len(run) >= 3:
        numbers.append(run)
    return Query(words[:MAX_NAME_WORDS], numbers, emails, email_words)
