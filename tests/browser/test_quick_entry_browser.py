"""The quick-entry page in real headless Chromium, against the real app and a real Redis.

Sign in, find a guest from a mistyped name with the keyboard, read the card, add a
shorthand entry, see it on the card, check the POS sees it through the lookup API, undo it,
and check the POS sees the undo. (The screenshot in docs/ is taken in test_page_queue.py,
at 1280x800.)
"""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Browser, expect
from redis.asyncio import Redis

from tests.support.app_process import Server
from tests.support.staff_page import JON_PHONE, Seeded, open_page, seed, sign_in

pytestmark = pytest.mark.browser

ENTRY = "+popcorn -pretzels !peanuts #vip window seat please"


@pytest.fixture
async def seeded(redis: Redis, prefix: str) -> Seeded:
    return await seed(redis, prefix)


def pos_card(server: Server, key: str) -> dict[str, object]:
    response = httpx.get(
        f"{server.url}/v1/lookup",
        params={"phone": JON_PHONE},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 200, response.text
    card: dict[str, object] = response.json()
    return card


async def test_find_read_add_undo_with_the_keyboard(
    seeded: Seeded, app_server: Server, browser: Browser
) -> None:
    errors: list[str] = []
    page = await open_page(browser, app_server, errors)
    await sign_in(page, seeded.write_key)
    assert seeded.write_key not in await page.content(), "the key is not in the page"
    assert seeded.write_key not in page.url

    # Find: the search box has the focus; a mistyped name finds Jon; arrows and Enter choose.
    search = page.locator("#q")
    await expect(search).to_be_focused()
    await expect(page.locator("#who-name")).to_have_text("Ana at the front desk")
    await page.keyboard.type("jon smyth", delay=30)
    options = page.locator("#results [role=option]")
    await expect(options.first).to_contain_text("Jon Smith")
    await expect(options.first).to_contain_text("4471")  # a cue that tells guests apart
    count = await options.count()
    await page.keyboard.press("ArrowDown")
    if count > 1:
        await expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    await page.keyboard.press("ArrowUp")
    await expect(options.first).to_have_attribute("aria-selected", "true")
    await page.keyboard.press("Enter")

    # Read: allergies first and unmissable; likes, dislikes, visits, favourites.
    await expect(page.locator("#card-name")).to_have_text("Jon Smith")
    safety = page.locator("#safety-list")
    await expect(safety).to_contain_text("shellfish")
    await expect(safety).to_contain_text("severe")
    await expect(page.locator("#likes")).to_contain_text("chai latte")
    await expect(page.locator("#dislikes")).to_contain_text("loud music")
    await expect(page.locator("#visits li")).to_have_count(2)
    await expect(page.locator("#favourites")).to_contain_text("chai latte")

    # Add: the entry box has the focus; the server's preview shows before Enter saves.
    entry = page.locator("#entry")
    await expect(entry).to_be_focused()
    await page.keyboard.type(ENTRY, delay=10)
    preview = page.locator("#entry-preview")
    await expect(preview).to_contain_text("allergy: peanuts")
    await expect(preview).to_contain_text("likes: popcorn")
    await expect(preview).to_contain_text("note: window seat please")
    assert "peanuts" not in str(pos_card(app_server, seeded.lookup_key)["allergies"])
    await page.keyboard.press("Enter")

    await expect(page.locator("#entry-status")).to_contain_text("Saved 5 items")
    await expect(safety).to_contain_text("peanuts")
    await expect(page.locator("#likes")).to_contain_text("popcorn")
    await expect(page.locator("#dislikes")).to_contain_text("pretzels")
    await expect(page.locator("#card-tags")).to_contain_text("#vip")
    await expect(page.locator("#notes")).to_contain_text("window seat please")
    await expect(page.locator("#notes")).to_contain_text("Ana at the front desk")

    # The POS (a lookup-scoped key) sees the change at once.
    seen = pos_card(app_server, seeded.lookup_key)
    assert [a["label"] for a in seen["allergies"]] == ["shellfish", "peanuts"]  # type: ignore[attr-defined, index]
    assert "vip" in seen["tags"]  # type: ignore[operator]

    # A preview in the box, not saved.
    await page.keyboard.type("+caramel !!sesame", delay=5)
    await expect(preview).to_contain_text("SEVERE allergy: sesame")
    await page.keyboard.press("Control+A")
    await page.keyboard.press("Backspace")

    # Undo the entry: the card and the POS are back to what they were.
    await page.locator("#undo").focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#entry-status")).to_have_text("Undone.")
    await expect(safety).not_to_contain_text("peanuts")
    await expect(safety).to_contain_text("shellfish")
    await expect(page.locator("#likes")).not_to_contain_text("popcorn")
    await expect(page.locator("#notes")).not_to_contain_text("window seat please")
    after = pos_card(app_server, seeded.lookup_key)
    assert [a["label"] for a in after["allergies"]] == ["shellfish"]  # type: ignore[attr-defined, index]
    assert after["tags"] == ["regular"]
    assert errors == []


async def test_new_guest_from_the_page_then_found_by_search(
    seeded: Seeded, app_server: Server, browser: Browser
) -> None:
    errors: list[str] = []
    page = await open_page(browser, app_server, errors)
    await sign_in(page, seeded.write_key)
    await expect(page.locator("#q")).to_be_focused()
    await page.keyboard.type("Zelda Quinn", delay=20)
    await expect(page.locator("#find-status")).to_have_text("No one found.")
    await expect(page.locator("#new-name")).to_have_value("Zelda Quinn")
    await page.keyboard.press("Enter")  # from the search box to the new-guest form
    await expect(page.locator("#new-name")).to_be_focused()
    await page.locator("#new-phone").fill("+1 617 555 0199")
    await page.keyboard.press("Enter")
    await expect(page.locator("#card-name")).to_have_text("Zelda Quinn")
    await expect(page.locator("#safety")).to_contain_text("None recorded")

    # The page's search follows the change feed: the new guest is found, mistyped.
    await page.locator("#q").fill("")
    await page.locator("#q").focus()
    await page.keyboard.type("zelda quin", delay=20)
    await expect(page.locator("#results [role=option]").first).to_contain_text(
        "Zelda Quinn", timeout=5000
    )

    await page.get_by_role("button", name="Sign out").click()
    await expect(page.locator("#signin-error")).to_have_text("Signed out.")
    await expect(page.locator("#key")).to_be_focused()
    assert errors == []


async def test_a_lookup_key_is_refused_at_sign_in(
    seeded: Seeded, app_server: Server, browser: Browser
) -> None:
    errors: list[str] = []
    page = await open_page(browser, app_server, errors)
    await sign_in(page, seeded.lookup_key)
    await expect(page.locator("#signin-error")).to_contain_text("write key")
    await expect(page.locator("#app")).to_be_hidden()
    # The refused request logs a 403 in the console; nothing else may go wrong.
    assert all("403" in e for e in errors), errors
