"""How an imported row becomes a customer: the id of a new customer without a CRM id."""

from __future__ import annotations

import hashlib

from prefstore.customers.store import CustomerStore
from prefstore.redis.keyspace import KeySpace
from prefstore.transfer.merge import new_customer_id
from prefstore.transfer.rows import Incoming
from tests.support.imports import run_import

EMAIL = "ada@example.com"


async def test_an_import_made_id_cannot_be_recomputed_from_the_email_without_the_salt(
    store: CustomerStore,
) -> None:
    """Found item 8: the id was `i` + BLAKE2b(email), unsalted, and the audit trail keeps it
    after an erasure: anyone with a candidate email could tell the person had been here."""
    summary = await run_import(store, f"email,name\n{EMAIL},Ada\n")
    assert summary.created == 1
    ids = [
        KeySpace(store.keys.prefix).customer_id_from_record_key(k.decode())
        async for k in store.redis.scan_iter(match=store.keys.record_pattern())
    ]
    assert len(ids) == 1 and ids[0].startswith("i")
    unsalted = hashlib.blake2b(f"email\x00{EMAIL}".encode(), digest_size=8).hexdigest()
    assert ids[0] != "i" + unsalted
    for guess in (b"", b"prefstore", EMAIL.encode()):
        assert ids[0] != new_customer_id(_row(), guess), "computable without the salt"
    # Deterministic with the deployment's salt: a re-run (or a resumed run) finds it again.
    assert ids[0] == new_customer_id(_row(), await store.suppression_salt())


def _row() -> Incoming:
    return Incoming(line=1, raw=None, emails=[EMAIL], match_keys=[("email", EMAIL)])
