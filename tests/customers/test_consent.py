"""The consent rule (`rules.put_consent`): an unknown says nothing, an opt-in replaces an
opt-out only when it is known to be later, an opt-out stands unless known to be earlier."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from prefstore.customers import rules
from prefstore.customers.consent import stated
from prefstore.customers.store import CustomerStore
from prefstore.errors import Conflict
from prefstore.models.inputs import ConsentInput, CustomerCreate
from prefstore.models.records import ChannelConsent, Consent, ConsentStatus

JAN, FEB, MAR = (datetime(2025, m, 1, tzinfo=UTC) for m in (1, 2, 3))
NOW = datetime(2025, 6, 1, tzinfo=UTC)


def said(status: ConsentStatus, at: datetime | None, source: str = "api") -> ChannelConsent:
    return ChannelConsent(status=status, source=source, at=at)


@pytest.mark.parametrize(
    ("held", "given", "wins"),
    [
        (said("unknown", None), said("opted_in", None), True),
        (said("unknown", None), said("opted_out", None), True),
        (said("opted_in", FEB), said("unknown", MAR), False),  # an unknown says nothing
        (said("opted_in", FEB), said("opted_in", MAR), False),  # the first statement stays
        (said("opted_out", FEB), said("opted_in", MAR), True),  # a later opt-in
        (said("opted_out", FEB), said("opted_in", FEB), False),  # as late is not later
        (said("opted_out", FEB), said("opted_in", JAN), False),  # an earlier one
        (said("opted_out", FEB), said("opted_in", None), False),  # undated: never
        (said("opted_out", None), said("opted_in", MAR), False),  # the opt-out is undated
        (said("opted_in", FEB), said("opted_out", MAR), True),
        (said("opted_in", FEB), said("opted_out", None), True),  # when in doubt, out
        (said("opted_in", FEB), said("opted_out", FEB), True),
        (said("opted_in", FEB), said("opted_out", JAN), False),  # stated before the opt-in
    ],
)
def test_the_consent_rule(held: ChannelConsent, given: ChannelConsent, wins: bool) -> None:
    kept = rules.put_consent(held, given, NOW)
    if wins:
        assert kept.status == given.status and kept.at == (given.at or NOW)
        assert kept.source == given.source
    else:
        assert kept is held


def test_a_consent_change_says_what_it_replaced_and_what_it_refused() -> None:
    held = Consent(email=said("opted_out", FEB), sms=said("opted_in", FEB))
    given = {
        "email": said("opted_in", None, "import:hubspot"),
        "sms": said("opted_out", None, "import:hubspot"),
        "post": said("opted_in", None, "import:hubspot"),
    }
    change = rules.change_consent(held, given, NOW)
    assert change.refused == ["email"]
    assert change.previous == {"consent.sms": "opted_in", "consent.post": "unknown"}
    assert change.consent.email is held.email
    assert change.consent.sms == said("opted_out", NOW, "import:hubspot")
    assert held.sms.status == "opted_in", "the rule changed the consent it was given"


def test_a_time_without_an_offset_is_utc_on_the_way_in() -> None:
    naive = said("opted_out", datetime(2025, 2, 1, 12, 0))
    change = rules.change_consent(Consent(), {"phone": naive}, NOW)
    assert change.consent.phone.at == datetime(2025, 2, 1, 12, 0, tzinfo=UTC)


def test_a_statement_through_the_api_is_dated_now_unless_it_says_when() -> None:
    data = ConsentInput(email="opted_in", post="opted_out")
    assert stated(data, "api", NOW) == {
        "email": said("opted_in", NOW),
        "post": said("opted_out", NOW),
    }
    assert stated(ConsentInput(sms="opted_in", at=JAN), "page", NOW)["sms"].at == JAN


async def test_the_store_refuses_an_earlier_opt_in_and_writes_nothing(
    store: CustomerStore,
) -> None:
    await store.create(CustomerCreate(id="ada", name="Ada"), actor="t")
    out = await store.change_consent(
        "ada", ConsentInput(email="opted_out", at=FEB), actor="t", expect_version=None
    )
    assert out.changed and out.card.version == 2
    with pytest.raises(Conflict) as refused:
        await store.change_consent(
            "ada",
            ConsentInput(email="opted_in", sms="opted_in", at=JAN),
            actor="t",
            expect_version=None,
        )
    assert refused.value.field == "email"
    record = await store.get_record("ada")
    assert (record.version, record.consent.sms.status) == (2, "unknown")
