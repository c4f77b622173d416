"""The API docs page (`/schema`, Swagger UI) in headless Chromium with the network unplugged:
every request that leaves the machine is refused, and the page still renders every
operation from the assets installed with the package (`swagger-ui-py`), not from a CDN."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import Browser, Route, expect

from tests.support.app_process import Server

pytestmark = pytest.mark.browser
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


@pytest.mark.parametrize("path", ["/schema", "/schema/swagger"])
async def test_the_docs_render_every_operation_offline(
    app_server: Server, browser: Browser, path: str
) -> None:
    async with httpx.AsyncClient(timeout=5) as http:
        document = (await http.get(f"{app_server.url}/schema/openapi.json")).json()
    operations = sum(
        1
        for item in document["paths"].values()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    )
    refused: list[str] = []
    errors: list[str] = []

    async def unplugged(route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
            await route.continue_()
        else:
            refused.append(route.request.url)
            await route.abort("internetdisconnected")

    context = await browser.new_context()
    await context.route("**/*", unplugged)
    page = await context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(f"{app_server.url}{path}")

    blocks = page.locator(".opblock")
    await expect(blocks).to_have_count(operations, timeout=15_000)
    await expect(page.locator(".opblock-summary-path", has_text="/v1/lookup")).to_be_visible()
    await expect(page.locator(".info .title")).to_contain_text("prefstore")
    assert refused == [], f"the page asked the internet for {refused}"
    assert errors == []
    await context.close()
