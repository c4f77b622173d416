"""Identifiers are normalised once, on the way in, by one set of rules."""

from __future__ import annotations

import random

import pytest

from prefstore.customers import identifiers
from prefstore.customers.identifiers import fast_email, fast_phone, normalise_email, normalise_phone
from prefstore.errors import InvalidInput

SHAPES = [
    "({a}) {b}-{c}",
    "+1 {a} {b} {c}",
    "{a}-{b}-{c}",
    "{a}.{b}.{c}",
    "{a}{b}{c}",
    "+1{a}{b}{c}",
]


def _outcome(normalise: object, raw: str, region: str) -> str:
    assert callable(normalise)
    try:
        return str(normalise(raw, region, "p"))
    except InvalidInput as exc:
        return f"error {exc.field}: {exc.reason}"


@pytest.mark.parametrize("cold_cache", [True, False], ids=["prefix-not-seen", "prefix-seen"])
def test_the_bulk_fast_path_agrees_with_phonenumbers(cold_cache: bool) -> None:
    """The importer's fast path (a cache of valid North American prefixes) answers exactly
    as the phonenumbers library does, for prefixes it has seen and for ones it has not."""
    rng = random.Random(4)
    for _ in range(3000):
        raw = rng.choice(SHAPES).format(
            a=rng.randint(200, 999), b=f"{rng.randint(0, 999):03d}", c=f"{rng.randint(0, 9999):04d}"
        )
        region = rng.choice(["US", "CA", "GB"])
        if cold_cache:
            identifiers._nanp_valid.clear()
        assert _outcome(fast_phone, raw, region) == _outcome(normalise_phone, raw, region), (
            raw,
            region,
        )


def test_the_fast_email_path_agrees_with_email_validator() -> None:
    """The importer and the lookup read plain addresses without email-validator; the answer
    must be the one it gives, for hand-picked edge cases and for random plain addresses."""
    rng = random.Random(9)
    alphabet = "abcXYZ019._+-"
    generated = [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        + "@"
        + rng.choice(["Example.com", "sub.EXAMPLE.co.uk", "ex-ample.io", "a.b", "x--y.com"])
        for _ in range(500)
    ]
    samples = [
        *generated,
        "Plain@Example.COM",
        "a.b+c@sub.example.co.uk",
        "x@localhost",
        "x@foo.local",
        "x@xn--bcher-kva.example",
        "a..b@example.com",
        "ümlaut@example.com",
        "a@b.c",
        "very.long." * 7 + "x@example.com",
        "first_last-1@ex-ample.io",
        "x@123.com",
    ]
    for raw in samples:
        try:
            slow: str | None = normalise_email(raw, "e")
        except InvalidInput:
            slow = None
        try:
            fast: str | None = fast_email(raw, "e")
        except InvalidInput:
            fast = None
        assert fast == slow, raw
