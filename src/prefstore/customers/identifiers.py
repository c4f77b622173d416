"""Normalising identifiers once, on the way in.

A phone is stored and indexed in E.164; an email lower-cased; other identifiers trimmed and
case-folded. Lookups normalise the same way, so "+1 (415) 555-0123" and "4155550123" find
the same customer.
"""

from __future__ import annotations

import hashlib
import hmac

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from prefstore.errors import InvalidInput
from prefstore.models import CustomerRecord
from prefstore.redis.keyspace import KeySpace

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


def customer_identifiers(
    emails: list[str], phones: list[str], others: dict[str, str]
) -> list[tuple[str, str]]:
    """All (kind, normalised value) pairs of an already-normalised customer."""
    pairs = [("email", e) for e in emails] + [("phone", p) for p in phones]
    pairs += sorted(others.items())
    return pairs


def identifier_keys(keys: KeySpace, record: CustomerRecord) -> dict[str, tuple[str, str]]:
    """Index key -> (kind, normalised value) for every identifier the record claims."""
    pairs = customer_identifiers(record.emails, record.phones, record.identifiers)
    return {keys.identifier(kind, value): (kind, value) for kind, value in pairs}


def suppression_hashes(record: CustomerRecord, salt: bytes) -> list[str]:
    """Keyed hashes of the record's identifiers: what erasure remembers, never the values."""
    pairs = customer_identifiers(record.emails, record.phones, record.identifiers)
    return [
        hmac.new(salt, f"{kind}\x00{value}".encode(), hashlib.sha256).hexdigest()
        for kind, value in pairs
    ]
