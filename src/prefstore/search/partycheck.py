"""A cart checked against every guest of a party at once: the cart check
(`search/cartcheck.py`) per guest, its alerts and delights merged, each naming whose it is.

The guests are found as for the party card (`customers/party.py`); their records are read
together. The merged alerts keep the single check's order: allergies (most severe first)
and dietary needs, then dislikes; within those by the cart's order, then the guests'.
"""

from __future__ import annotations

import asyncio

import msgspec

from prefstore.customers.party import Found
from prefstore.customers.store import CustomerStore
from prefstore.errors import NotFound
from prefstore.models.fields import SEVERITY_RANK
from prefstore.models.records import CustomerRecord
from prefstore.models.results import PartyAlert, PartyCheck, PartyDelight
from prefstore.models.views import PartyMiss
from prefstore.search.allergens import AllergenTable
from prefstore.search.cartcheck import check_cart

_KIND_ORDER = {"allergy": 0, "dietary": 1, "dislike": 2}


async def check_party(
    store: CustomerStore, table: AllergenTable, found: Found, items: list[str]
) -> PartyCheck:
    records = await asyncio.gather(*(_record(store, g.id) for g in found.guests))
    missing = list(found.missing)
    checked: list[CustomerRecord] = []
    for index, record in zip(found.given_at, records, strict=True):
        if record is None:  # erased between the lookup and the read
            missing.append(PartyMiss(index=index, kind="id", reason="no customer (erased)"))
        else:
            checked.append(record)
    place = {item: i for i, item in reversed(list(enumerate(items)))}
    alerts: list[tuple[tuple[int, int, int, int], PartyAlert]] = []
    delights: list[tuple[tuple[int, int], PartyDelight]] = []
    for position, record in enumerate(checked):
        result = check_cart(table, record, items)
        cid, name = record.id, record.name
        for alert in result.alerts:
            order = (
                _KIND_ORDER[alert.kind],
                SEVERITY_RANK.get(alert.severity or "", 9),
                place[alert.item],
                position,
            )
            alerts.append(
                (order, PartyAlert(**msgspec.structs.asdict(alert), customer_id=cid, name=name))
            )
        for delight in result.delights:
            mine = PartyDelight(**msgspec.structs.asdict(delight), customer_id=cid, name=name)
            delights.append(((place[delight.item], position), mine))
    alerts.sort(key=lambda entry: entry[0])
    delights.sort(key=lambda entry: entry[0])
    return PartyCheck(
        customer_ids=[r.id for r in checked],
        alerts=[a for _order, a in alerts],
        delights=[d for _order, d in delights],
        not_found=missing,
    )


async def _record(store: CustomerStore, customer_id: str) -> CustomerRecord | None:
    try:
        return await store.get_record(customer_id)
    except NotFound:
        return None
