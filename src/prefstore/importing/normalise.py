"""Identifier normalisation for bulk input: the store's own rules, with a fast path.

`identifiers.normalise_email` (email-validator) costs ~20 µs; a million rows of plain ASCII
addresses would spend 20 s there. Addresses that match a strict ASCII shape are normalised
by the rule email-validator applies to them (lower-case the whole address); anything else
goes through email-validator. A test checks both paths agree.
"""

from __future__ import annotations

import re

from email_validator import SPECIAL_USE_DOMAIN_NAMES

from prefstore.identifiers import normalise_email, normalise_phone

_PLAIN_EMAIL = re.compile(
    r"(?P<local>[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*)"
    r"@(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})"
)
_SPECIAL = tuple(SPECIAL_USE_DOMAIN_NAMES)


def email(raw: str, field: str) -> str:
    text = raw.strip()
    found = _PLAIN_EMAIL.fullmatch(text)
    # "--" in a label may be IDNA ("xn--"): left to email-validator.
    if found and len(text) <= 254 and len(found["local"]) <= 64 and "--" not in found["domain"]:
        domain = found["domain"].lower()
        if not any(domain == d or domain.endswith("." + d) for d in _SPECIAL):
            return text.lower()
    return normalise_email(raw, field)


def phone(raw: str, region: str, field: str) -> str:
    return normalise_phone(raw, region, field)
