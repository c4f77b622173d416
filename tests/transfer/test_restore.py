"""Restore lines go through the API's validators (issue 11, found 7), and the record limits
and time rule hold for imported rows as for the API (found 3, found 6)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from prefstore.customers import rules
from prefstore.customers.store import CustomerStore
from prefstore.models.inputs import ConsentInput, CustomerCreate
from tests.support.imports import run_import


def _line(customer: dict[str, Any], events: list[dict[str, Any]] | None = None) -> str:
    return json.dumps({"customer": {"id": "r1", "name": "Rae", **customer}, "events": events or []})


FORGED_HISTORY = {"visits": 100000, "spend": -5e300, "purchases": 7, "item_counts": {"x": 9}}


async def test_restore_line_is_signed_by_the_importer_and_counters_are_derived(
    store: CustomerStore,
) -> None:
    line = _line(
        {
            "emails": ["Rae@Example.COM"],
            "allergies": [
                {
                    "id": "a1",
                    "label": "Peanuts",
                    "severity": "severe",
                    "confirmed_by": "Dr. Allergist",
                }
            ],
            "notes": [{"id": "n1", "text": "likes the window", "author": "Dr. Allergist"}],
            "history": FORGED_HISTORY,
        },
        [
            {"id": "op-1", "type": "visit", "at": "2024-01-01T10:00:00Z", "recorded_by": "Boss"},
            {"id": "op-2", "type": "purchase", "amount": 12.5, "recorded_by": "Boss"},
        ],
    )
    summary = await run_import(store, line + "\n", actor="nightly-import")
    assert (summary.created, summary.rejected) == (1, 0), summary.rejections
    record = await store.get_record("r1")
    assert record.emails == ["rae@example.com"]
    assert record.allergies[0].confirmed_by == "nightly-import"
    assert record.notes[0].author == "nightly-import"
    history = record.history
    assert (history.visits, history.purchases, history.spend) == (1, 1, 12.5)
    assert history.item_counts == {}
    events = await store.all_events("r1")
    assert {e.recorded_by for e in events} == {"nightly-import"}


@pytest.mark.parametrize(
    ("customer", "field"),
    [
        ({"name": "x" * 600_000}, "customer.name"),
        ({"name": "Ann\u202eeb"}, "customer.name"),
        ({"emails": ["not-an-email"]}, "customer.emails[0]"),
        ({"phones": ["call me"]}, "customer.phones[0]"),
        ({"identifiers": {"loyalty}{c:1": "7"}}, "customer.identifiers"),
        ({"identifiers": {"Loyalty": "7"}}, "customer.identifiers"),
        ({"tags": ["t"] * (rules.MAX_TAGS + 1)}, "customer.tags"),
        (
            {"notes": [{"id": f"n{i}", "text": "x"} for i in range(rules.MAX_NOTES + 1)]},
            "customer.notes",
        ),
        (
            {"allergies": [{"id": "a1", "label": "nuts", "severity": "mild"}]},
            "customer.allergies[0].severity",
        ),
        ({"allergies": [{"id": "a{1}", "label": "nuts"}]}, "customer.allergies[0].id"),
        ({"follow_ups": [{"id": "f1", "text": ""}]}, "customer.follow_ups[0].text"),
        ({"follow_ups": [{"id": "f1", "text": "x\u202e"}]}, "customer.follow_ups[0].text"),
        (
            {"follow_ups": [{"id": "f1", "text": "x", "visibility": "everyone"}]},
            "customer.follow_ups[0].visibility",
        ),
        (
            {"follow_ups": [{"id": "f1", "text": "a"}, {"id": "f1", "text": "b"}]},
            "customer.follow_ups[1].id",
        ),
        (
            {"follow_ups": [{"id": "f1", "text": "a", "resolved": {"note": "no time"}}]},
            "customer.follow_ups[0].resolved",
        ),
        ({"consent": {"email": {"status": "maybe"}}}, "customer.consent.email.status"),
        ({"consent": {"sms": {"status": "opted_in", "source": "X{1}"}}}, "customer.consent.sms"),
        ({"preferences": [{"id": "p1", "label": "a", "over": "a"}]}, "customer.preferences[0]"),
        ({"created_at": "9999-12-31T23:59:59-23:59"}, "customer.created_at"),
    ],
)
async def test_bad_restore_lines_are_rejected_naming_the_field(
    store: CustomerStore, customer: dict[str, Any], field: str
) -> None:
    summary = await run_import(store, _line(customer) + "\n")
    assert (summary.created, summary.rejected) == (0, 1)
    assert summary.rejections[0].field.startswith(field), summary.rejections[0]


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"id": "op-1", "type": "purchase", "amount": -5e300}, "events[0].amount"),
        ({"id": "op{1}", "type": "visit"}, "events[0].operation_id"),
        ({"id": "op-1", "type": "visit", "at": "9999-12-31T23:59:59-23:59"}, "events[0].at"),
    ],
)
async def test_bad_restore_events_are_rejected(
    store: CustomerStore, event: dict[str, Any], field: str
) -> None:
    summary = await run_import(store, _line({}, [event]) + "\n")
    assert summary.rejected == 1
    assert summary.rejections[0].field == field, summary.rejections[0]


async def test_restore_of_an_erased_person_is_refused_whatever_the_case(
    store: CustomerStore,
) -> None:
    await store.create(
        CustomerCreate(id="gone", name="Gone", emails=["gone@example.com"]), actor="desk"
    )
    await store.erase("gone", actor="dpo")
    line = json.dumps(
        {"customer": {"id": "back", "name": "Gone", "emails": ["GONE@Example.com"]}, "events": []}
    )
    summary = await run_import(store, line + "\n")
    assert (summary.suppressed, summary.created) == (1, 0)


async def test_naive_event_times_in_a_file_are_utc_and_do_not_break_the_customer(
    store: CustomerStore,
) -> None:
    row = {
        "crm_id": "9",
        "name": "Nia",
        "email": "nia@example.com",
        "events": [{"type": "visit", "at": "2030-01-01T00:00:00"}],
    }
    summary = await run_import(store, json.dumps(row) + "\n")
    assert summary.created == 1, summary.rejections
    record = await store.get_record("9")
    assert record.history.last_visit is not None
    assert record.history.last_visit.utcoffset() is not None
    far = {**row, "events": [{"type": "visit", "at": "9999-12-31T23:59:59-23:59"}]}
    summary = await run_import(store, json.dumps(far) + "\n")
    assert summary.rejected == 1 and summary.rejections[0].field == "events[0].at"


async def test_an_import_past_a_record_limit_is_rejected_not_a_crash(
    store: CustomerStore,
) -> None:
    half = rules.MAX_PREFERENCES // 2 + 1
    first = ";".join(f"dish {i}" for i in range(half))
    more = ";".join(f"dish {i}" for i in range(half, 2 * half))
    header = "Record ID,First Name,Email,Likes\n"
    assert (await run_import(store, f"{header}7,Ola,ola@example.com,{first}\n")).created == 1
    summary = await run_import(store, f"{header}7,Ola,ola@example.com,{more}\n")
    assert (summary.updated, summary.rejected) == (0, 1)
    assert summary.rejections[0].field == "Likes"
    assert "at most" in summary.rejections[0].reason


async def test_restored_follow_ups_are_signed_and_consent_is_put_by_the_consent_rule(
    store: CustomerStore,
) -> None:
    follow_ups = [
        {
            "id": "f1",
            "text": "Comp the dessert",
            "created_by": "Boss",
            "created_at": "2025-01-01T10:00:00Z",
            "resolved": {"by": "Boss", "at": "2025-01-02T10:00:00Z", "note": "done"},
        },
        {"id": "f2", "text": "Ask about the knee", "visibility": "staff", "created_by": "Boss"},
    ]
    consent = {
        "email": {"status": "opted_in", "source": "api", "at": "2025-01-01T00:00:00Z"},
        "post": {"status": "opted_out", "source": "import:hubspot", "at": "2025-01-01T00:00:00Z"},
    }
    line = _line({"follow_ups": follow_ups, "consent": consent})
    assert (await run_import(store, line + "\n", actor="nightly")).created == 1
    record = await store.get_record("r1")
    assert [(f.id, f.created_by) for f in record.follow_ups] == [
        ("f1", "nightly"),
        ("f2", "nightly"),
    ]
    assert record.follow_ups[0].resolved.by == "nightly"  # type: ignore[union-attr]
    assert record.follow_ups[0].resolved.note == "done"  # type: ignore[union-attr]
    assert record.follow_ups[1].visibility == "staff"
    assert (record.consent.email.status, record.consent.post.source) == (
        "opted_in",
        "import:hubspot",
    )
    # Since the backup, Rae opted out of email: restoring it again leaves her opted out.
    await store.change_consent(
        "r1", ConsentInput(email="opted_out"), actor="desk", expect_version=None
    )
    assert (await run_import(store, line + "\n", actor="nightly")).rejected == 0
    again = await store.get_record("r1")
    assert (again.consent.email.status, again.consent.email.source) == ("opted_out", "api")
