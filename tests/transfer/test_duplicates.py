"""Duplicate hints of a dry run: a nickname, another script or a typo beside an existing name
that shares a partial identifier."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from prefstore.customers.names import Nicknames, default_nicknames, name_similarity
from prefstore.customers.store import CustomerStore
from prefstore.models.inputs import CustomerCreate
from prefstore.transfer.duplicates import NAME_THRESHOLD, DuplicateFinder
from prefstore.transfer.importer import Importer, ImportOptions
from prefstore.transfer.mapping import Mapping
from prefstore.transfer.rows import Incoming
from tests.support.imports import chunks


@pytest.mark.parametrize(
    ("a", "b", "alike"),
    [
        ("Peggy Whitfield", "Margaret Whitfield", True),  # a nickname
        ("Bill Gates", "William Gates", True),
        ("Whitfield Peggy", "Margaret Whitfield", True),  # and the order of the words
        ("Olga Smirnova", "Ольга Смирнова", True),  # another script
        ("Katherine Jonson", "Katherine Johnson", True),  # a typo
        ("Peggy Whitfield", "Dorothy Whitfield", False),
        ("Peggy Vaughan", "Margaret Whitfield", False),
    ],
)
def test_name_similarity(a: str, b: str, alike: bool) -> None:
    assert (name_similarity(a, b, default_nicknames()) >= NAME_THRESHOLD) == alike


def test_nickname_match_scores_below_the_same_name() -> None:
    table = default_nicknames()
    assert name_similarity("Margaret Whitfield", "Margaret Whitfield", table) == 100
    assert name_similarity("Peggy Whitfield", "Margaret Whitfield", table) < 100


async def test_hints_for_a_nickname_and_another_script(
    store: CustomerStore, redis_client: Redis
) -> None:
    await store.create(
        CustomerCreate(id="mw", name="Margaret Whitfield", phones=["+1 415 555 0142"]), actor="t"
    )
    await store.create(
        CustomerCreate(id="os", name="Ольга Смирнова", emails=["olga.s@mail.ru"]), actor="t"
    )
    finder = await DuplicateFinder.load(redis_client, store.keys)
    peggy = finder.check(Incoming(line=2, raw=[], name="Peggy Whitfield", phones=["+12125550142"]))
    assert peggy is not None and peggy.customer_id == "mw" and peggy.matched_on == "phone …0142"
    olga = finder.check(Incoming(line=3, raw=[], name="Olga Smirnova", emails=["olga.s@gmail.com"]))
    assert olga is not None and olga.customer_id == "os"
    other = Incoming(line=4, raw=[], name="Dorothy Vaughan", phones=["+16465550142"])
    assert finder.check(other) is None


async def test_a_deployment_list_of_nicknames(store: CustomerStore, redis_client: Redis) -> None:
    await store.create(
        CustomerCreate(id="ak", name="Alexandra Kim", phones=["+1 415 555 0177"]), actor="t"
    )
    row = Incoming(line=2, raw=[], name="Sasha Kim", phones=["+12125550177"])
    assert (await DuplicateFinder.load(redis_client, store.keys)).check(row) is None
    ours = Nicknames([("alexandra", "sasha")])
    found = (await DuplicateFinder.load(redis_client, store.keys, ours)).check(row)
    assert found is not None and found.customer_id == "ak"


async def test_the_importers_dry_run_hints_with_the_deployment_list(
    store: CustomerStore, redis_client: Redis
) -> None:
    """The list `Services.build` reads from PREFSTORE_NICKNAMES_FILE reaches the import's hints."""
    await store.create(
        CustomerCreate(id="ak", name="Alexandra Kim", phones=["+1 415 555 0177"]), actor="t"
    )
    rows = b"Name,Phone\nSasha Kim,+1 212 555 0177\n"
    options = ImportOptions(mapping=Mapping.build("auto", None, ()), dry_run=True)
    plain = Importer(store.storage, region=store.region, salt=store.suppression_salt)
    assert (await plain.run(chunks(rows), options)).duplicates == []
    ours = Importer(
        store.storage,
        region=store.region,
        salt=store.suppression_salt,
        nicknames=Nicknames([("alexandra", "sasha")]),
    )
    hinted = (await ours.run(chunks(rows), options)).duplicates
    assert [(d.line, d.customer_id) for d in hinted] == [(2, "ak")]
