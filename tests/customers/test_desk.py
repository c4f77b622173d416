"""The staff page's entries and their undo: kept in the customer's keys, bound to the record
the entry was made on."""

from __future__ import annotations

import pytest

from prefstore.customers import shorthand
from prefstore.errors import Conflict
from prefstore.models.inputs import CustomerCreate
from prefstore.services import Services


async def test_an_undo_that_outlived_its_record_is_not_applied_to_a_new_one(
    services: Services,
) -> None:
    store, desk = services.store, services.desk
    await store.create(CustomerCreate(id="c1", name="First Person"), actor="t")
    saved = await desk.add("c1", shorthand.parse("!!sesame"), key_id="k1", actor="ana")
    assert saved.pointer is not None
    undo_key = services.keys.undo("c1")
    kept = await services.redis.hget(undo_key, "k1")
    assert kept is not None

    await store.erase("c1", actor="admin")
    assert await services.redis.exists(undo_key) == 0, "erasure deletes the undo"
    await store.create(CustomerCreate(id="c1", name="Second Person"), actor="t")
    await desk.add("c1", shorthand.parse("+tea"), key_id="k2", actor="bo")
    # Even if the undo had survived (written back by a race), the re-created record is
    # another record: refused, and the new person's card is untouched.
    await services.redis.hset(undo_key, "k1", kept)
    with pytest.raises(Conflict):
        await desk.undo(saved.pointer, key_id="k1", actor="ana")
    record = await store.get_record("c1")
    assert record.name == "Second Person" and record.allergies == []
    assert [p.label for p in record.preferences] == ["tea"]


async def test_an_entry_that_changes_nothing_leaves_nothing_to_undo(services: Services) -> None:
    await services.store.create(CustomerCreate(id="c2", name="Some One"), actor="t")
    assert (await services.desk.add("c2", shorthand.parse("+tea"), key_id="k", actor="a")).pointer
    again = await services.desk.add("c2", shorthand.parse("+tea"), key_id="k", actor="a")
    assert again.pointer is None
