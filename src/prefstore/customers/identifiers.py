"""Normalising identifiers once, on the way in: the one home of the rules.

A phone is stored and indexed in E.164; an email lower-cased; other identifiers trimmed and
case-folded. Lookups normalise the same way, so "+1 (415) 555-0123" and "4155550123" find
the same customer.

Bulk input (the importer) goes through `fast_email` and `fast_phone`: the same rules with a
fast path for the common shapes, since `normalise_email` (email-validator) and
`normalise_phone` (phonenumbers) cost ~20 µs each and a million rows would spend 20 s in
each. A test checks both paths agree.
"""

from __future__ import annotations

import re

import phonenumbers
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from prefstore.errors import InvalidInput

RESERVED_KINDS = frozenset({"email", "phone", "id"})
_INVALID = "not a valid phone number for its country"


def normalise_phone(raw: str, region: str, field: str = "phone") -> str:
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(field, f"not a phone number ({exc})") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidInput(field, _INVALID)
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


# ---------------------------------------------------------------- bulk input (the importer)
_PLAIN_EMAIL = re.compile(
    r"(?P<local>[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*)"
    r"@(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})"
)
_SPECIAL = tuple(SPECIAL_USE_DOMAIN_NAMES)
_NANP_REGIONS = frozenset(phonenumbers.region_codes_for_country_code(1))


def fast_email(raw: str, field: str) -> str:
    """`normalise_email` for bulk input. Addresses that match a strict ASCII shape are
    normalised by the rule email-validator applies to them (lower-case the whole address);
    anything else goes through email-validator."""
    text = raw.strip()
    found = _PLAIN_EMAIL.fullmatch(text)
    # "--" in a label may be IDNA ("xn--"): left to email-validator.
    if found and len(text) <= 254 and len(found["local"]) <= 64 and "--" not in found["domain"]:
        domain = found["domain"].lower()
        if not any(domain == d or domain.endswith("." + d) for d in _SPECIAL):
            return text.lower()
    return normalise_email(raw, field)


# North American numbers (country code 1) written as 10 digits, optionally after "+1".
_NANP = re.compile(r"(?:\+1[\s.-]?)?\(?([2-9]\d{2})\)?[\s.-]?(\d{3})[\s.-]?(\d{4})")
_NANP_PREFIX = 7
_nanp_valid: dict[str, bool] = {}
_MAX_CACHED = 200_000


def fast_phone(raw: str, region: str, field: str) -> str:
    """`normalise_phone` for bulk input. phonenumbers costs ~20 µs a number, mostly deciding
    validity. For a North American number that validity is decided by libphonenumber's
    metadata on the area code and exchange, so it is computed once per 7-digit prefix. For
    the first number of a prefix only the validity check runs (~7 µs): `phonenumbers.parse`
    of this shape always gives country code 1 and these ten digits. An invalid one, and
    anything not in the plain 10-digit shape, takes the full path (`normalise_phone`), so
    the error is the store's own."""
    text = raw.strip()
    found = _NANP.fullmatch(text)
    if found is None or not (text.startswith("+1") or region in _NANP_REGIONS):
        return normalise_phone(raw, region, field)
    national = found[1] + found[2] + found[3]
    known = _nanp_valid.get(national[:_NANP_PREFIX])
    if known is True:
        return "+1" + national
    if known is False:
        raise InvalidInput(field, _INVALID)
    # What `phonenumbers.parse` makes of this shape, without its ~15 µs of text handling:
    # country code 1 and these ten digits. Only the validity check itself runs.
    if phonenumbers.is_valid_number(phonenumbers.PhoneNumber(1, int(national))):
        _remember(national, True)
        return "+1" + national
    try:
        result = normalise_phone(raw, region, field)
    except InvalidInput as exc:
        if exc.reason == _INVALID:
            _remember(national, False)
        raise
    return result


def _remember(national: str, valid: bool) -> None:
    if len(_nanp_valid) >= _MAX_CACHED:
        _nanp_valid.clear()
    _nanp_valid[national[:_NANP_PREFIX]] = valid
