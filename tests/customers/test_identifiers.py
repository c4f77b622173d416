"""Identifiers are normalised once, on the way in, by one set of rules."""

from __future__ import annotations

import random

import pytest

from prefstore.customers import identifiers
from prefstore.customers.identifiers import fast_phone, normalise_phone
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
