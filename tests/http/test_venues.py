"""Venues through the API: keys bound to a venue, what writes record, venue isolation,
venue-only notes, the card's "here", and events filtered by venue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from prefstore.config import Settings
from prefstore.customers.apikeys import KeyStore
from prefstore.errors import ConfigError, InvalidInput
from prefstore.models.records import Note
from prefstore.redis.keyspace import KeySpace, decode_record
from tests.support.backends import Backend, app_for
from tests.support.keys import KeyMaker

Client = AsyncTestClient  # type: ignore[type-arg]
VENUES = ("soho", "camden")


@pytest.fixture
async def chain(redis_backend: Backend, settings: Settings) -> AsyncIterator[Client]:
    """The app of a deployment with two venues."""
    with_venues = msgspec.structs.replace(settings, venues=VENUES)
    async with AsyncTestClient(app_for(redis_backend, with_venues)) as test_client:
        yield test_client


async def _ada(client: Client, headers: dict[str, str]) -> None:
    made = await client.post("/v1/customers", json={"id": "ada", "name": "Ada"}, headers=headers)
    assert made.status_code == 201, made.text


async def _event(client: Client, headers: dict[str, str], **body: Any) -> Any:
    return await client.post("/v1/customers/ada/events", json=body, headers=headers)


async def test_a_key_bound_to_a_venue_records_there_and_cannot_write_as_another(
    chain: Client, keymaker: KeyMaker
) -> None:
    soho = await keymaker.headers("write", venue="soho")
    office = await keymaker.headers("admin")
    await _ada(chain, office)
    recorded = await _event(chain, soho, type="visit")
    assert recorded.status_code == 201 and recorded.json()["event"]["venue"] == "soho"
    assert (await _event(chain, soho, type="visit", venue="soho")).status_code == 201
    refused = await _event(chain, soho, type="visit", venue="camden")
    assert refused.status_code == 403, refused.text
    assert refused.json()["field"] == "venue" and "camden" in refused.json()["detail"]
    # A key of no venue names one; it must be one of the deployment's.
    named = await _event(chain, office, type="visit", venue="camden")
    assert named.json()["event"]["venue"] == "camden"
    unknown = await _event(chain, office, type="visit", venue="brixton")
    assert unknown.status_code == 422 and unknown.json()["field"] == "venue"
    unnamed = await _event(chain, office, type="visit")
    assert unnamed.json()["event"]["venue"] is None
    for venue in ("Soho", "so ho", "x" * 41):
        bad = await _event(chain, office, type="visit", venue=venue)
        assert bad.status_code in (400, 422), (venue, bad.text)


async def test_notes_and_follow_ups_record_the_venue_and_resolution_where_it_was_resolved(
    chain: Client, keymaker: KeyMaker
) -> None:
    soho = await keymaker.headers("write", name="Maya", venue="soho")
    camden = await keymaker.headers("write", name="Leo", venue="camden")
    await _ada(chain, soho)
    noted = await chain.post("/v1/customers/ada/notes", json={"text": "window seat"}, headers=soho)
    assert noted.json()["notes"][0]["venue"] == "soho"
    added = await chain.post(
        "/v1/customers/ada/follow-ups", json={"text": "comp the dessert"}, headers=soho
    )
    (follow_up,) = added.json()["follow_ups"]
    assert follow_up["venue"] == "soho"
    card = (await chain.get("/v1/customers/ada", headers=camden)).json()
    assert [f["text"] for f in card["follow_ups"]] == ["comp the dessert"]  # at every venue
    path = f"/v1/customers/ada/follow-ups/{follow_up['id']}/resolve"
    refused = await chain.post(path, json={"venue": "soho"}, headers=camden)
    assert refused.status_code == 403 and refused.json()["field"] == "venue"
    resolved = await chain.post(path, headers=camden)
    assert resolved.status_code == 200 and resolved.json()["follow_ups"] == []
    listed = (await chain.get("/v1/customers/ada/follow-ups", headers=camden)).json()
    resolution = listed["follow_ups"][0]["resolved"]
    assert (resolution["by"], resolution["venue"]) == ("Leo", "camden")


async def test_a_venue_only_note_shows_only_at_its_venue(chain: Client, keymaker: KeyMaker) -> None:
    soho = await keymaker.headers("write", venue="soho")
    camden = await keymaker.headers("write", venue="camden")
    till = await keymaker.headers("lookup", venue="soho")
    office = await keymaker.headers("admin")
    await _ada(chain, office)
    body = {"text": "Keeps her own wine in our cellar", "venue_only": True, "venue": "soho"}
    written = await chain.post("/v1/customers/ada/notes", json=body, headers=soho)
    assert written.status_code == 201, written.text
    for headers in (soho, camden, till, office):
        card = await chain.get("/v1/customers/ada", headers=headers)
        assert "cellar" not in card.text  # the card is chain-wide: no venue's own notes
    here = await chain.get("/v1/customers/ada/here", headers=soho)
    assert [n["text"] for n in here.json()["notes"]] == [body["text"]]
    assert here.json()["venue"] == "soho"
    assert (await chain.get("/v1/customers/ada/here", headers=camden)).json()["notes"] == []
    asked = await chain.get("/v1/customers/ada/here?venue=soho", headers=office)
    assert [n["text"] for n in asked.json()["notes"]] == [body["text"]]
    other = await chain.get("/v1/customers/ada/here?venue=soho", headers=camden)
    assert other.status_code == 403 and other.json()["field"] == "venue"
    unbound = await chain.get("/v1/customers/ada/here", headers=office)
    assert unbound.status_code == 422 and unbound.json()["field"] == "venue"
    # Recall finds it only for the venue's own keys.
    for headers, found in ((soho, True), (camden, False), (office, False)):
        recalled = await chain.get("/v1/customers/ada/recall?q=cellar", headers=headers)
        assert bool(recalled.json()["hits"]) is found
    # A note kept from the rest of the chain names where it belongs, even from a bound key.
    for headers in (office, soho):
        nowhere = await chain.post(
            "/v1/customers/ada/notes", json={"text": "x", "venue_only": True}, headers=headers
        )
        assert nowhere.status_code == 422 and "venue" in nowhere.json()["reason"]


async def test_here_shows_visits_and_favourite_items_at_that_venue(
    chain: Client, keymaker: KeyMaker
) -> None:
    soho = await keymaker.headers("write", venue="soho")
    camden = await keymaker.headers("write", venue="camden")
    await _ada(chain, soho)
    for items in (["flat white", "croissant"], ["Flat White"]):
        await _event(chain, soho, type="visit", items=items, at="2031-01-02T10:00:00Z")
    await _event(chain, soho, type="purchase", items=["flat white"], at="2031-01-05T10:00:00Z")
    await _event(chain, camden, type="visit", items=["tea"], at="2031-01-03T10:00:00Z")
    here = (await chain.get("/v1/customers/ada/here", headers=soho)).json()
    assert (here["visits"], here["purchases"], here["events"]) == (2, 1, 3)
    assert here["last_visit"].startswith("2031-01-02") and here["last_event"].startswith(
        "2031-01-05"
    )
    assert here["top_items"] == [
        {"item": "flat white", "count": 3},
        {"item": "croissant", "count": 1},
    ]
    there = (await chain.get("/v1/customers/ada/here", headers=camden)).json()
    assert (there["visits"], there["top_items"]) == (1, [{"item": "tea", "count": 1}])
    card = (await chain.get("/v1/customers/ada", headers=soho)).json()
    assert card["history"]["visits"] == 3  # the card stays chain-wide
    missing = await chain.get("/v1/customers/nobody/here", headers=soho)
    assert missing.status_code == 404


async def test_events_filtered_by_venue_page_through_that_venue_only(
    chain: Client, keymaker: KeyMaker
) -> None:
    office = await keymaker.headers("admin")
    await _ada(chain, office)
    for day in range(1, 10):
        venue = "soho" if day % 3 else "camden"
        at = f"2031-02-0{day}T12:00:00Z"
        assert (await _event(chain, office, type="visit", venue=venue, at=at)).status_code == 201
    url = "/v1/customers/ada/events"
    seen: list[str] = []
    cursor = None
    while True:
        params = {"venue": "camden", "limit": "2", **({"cursor": cursor} if cursor else {})}
        page = (await chain.get(url, params=params, headers=office)).json()
        seen += [e["at"][:10] for e in page["events"]]
        assert all(e["venue"] == "camden" for e in page["events"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["2031-02-09", "2031-02-06", "2031-02-03"]
    everything = (await chain.get(url, params={"limit": "50"}, headers=office)).json()
    assert len(everything["events"]) == 9 and everything["next_cursor"] is None
    bad = await chain.get(url, params={"venue": "Not A Venue"}, headers=office)
    assert bad.status_code == 422 and bad.json()["field"] == "venue"


async def test_a_filtered_page_reads_a_bounded_number_of_events(
    chain: Client, keymaker: KeyMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefstore.customers import events

    monkeypatch.setattr(events, "SCAN_BATCH", 2)
    monkeypatch.setattr(events, "MAX_SCANNED", 4)
    office = await keymaker.headers("admin")
    await _ada(chain, office)
    for day in range(1, 7):
        venue = "camden" if day == 1 else "soho"
        await _event(chain, office, type="visit", venue=venue, at=f"2031-03-0{day}T12:00:00Z")
    url = "/v1/customers/ada/events"
    first = (await chain.get(url, params={"venue": "camden"}, headers=office)).json()
    assert first["events"] == [] and first["next_cursor"]  # 4 read, none of camden's yet
    params = {"venue": "camden", "cursor": first["next_cursor"]}
    second = (await chain.get(url, params=params, headers=office)).json()
    assert [e["at"][:10] for e in second["events"]] == ["2031-03-01"]
    assert second["next_cursor"] is None


# ---------------------------------------------------------------- keys and settings
async def test_a_key_is_bound_only_to_a_venue_of_the_deployment(
    redis_client: Redis, keyspace: KeySpace
) -> None:
    keys = KeyStore(redis_client, keyspace, VENUES)
    made = await keys.create("till 1", ["lookup"], "soho")
    assert made.info.venue == "soho"
    assert (await keys.verify(made.key)).venue == "soho"
    assert [k.venue for k in await keys.list()] == ["soho"]
    with pytest.raises(InvalidInput, match="venue"):
        await keys.create("till 2", ["lookup"], "brixton")
    open_list = KeyStore(redis_client, keyspace)  # no venues listed: any well-formed name
    assert (await open_list.create("till 3", ["lookup"], "brixton")).info.venue == "brixton"
    with pytest.raises(InvalidInput, match="venue"):
        await open_list.create("till 4", ["lookup"], "Brixton Hill")


def test_the_venues_are_read_from_the_environment() -> None:
    assert Settings.from_env({"PREFSTORE_VENUES": " soho, camden,soho "}).venues == VENUES
    assert Settings.from_env({}).venues == ()
    with pytest.raises(ConfigError, match="PREFSTORE_VENUES"):
        Settings.from_env({"PREFSTORE_VENUES": "soho,Camden Town"})


def test_records_and_notes_written_before_venues_still_decode() -> None:
    old = msgspec.msgpack.encode(
        {
            "id": "ada",
            "name": "Ada",
            "notes": [{"id": "n1", "text": "window seat"}],
            "history": {"visits": 2, "item_counts": {"tea": 2}},
        }
    )
    record = decode_record(old)
    assert record.notes == [Note(id="n1", text="window seat")]
    assert record.notes[0].venue is None and record.notes[0].venue_only is False
    assert record.history.venues == {} and record.history.visits == 2
