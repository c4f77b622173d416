"""Normalising identifiers once, on the way in.

A phone is stored and indexed in E.164; an email lower-cased; other identifiers trimmed and
case-folded. Lookups normalise the same way, so "+1 (415) 555-0123" and "4155550123" find
the same customer.
"""

from __future__ import annotations

import hashlib

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from prefstore.errors import InvalidInput

RESERVED_KINDS = frozenset({"email", "phone", "id"})


def normalise_phone(raw: str, region: str, field: str = "phone") -> str:
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(field, f"not a phone number ({exc})") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidInput(field, "not a valid phone number for its country")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(raw: str, field: str = "email") -> str:
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput(field, f"not a valid email address ({exc})") from None
    # The domain is case-insensitive; the local part technically is not, but every mail
    # system a CRM talks to treats it so, and a front desk types it in any case.
    return result.normalized.lower()


def normalise_other(kind: str, raw: str, field: str | None = None) -> str:
    if kind in RESERVED_KINDS:
        raise InvalidInput(field or f"identifiers.{kind}", f"'{kind}' has its own field")
    value = " ".join(raw.split()).casefold()
    if not value:
        raise InvalidInput(field or f"identifiers.{kind}", "must not be blank")
    return value


def identifier_digest(kind: str, value: str) -> str:
    """A short stable digest of a normalised identifier, used in index key names so the
    keyspace itself never lists emails or phone numbers."""
    return hashlib.blake2b(f"{kind}\x00{value}".encode(), digest_size=16).hexdigest()


def customer_identifiers(
    emails: list[str], phones: list[str], others: dict[str, str]
) -> list[tuple[str, str]]:
    """All (kind, normalised value) pairs of an already-normalised customer."""
    pairs = [("email", e) for e in emails] + [("phone", p) for p in phones]
    pairs += sorted(others.items())
    return pairs
