"""A search query read into its parts: folded name words, digit runs (a phone) and emails."""

from __future__ import annotations

from dataclasses import dataclass

from prefstore.search.postings import email_local
from prefstore.search.text import digits, fold

MAX_NAME_WORDS = 8


@dataclass
class Query:
    words: list[str]
    """Folded name words (initials included)."""
    numbers: list[str]
    """Digit runs of 3+ digits (adjacent digit groups joined: "555 0123" → "5550123")."""
    emails: list[tuple[str, str]]
    """(local alphanumerics, domain) of each part with an '@'."""

    @property
    def empty(self) -> bool:
        return not (self.words or self.numbers or self.emails)


def parse_query(text: str) -> Query:
    words: list[str] = []
    numbers: list[str] = []
    emails: list[tuple[str, str]] = []
    run = ""
    for raw in text.split():
        stripped = raw.strip("+-().,;")
        if "@" in raw:
            emails.append(email_local(raw.strip("<>,;")))
        elif stripped and all(ch.isdigit() or ch in "-./()" for ch in stripped):
            run += digits(stripped)
            continue
        else:
            words.extend(fold(raw).split())
        if len(run) >= 3:
            numbers.append(run)
        run = ""
    if len(run) >= 3:
        numbers.append(run)
    return Query(words=words[:MAX_NAME_WORDS], numbers=numbers, emails=emails)
