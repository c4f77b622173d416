"""Follow-ups, venues, suggested likes and the party on the quick-entry page (issue 12,
items 1, 2, 3 and 5), in real headless Chromium.

A follow-up typed at one venue is read out and resolved at another; a party of three
shows every allergy with whose it is; a suggested like is confirmed with one key, and
likes show how often and how recently they were bought.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, expect
from redis.asyncio import Redis

from prefstore.customers.apikeys import KeyStore
from prefstore.customers.store import CustomerStore
from prefstore.models.inputs import CustomerCreate, EventInput
from prefstore.redis.keyspace import KeySpace
from tests.support.app_process import Server
from tests.support.staff_page import Seeded, open_guest, open_page, seed, sign_in

pytestmark = pytest.mark.browser
TIMES = "\u00d7"
"""The sign the page writes before a count (multiplication, as in "x 3")."""


@dataclass
class Chain:
    seeded: Seeded
    soho_key: str
    camden_key: str
    grace_id: str


@pytest.fixture
async def chain(redis: Redis, prefix: str) -> Chain:
    """The page's guests, a desk key at each of two venues, and Grace Hopper, who bought
    oat milk at Soho three times, the last three days ago (written before the app starts:
    its index is built from Redis)."""
    seeded = await seed(redis, prefix)
    keys = KeySpace(prefix)
    keystore = KeyStore(redis, keys)
    soho = await keystore.create("Maya at Soho", ["write"], "soho")
    camden = await keystore.create("Leo at Camden", ["write"], "camden")
    store = CustomerStore(redis, keys, region="US")
    grace = (await store.create(CustomerCreate(name="Grace Hopper"), actor="import")).card
    now = datetime.now(UTC)
    for days in (20, 9, 3):
        event = EventInput(
            type="purchase", items=["oat milk"], venue="soho", at=now - timedelta(days=days)
        )
        await store.record_event(grace.customer_id, event, actor="till 1")
    return Chain(seeded, soho.key, camden.key, grace.customer_id)


def api_card(server: Server, key: str, customer_id: str, path: str = "") -> dict[str, Any]:
    response = httpx.get(
        f"{server.url}/v1/customers/{customer_id}{path}",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


# ---------------------------------------------------------------- follow-ups at two venues
async def test_a_follow_up_made_at_one_venue_is_read_out_and_resolved_at_another(
    chain: Chain, app_server: Server, browser: Browser
) -> None:
    errors: list[str] = []
    soho = await open_page(browser, app_server, errors)
    await sign_in(soho, chain.soho_key)
    await expect(soho.locator("#who")).to_contain_text("Maya at Soho at soho")
    await open_guest(soho, "jon smith", "Jon Smith")
    await soho.keyboard.type("window seat ^comp the dessert we owe him", delay=2)
    await expect(soho.locator("#entry-preview")).to_contain_text("comp the dessert we owe him")
    await soho.keyboard.press("Enter")
    box = soho.locator("#follow-ups-box")
    await expect(box).to_be_visible()
    await expect(soho.locator("#follow-ups li")).to_contain_text("comp the dessert we owe him")
    await expect(soho.locator("#follow-ups li")).to_contain_text("from Maya at Soho at soho")

    camden = await open_page(browser, app_server, errors)
    await sign_in(camden, chain.camden_key)
    await open_guest(camden, "jon smith", "Jon Smith")
    follow_up = camden.locator("#follow-ups li")
    await expect(follow_up).to_have_count(1)
    await expect(follow_up).to_contain_text("comp the dessert we owe him")
    # Right after the allergies, on screen and read out with them.
    order = await camden.evaluate(
        """() => [...document.querySelectorAll("#card > *")]
            .filter((el) => !el.hidden).map((el) => el.id).slice(1, 3)"""
    )
    assert order == ["safety", "follow-ups-box"], order
    await expect(camden.locator("#card-announce")).to_have_text(
        "Jon Smith. Allergies & dietary needs: shellfish: severe allergy. "
        "Follow-ups: comp the dessert we owe him."
    )
    await expect(camden.locator("#here-title")).to_have_text("Here at camden")
    await camden.get_by_role("button", name="Resolve: comp the dessert we owe him").click()
    await expect(camden.locator("#entry-status")).to_have_text(
        "Resolved: comp the dessert we owe him"
    )
    await expect(camden.locator("#follow-ups-box")).to_be_hidden()
    await expect(camden.locator("#entry")).to_be_focused()

    listed = api_card(app_server, chain.seeded.write_key, chain.seeded.jon_id, "/follow-ups")
    (done,) = listed["follow_ups"]
    assert done["venue"] == "soho"
    assert (done["resolved"]["by"], done["resolved"]["venue"]) == ("Leo at Camden", "camden")
    # Soho's page shows it gone when the card is opened again.
    await open_guest(soho, "jon smith", "Jon Smith")
    await expect(soho.locator("#follow-ups-box")).to_be_hidden()
    assert errors == []


# ---------------------------------------------------------------- a party of three
async def test_a_party_of_three_shows_every_allergy_with_whose_it_is(
    chain: Chain, app_server: Server, browser: Browser
) -> None:
    errors: list[str] = []
    page = await open_page(browser, app_server, errors)
    await sign_in(page, chain.seeded.write_key)
    add = page.locator("#party-add")
    await expect(add).to_be_disabled()  # no guest open
    await expect(add).to_have_attribute("aria-keyshortcuts", "Alt+P")
    await open_guest(page, "jon smith", "Jon Smith")
    await page.keyboard.press("Alt+P")  # the key, from the entry field
    await expect(page.locator("#party-list li .fu-text")).to_have_text(["Jon Smith"])
    await expect(add).to_be_disabled()  # Jon is in it
    for query, name in (("joan", "Joan Smythe"), ("ada", "Ada Lovelace")):
        await open_guest(page, query, name)
        await add.click()
    await expect(page.locator("#party-count")).to_have_text("(3)")

    await page.locator("#party-open").click()
    party = page.locator("#party-card")
    await expect(party).to_be_visible()
    await expect(page.locator("#card")).to_be_hidden()
    await expect(page.locator("#party-card-title")).to_have_text("Party of 3")
    allergies = page.locator("#party-allergies li")
    await expect(allergies).to_have_count(2)
    await expect(allergies.nth(0)).to_contain_text("shellfish")
    await expect(allergies.nth(0)).to_contain_text("Jon Smith")
    await expect(allergies.nth(1)).to_contain_text("sesame")
    await expect(allergies.nth(1)).to_contain_text("Joan Smythe")
    await expect(page.locator("#card-announce")).to_have_text(
        "Party of 3: Jon Smith, Joan Smythe, Ada Lovelace. Allergies & dietary needs: "
        "shellfish: severe allergy, Jon Smith; sesame: allergy, Joan Smythe."
    )
    # The next search closes the party card at once; the tray stays for the next guest.
    await page.locator("#q").focus()
    await page.keyboard.type("j")
    await expect(party).to_be_hidden()
    await expect(page.locator("#party-allergies li")).to_have_count(0)
    await expect(page.locator("#party-list li")).to_have_count(3)
    await page.get_by_role("button", name="Remove Joan Smythe from the party").click()
    await expect(page.locator("#party-count")).to_have_text("(2)")
    assert errors == []


# ---------------------------------------------------------------- evidence and suggestions
async def test_a_suggested_like_is_confirmed_with_one_key_and_likes_show_their_evidence(
    chain: Chain, app_server: Server, browser: Browser
) -> None:
    errors: list[str] = []
    page = await open_page(browser, app_server, errors)
    await sign_in(page, chain.soho_key)
    await open_guest(page, "grace", "Grace Hopper")
    suggestion = page.locator("#suggested li")
    await expect(suggestion).to_have_count(1)
    await expect(suggestion).to_contain_text("oat milk")
    await expect(suggestion).to_contain_text("3 times, last 3 days ago")
    confirm = page.get_by_role("button", name="Confirm like: oat milk")
    await expect(confirm).to_have_attribute("aria-keyshortcuts", "Alt+L")
    await expect(page.locator("#keys-help")).to_contain_text("Alt+L confirm suggested like")
    await expect(page.locator("#here-title")).to_have_text("Here at soho")
    await expect(page.locator("#here-summary")).to_contain_text("3 purchases here, last ")
    await expect(page.locator("#here-favourites li")).to_contain_text("oat milk")
    await expect(page.locator("#here-favourites .meta")).to_have_text(f"{TIMES} 3")

    await page.keyboard.press("Alt+L")
    await expect(page.locator("#entry-status")).to_have_text("Saved like: oat milk.")
    await expect(page.locator("#suggested-box")).to_be_hidden()
    like = page.locator("#likes li")
    await expect(like).to_have_count(1)
    await expect(like).to_contain_text("oat milk")
    await expect(like).to_contain_text("3 times, last 3 days ago · by Maya at Soho")
    card = api_card(app_server, chain.seeded.write_key, chain.grace_id)
    (liked,) = card["likes"]
    assert (liked["label"], liked["added_by"], liked["seen"]) == ("oat milk", "Maya at Soho", 3)

    # A comparative like reads as said.
    await page.keyboard.type("+popcorn>pretzels", delay=2)
    await page.keyboard.press("Enter")
    await expect(page.locator("#likes li", has_text="popcorn")).to_contain_text(
        "prefers popcorn over pretzels"
    )
    await page.keyboard.press("Alt+L")  # nothing left to confirm: said, nothing saved
    await expect(page.locator("#entry-status")).to_have_text("No suggested like on this card.")
    assert errors == []


# ---------------------------------------------------------------- on a phone
FITS = """(selectors) => selectors.map((selector) => {
    const r = document.querySelector(selector).getBoundingClientRect();
    return { selector, x: r.x, width: r.width, height: r.height };
})"""


def screenshot_dir(tmp_path: Path) -> Path:
    """$PREFSTORE_SCREENSHOTS when set, else the test's own directory."""
    where = Path(os.environ.get("PREFSTORE_SCREENSHOTS") or tmp_path)
    where.mkdir(parents=True, exist_ok=True)
    return where


@pytest.mark.parametrize(("width", "height"), [(360, 740), (390, 844)], ids=["360", "390"])
async def test_follow_ups_suggestions_and_the_party_fit_a_phone(
    chain: Chain,
    app_server: Server,
    browser: Browser,
    tmp_path: Path,
    width: int,
    height: int,
) -> None:
    errors: list[str] = []
    page = await open_page(browser, app_server, errors, width=width, height=height)
    shots = screenshot_dir(tmp_path)
    await sign_in(page, chain.soho_key)
    await open_guest(page, "grace", "Grace Hopper")
    await page.keyboard.type('^"ask how the knee surgery went after the long flight home"', delay=1)
    await page.keyboard.press("Enter")
    await expect(page.locator("#follow-ups li")).to_have_count(1)
    await page.locator("#party-add").click()
    boxes = await page.evaluate(
        FITS, ["#follow-ups button", "#suggested button", "#party-add", "#party-open"]
    )
    for box in boxes:
        assert box["width"] >= 44 and box["height"] >= 44, box
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, box
    await page.screenshot(path=str(shots / f"follow-ups-{width}x{height}.png"), full_page=True)
    await page.locator("#party-open").click()
    await expect(page.locator("#party-card")).to_be_visible()
    await expect(page.locator("#party-card-title")).to_be_in_viewport()
    sizes = await page.evaluate("() => [document.scrollingElement.scrollWidth, innerWidth]")
    assert sizes[0] <= sizes[1], f"the page scrolls sideways: {sizes}"
    await page.screenshot(path=str(shots / f"party-{width}x{height}.png"), full_page=True)
    assert errors == []
