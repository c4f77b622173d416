"""The quick-entry page at a queue (issue 12, item 6), in real headless Chromium.

One guest after another at the desk: a new search closes the last guest's card at once and
nothing typed for them can land on the next; the page works on a phone, a tablet and a
desk screen (element sizes asserted, screenshots taken; docs/screenshot.png is the
1280x800 one); allergies are read out when a card opens; a phone already on file names its
guest and opens them; Alt+Z and Alt+N work and are shown on the page.

Screenshots go to $PREFSTORE_SCREENSHOTS when it is set, else to the test's tmp dir.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, Route, expect
from redis.asyncio import Redis

from tests.support.app_process import Server
from tests.support.staff_page import (
    STAFF,
    Seeded,
    open_guest,
    open_page,
    seed,
    sign_in,
)

pytestmark = pytest.mark.browser

DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshot.png"
PHONE_WIDTH = 600
"""At or below this width the page uses its phone layout (app.css)."""
TOUCH = 44
"""The smallest a button may be, each way, for a finger."""


@pytest.fixture
async def seeded(redis: Redis, prefix: str) -> Seeded:
    return await seed(redis, prefix)


def staff_card(server: Server, key: str, customer_id: str) -> dict[str, Any]:
    response = httpx.get(
        f"{server.url}/v1/customers/{customer_id}", headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 200, response.text
    card: dict[str, Any] = response.json()
    return card


def labels(card: dict[str, Any], field: str) -> list[str]:
    return [item["label"] for item in card[field]]


async def card_state(page: Page) -> dict[str, Any]:
    """What is on screen of a guest's card, read synchronously in the page."""
    found: dict[str, Any] = await page.evaluate(
        """() => ({
            hidden: document.getElementById("card").hidden,
            entry: document.getElementById("entry").value,
            preview: document.getElementById("entry-preview").textContent,
            said: document.getElementById("card-announce").textContent,
        })"""
    )
    return found


# ---------------------------------------------------------------- 1. a new search clears
async def test_a_new_search_clears_the_last_guests_card_at_once(
    seeded: Seeded, app_server: Server, browser: Browser
) -> None:
    errors: list[str] = []
    page = await open_page(browser, app_server, errors)
    await sign_in(page, seeded.write_key)
    await open_guest(page, "jon smith", "Jon Smith")
    await page.keyboard.type("!!peanuts ask about the window seat", delay=5)
    await expect(page.locator("#entry-preview")).to_contain_text("SEVERE allergy: peanuts")

    # Esc goes back to the search; the first key of a new search closes the card there and
    # then, before the search has even been sent (its answer takes 150 ms and a fetch).
    await page.keyboard.press("Escape")
    await expect(page.locator("#q")).to_be_focused()
    await page.keyboard.press("Z")
    assert await card_state(page) == {"hidden": True, "entry": "", "preview": "", "said": ""}
    await page.keyboard.type("elda Quinn", delay=10)
    await expect(page.locator("#find-status")).to_have_text("No one found.")
    await expect(page.locator("#new-customer")).to_be_visible()
    await expect(page.locator("#card")).to_be_hidden()
    for emptied in ("#card-name", "#safety-list", "#likes", "#visits"):
        await expect(page.locator(emptied)).to_have_text("")  # not only hidden

    # The next guest's card opens clean: the line typed for Jon is not there to be saved.
    await open_guest(page, "joan", "Joan Smythe")
    assert (await card_state(page))["entry"] == ""
    await page.keyboard.press("Enter")
    joan = staff_card(app_server, seeded.write_key, seeded.joan_id)
    assert labels(joan, "allergies") == ["sesame"] and joan["notes"] == []
    jon = staff_card(app_server, seeded.write_key, seeded.jon_id)
    assert labels(jon, "allergies") == ["shellfish"]
    assert errors == []


async def test_a_save_answered_after_the_next_search_does_not_reopen_the_last_card(
    seeded: Seeded, app_server: Server, browser: Browser
) -> None:
    """A slow save for Jon lands while Ada is being looked up: Jon's card stays closed, and
    nothing of his (undo, status) is offered on Ada's."""
    errors: list[str] = []
    page = await open_page(browser, app_server, errors)
    await sign_in(page, seeded.write_key)
    await open_guest(page, "jon smith", "Jon Smith")
    release = asyncio.Event()
    answered = asyncio.Event()

    async def hold(route: Route) -> None:
        await release.wait()
        await route.continue_()
        answered.set()

    await page.route("**/entries", hold)
    await page.keyboard.type("+caramel", delay=5)
    await page.keyboard.press("Enter")
    await page.keyboard.press("Escape")
    await page.keyboard.type("ada", delay=10)
    await expect(page.locator("#card")).to_be_hidden()
    release.set()
    await asyncio.wait_for(answered.wait(), 5)
    await page.wait_for_timeout(300)  # the answer's handler has run by now
    await expect(page.locator("#card")).to_be_hidden()

    await open_guest(page, "ada", "Ada Lovelace")
    await expect(page.locator("#undo")).to_be_disabled()
    await expect(page.locator("#entry-status")).to_have_text("")
    assert "caramel" in labels(staff_card(app_server, seeded.write_key, seeded.jon_id), "likes")
    assert errors == []


# ---------------------------------------------------------------- 2. from 360 px up
SIZES = [(360, 740), (390, 844), (768, 1024), (1280, 800)]

MEASURE = """() => {
    const box = (selector) => {
        const r = document.querySelector(selector).getBoundingClientRect();
        return { x: r.x, y: r.y, width: r.width, height: r.height };
    };
    const main = getComputedStyle(document.querySelector("main"));
    const lineOf = (el) => parseFloat(getComputedStyle(el).lineHeight);
    const h1 = document.querySelector(".top h1");
    const whoText = document.querySelector(".who-text");
    const rows = new Set([h1, document.getElementById("who")].map(
        (el) => Math.round(el.getBoundingClientRect().top)));
    return {
        innerWidth: window.innerWidth,
        scrollWidth: document.scrollingElement.scrollWidth,
        margins: parseFloat(main.paddingLeft) + parseFloat(main.paddingRight),
        header: box("header.top"),
        headerRows: rows.size,
        h1Lines: h1.getBoundingClientRect().height / lineOf(h1),
        whoLines: whoText.getBoundingClientRect().height / lineOf(whoText),
        entry: box("#entry"),
        buttons: Object.fromEntries(["save", "undo", "sign-out", "new-guest"].map(
            (id) => [id, box("#" + id)])),
        safety: box("#safety"),
    };
}"""


def screenshot_dir(tmp_path: Path) -> Path:
    where = Path(os.environ.get("PREFSTORE_SCREENSHOTS") or tmp_path)
    where.mkdir(parents=True, exist_ok=True)
    return where


async def assert_nothing_scrolls_sideways(page: Page, when: str) -> None:
    widths = await page.evaluate("() => [document.scrollingElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{when}: the page scrolls sideways ({widths})"


@pytest.mark.parametrize(("width", "height"), SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
async def test_the_page_fits_phone_tablet_and_desk_screens(
    seeded: Seeded,
    app_server: Server,
    browser: Browser,
    tmp_path: Path,
    width: int,
    height: int,
) -> None:
    errors: list[str] = []
    page = await open_page(browser, app_server, errors, width=width, height=height)
    shots = screenshot_dir(tmp_path)
    await assert_nothing_scrolls_sideways(page, "sign-in")
    await sign_in(page, seeded.write_key)
    await expect(page.locator("#who-name")).to_have_text(STAFF)
    await open_guest(page, "jon smith", "Jon Smith")
    # An opened card shows its name, allergies and entry field without scrolling.
    for shown in ("#card-name", "#safety", "#entry", "#save", "#undo"):
        await expect(page.locator(shown)).to_be_in_viewport(ratio=1)
    await page.keyboard.type("+caramel -olives !!sesame corner table please", delay=2)
    await expect(page.locator("#entry-preview")).to_contain_text("SEVERE allergy: sesame")
    await page.locator("#shorthand-help summary").click()  # its table is the widest part
    await page.locator("#entry").focus()

    m = await page.evaluate(MEASURE)
    assert m["innerWidth"] == width
    assert m["scrollWidth"] <= m["innerWidth"], f"scrolls sideways: {m['scrollWidth']}"
    # The header: at most two rows (title; who is signed in), each a single line.
    assert m["headerRows"] <= 2 and m["h1Lines"] < 1.5 and m["whoLines"] < 1.5, m
    assert m["header"]["height"] <= 2 * TOUCH + 24, m["header"]
    if width <= PHONE_WIDTH:
        assert m["entry"]["width"] >= 0.8 * (width - m["margins"]), m["entry"]
    else:
        assert m["entry"]["width"] >= 300, m["entry"]
    for name, button in m["buttons"].items():
        assert button["width"] >= TOUCH and button["height"] >= TOUCH, (name, button)
        assert button["x"] >= 0 and button["x"] + button["width"] <= width, (name, button)
    assert m["safety"]["x"] + m["safety"]["width"] <= width

    await page.screenshot(path=str(shots / f"quick-entry-{width}x{height}.png"), full_page=True)
    if (width, height) == (1280, 800):
        await page.locator("#shorthand-help summary").click()  # closed again for the README
        await page.locator("#entry").focus()
        await page.screenshot(path=str(DOCS_SCREENSHOT))

    # No one found: the new-guest form fits too.
    await page.keyboard.press("Escape")
    await page.keyboard.type("Zelda Quinn", delay=5)
    await expect(page.locator("#new-customer")).to_be_visible()
    await assert_nothing_scrolls_sideways(page, "new-guest form")
    await page.screenshot(path=str(shots / f"new-guest-{width}x{height}.png"), full_page=True)
    assert errors == []


# ---------------------------------------------------------------- 3. read out
async def test_allergies_are_read_out_when_a_card_opens(
    seeded: Seeded, app_server: Server, browser: Browser
) -> None:
    errors: list[str] = []
    page = await open_page(browser, app_server, errors)
    await sign_in(page, seeded.write_key)
    region = page.locator("#card-announce")
    await expect(region).to_have_attribute("aria-live", "assertive")
    await expect(region).to_have_attribute("aria-atomic", "true")
    # Never inside something hidden: a live region out of the accessibility tree says nothing.
    assert await region.evaluate(
        "(el) => el.closest('[hidden]') === null && getComputedStyle(el).display !== 'none'"
    )
    await page.evaluate(
        """() => {
            window.said = [];
            const region = document.getElementById("card-announce");
            new MutationObserver(() => window.said.push(region.textContent))
                .observe(region, { childList: true, characterData: true, subtree: true });
        }"""
    )

    await open_guest(page, "joan", "Joan Smythe")
    await expect(region).to_have_text("Joan Smythe. Allergies & dietary needs: sesame: allergy.")
    await open_guest(page, "ada", "Ada Lovelace")
    await expect(region).to_contain_text("Ada Lovelace. Allergies & dietary needs: None recorded")
    await open_guest(page, "jon smith", "Jon Smith")
    jon = "Jon Smith. Allergies & dietary needs: shellfish: severe allergy."
    await expect(region).to_have_text(jon)
    # The same guest opened again is read out again: the region is emptied, then filled.
    await page.locator("#results [role=option]", has_text="Jon Smith").first.click()
    await page.wait_for_function(
        "(jon) => window.said.filter((t) => t === jon).length === 2", arg=jon
    )
    said = [text for text in await page.evaluate("window.said") if text]
    # Saving is not a card opening: no new announcement; a new search empties the region.
    await page.keyboard.type("+tea", delay=5)
    await page.keyboard.press("Enter")
    await expect(page.locator("#entry-status")).to_have_text("Saved 1 item.")
    assert [t for t in await page.evaluate("window.said") if t] == said
    await page.keyboard.press("Escape")
    await page.keyboard.type("a")
    await expect(region).to_have_text("")
    assert errors == []


# ---------------------------------------------------------------- 4. already on file
async def test_a_phone_or_email_on_file_names_its_guest_and_opens_them(
    seeded: Seeded, app_server: Server, browser: Browser
) -> None:
    errors: list[str] = []
    page = await open_page(browser, app_server, errors)
    await sign_in(page, seeded.write_key)
    await expect(page.locator("#q")).to_be_focused()
    await page.keyboard.type("Zelda Quinn", delay=10)
    await expect(page.locator("#new-name")).to_have_value("Zelda Quinn")
    await page.locator("#new-phone").fill("(415) 555-4471")  # Jon's, spelt another way
    await page.keyboard.press("Enter")
    await expect(page.locator("#new-error")).to_have_text("This phone belongs to Jon Smith.")
    owner = page.locator("#open-owner")
    await expect(owner).to_have_text("Open Jon Smith")

    await page.locator("#new-phone").fill("")
    await page.locator("#new-email").fill("Jon.Smith@example.com")
    await page.locator("#new-email").press("Enter")
    await expect(page.locator("#new-error")).to_have_text("This email belongs to Jon Smith.")
    await owner.click()
    await expect(page.locator("#card-name")).to_have_text("Jon Smith")
    await expect(page.locator("#safety-list")).to_contain_text("shellfish")
    await expect(page.locator("#new-customer")).to_be_hidden()
    await expect(page.locator("#entry")).to_be_focused()

    # Nobody was created: Zelda is still not found.
    await page.keyboard.press("Escape")
    await page.keyboard.type("Zelda Quinn", delay=10)
    await expect(page.locator("#find-status")).to_have_text("No one found.")
    assert errors and all("409" in e for e in errors), errors  # the refused creations only


# ---------------------------------------------------------------- 5. keys
async def test_alt_z_undoes_and_alt_n_starts_a_new_guest(
    seeded: Seeded, app_server: Server, browser: Browser
) -> None:
    errors: list[str] = []
    page = await open_page(browser, app_server, errors)
    await sign_in(page, seeded.write_key)
    hint = page.locator("#keys-help")
    await expect(hint).to_be_visible()
    await expect(hint).to_contain_text("Alt+N new guest")
    await expect(hint).to_contain_text("Alt+Z undo last entry")
    await expect(page.locator("#undo")).to_have_attribute("aria-keyshortcuts", "Alt+Z")
    await expect(page.locator("#new-guest")).to_have_attribute("aria-keyshortcuts", "Alt+N")

    await open_guest(page, "jon smith", "Jon Smith")
    await page.keyboard.type("+caramel", delay=5)
    await page.keyboard.press("Enter")
    await expect(page.locator("#likes")).to_contain_text("caramel")
    # Alt+Z from inside a half-typed line: the entry is undone, the line is left as typed.
    await page.keyboard.type("+tea", delay=5)
    await page.keyboard.press("Alt+z")
    await expect(page.locator("#entry-status")).to_have_text("Undone.")
    await expect(page.locator("#likes")).not_to_contain_text("caramel")
    await expect(page.locator("#entry")).to_have_value("+tea")
    await page.keyboard.press("Alt+z")
    await expect(page.locator("#entry-status")).to_have_text("Nothing to undo on this card.")
    likes = labels(staff_card(app_server, seeded.write_key, seeded.jon_id), "likes")
    assert "caramel" not in likes

    # Saved on Jon, then Joan opened: Alt+Z there does not touch Jon's entry.
    await page.locator("#entry").fill("+caramel")
    await page.keyboard.press("Enter")
    await expect(page.locator("#entry-status")).to_have_text("Saved 1 item.")
    await open_guest(page, "joan", "Joan Smythe")
    await expect(page.locator("#undo")).to_be_disabled()
    await page.keyboard.press("Alt+z")
    await expect(page.locator("#entry-status")).to_have_text("Nothing to undo on this card.")
    assert "caramel" in labels(staff_card(app_server, seeded.write_key, seeded.jon_id), "likes")

    # Alt+N: the card closes, and the new-guest form opens, empty (the search was for
    # Joan), with the focus on the name.
    await page.keyboard.press("Alt+n")
    await expect(page.locator("#card")).to_be_hidden()
    await expect(page.locator("#new-name")).to_be_focused()
    await expect(page.locator("#new-name")).to_have_value("")
    await expect(page.locator("#q")).to_have_value("")
    await page.keyboard.type("Zelda Quinn", delay=5)
    await page.keyboard.press("Enter")
    await expect(page.locator("#card-name")).to_have_text("Zelda Quinn")
    assert errors == []
