"""How an imported row becomes a customer: the id of a new customer without a CRM id, its
follow-ups, and its consent by the consent rule (CRM opt-out columns included)."""

from __future__ import annotations

import hashlib

import pytest

from prefstore.customers.store import CustomerStore
from prefstore.errors import InvalidInput
from prefstore.redis.keyspace import KeySpace
from prefstore.transfer.mapping import check_target
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


# ---------------------------------------------------------------- follow-ups and consent
async def test_crm_opt_out_columns_become_opt_outs_and_false_says_nothing(
    store: CustomerStore,
) -> None:
    hubspot = (
        "Record ID,First Name,Email,Unsubscribed from all email\n"
        "h1,Ada,ada@example.com,true\n"
        "h2,Bob,bob@example.com,false\n"
    )
    summary = await run_import(store, hubspot)
    assert (summary.preset, summary.created) == ("hubspot", 2)
    email = (await store.get_record("h1")).consent.email
    assert (email.status, email.source) == ("opted_out", "import:hubspot")
    assert (await store.get_record("h2")).consent.email.status == "unknown"
    salesforce = (
        "Id,FirstName,LastName,Email,HasOptedOutOfEmail,DoNotCall,HasOptedOutOfFax\n"
        "s1,Cy,Do,cy@example.com,0,1,1\n"
    )
    summary = await run_import(store, salesforce)
    assert (summary.preset, summary.created, summary.unknown_columns) == ("salesforce", 1, [])
    consent = (await store.get_record("s1")).consent
    assert (consent.email.status, consent.phone.status, consent.sms.status) == (
        "unknown",
        "opted_out",
        "unknown",
    )
    assert consent.phone.source == "import:salesforce"
    bad = await run_import(store, "Id,FirstName,Email,DoNotCall\ns2,Di,di@example.com,perhaps\n")
    assert bad.rejected == 1 and bad.rejections[0].field == "DoNotCall"


async def test_an_import_never_turns_an_opt_out_into_an_opt_in_unless_dated_later(
    store: CustomerStore,
) -> None:
    header = "crm_id,name,email,consent_email,consent_sms,consent_at\n"
    await run_import(store, header + "c1,Ada,ada@example.com,opted_out,,2025-02-01T00:00:00Z\n")
    undated = await run_import(store, header + "c1,Ada,ada@example.com,opted_in,yes,\n")
    assert undated.rejected == 0
    consent = (await store.get_record("c1")).consent
    assert (consent.email.status, consent.sms.status) == ("opted_out", "opted_in")
    earlier = header + "c1,Ada,ada@example.com,opted_in,,2025-01-15T00:00:00Z\n"
    await run_import(store, earlier)
    assert (await store.get_record("c1")).consent.email.status == "opted_out"
    later = header + "c1,Ada,ada@example.com,opted_in,,2025-03-01T00:00:00Z\n"
    assert (await run_import(store, later)).updated == 1
    email = (await store.get_record("c1")).consent.email
    assert (email.status, email.source) == ("opted_in", "import:prefstore")
    assert email.at is not None and email.at.month == 3
    wrong = await run_import(store, header + "c1,Ada,ada@example.com,maybe,,\n")
    assert wrong.rejected == 1 and wrong.rejections[0].field == "consent_email"


async def test_a_follow_up_column_adds_one_follow_up_once(store: CustomerStore) -> None:
    rows = 'crm_id,name,email,Follow-up\nf1,Ada,ada@example.com,"Comp the dessert, we owe her"\n'
    assert (await run_import(store, rows, actor="crm-sync")).created == 1
    assert (await run_import(store, rows, actor="crm-sync")).unchanged == 1
    (follow_up,) = (await store.get_record("f1")).follow_ups
    assert (follow_up.text, follow_up.created_by) == ("Comp the dessert, we owe her", "crm-sync")
    mapped = await run_import(
        store,
        "crm_id,name,email,Owed\nf1,Ada,ada@example.com,Ask about the knee\n",
        columns=("Owed=follow_up:staff",),
    )
    assert mapped.updated == 1
    assert [f.visibility for f in (await store.get_record("f1")).follow_ups] == ["all", "staff"]


def test_consent_targets_need_a_channel() -> None:
    assert check_target("consent:sms", "x") == "consent:sms"
    assert check_target("opt_out:post", "x") == "opt_out:post"
    for bad in ("consent", "consent:fax", "opt_out:all"):
        with pytest.raises(InvalidInput):
            check_target(bad, "x")
