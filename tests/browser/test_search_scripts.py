"""The page's search in real headless Chromium: guests whose names are written in Cyrillic,
Greek, Chinese and Arabic are found by their names as written and (where a Latin spelling
applies) as staff type them in Latin letters; a nickname and the first letters of both
names find a guest as well, and the list narrows as staff type."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect
from redis.asyncio import Redis

from prefstore.customers.store import CustomerStore
from prefstore.models.inputs import CustomerCreate
from prefstore.redis.keyspace import KeySpace
from tests.support.app_process import Server
from tests.support.staff_page import Seeded, open_guest, open_page, seed, sign_in

pytestmark = pytest.mark.browser

GUESTS = {
    "Ольга Смирнова": ["Ольга Смирнова", "olga smirnova"],
    "Γιώργος Παπαδόπουλος": ["Γιώργος", "giorgos papadopoulos"],
    "王小明": ["王小明", "wang xiaoming"],
    "محمد علي": ["محمد علي"],
    "Margaret Whitfield": ["peggy whitfield", "marg whitf"],
}


@pytest.fixture
async def seeded(redis: Redis, prefix: str) -> Seeded:
    """The page's usual guests and keys, and one guest per script (before the app starts:
    its index is built from Redis)."""
    found = await seed(redis, prefix)
    store = CustomerStore(redis, KeySpace(prefix), region="US")
    for i, name in enumerate(GUESTS):
        phone = f"+1 415 555 {1000 + i}"
        await store.create(CustomerCreate(name=name, phones=[phone]), actor="import")
    return found


async def test_guests_found_in_every_script(
    seeded: Seeded, app_server: Server, browser: Browser
) -> None:
    errors: list[str] = []
    page = await open_page(browser, app_server, errors)
    await sign_in(page, seeded.write_key)
    await expect(page.locator("#q")).to_be_focused()
    for name, queries in GUESTS.items():
        for query in queries:
            options = page.locator("#results [role=option]")
            search = page.locator("#q")
            await search.fill("")
            await search.focus()
            await page.keyboard.type(query, delay=10)
            await expect(options.first).to_contain_text(name)
    # The card opens for a guest found by the Latin spelling of a Cyrillic name.
    await open_guest(page, "olga smirnova", "Ольга Смирнова")
    assert errors == []


async def test_the_list_narrows_as_staff_type(
    seeded: Seeded, app_server: Server, browser: Browser
) -> None:
    errors: list[str] = []
    page = await open_page(browser, app_server, errors)
    await sign_in(page, seeded.write_key)
    await expect(page.locator("#q")).to_be_focused()
    options = page.locator("#results [role=option]")
    await page.keyboard.type("jo", delay=10)  # Jon, Joan, Jonas
    await expect(options.filter(has_text="Jonas Schmidt")).to_have_count(1)
    await page.keyboard.type("n smi", delay=10)  # "jon smi": Jon first, Jonas gone
    await expect(options.first).to_contain_text("Jon Smith")
    await expect(options.filter(has_text="Jonas Schmidt")).to_have_count(0)
    assert errors == []
