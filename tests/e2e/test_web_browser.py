"""The web page in a real browser: Debian's Chromium driven by Playwright, against the web
page served by uvicorn on 127.0.0.1 (SQLite; the HTTP tests cover PostgreSQL).

Open the link from the chat, submit the export form for a PDF, get the file as a download;
expired, tampered, reused and other users' links show their refusal. Without
``/usr/bin/chromium`` the tests skip, saying so, except under ``CI=true``, where they fail:
CI must not turn green without a browser (as with PostgreSQL in ``tests/conftest.py``).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

from aimtrack.storage.repos import UserDirectory
from aimtrack.web.app import COOKIE
from tests.helpers.artefacts import ARTEFACTS
from tests.helpers.web import BOB_TG, Site

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing: install Debian's chromium to run the browser tests"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    _require_chromium()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(accept_downloads=True)
    try:
        yield await context.new_page()
    finally:
        await context.close()


def url(site: Site, path: str) -> str:
    return f"{str(site.client.base_url).rstrip('/')}{path}"


async def test_open_the_link_and_download_the_register_as_pdf(site: Site, page: Page) -> None:
    blocked: list[str] = []
    page.on("console", lambda message: blocked.append(message.text))
    response = await page.goto(url(site, f"/web/{site.token(site.anna)}"))
    assert response is not None
    assert response.status == 200  # after the 303
    assert page.url == url(site, "/web")  # the token is gone from the address bar
    assert await page.title() == "AimTrack"
    assert "A CZ 75" in await page.inner_text("table")
    cookies = await page.context.cookies()
    (session,) = [c for c in cookies if c["name"] == COOKIE]
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Strict"
    assert session["path"] == "/web"
    # The stylesheet loaded under the Content-Security-Policy (it would be blocked if not).
    width = await page.evaluate("getComputedStyle(document.querySelector('main')).maxWidth")
    assert width != "none"
    ARTEFACTS.mkdir(parents=True, exist_ok=True)  # for a person to look at
    await page.screenshot(path=ARTEFACTS / "web-page.png", full_page=True)
    assert (ARTEFACTS / "web-page.png").stat().st_size > 0

    await page.check('input[name="period"][value="last12"]')
    await page.check('input[name="format"][value="pdf"]')
    async with page.expect_download() as info:
        await page.click('button[type="submit"]')
    download = await info.value
    assert download.suggested_filename == "aimtrack-register-2025-11-24_2026-11-23.pdf"
    path = await download.path()
    assert path.read_bytes().startswith(b"%PDF")
    assert not [text for text in blocked if "Content Security Policy" in text]


async def test_a_link_clicked_on_another_site_opens_the_page_too(site: Site, page: Page) -> None:
    """As from Telegram Web: the browser sends no SameSite=Strict cookie on a navigation
    another site started, not even after our redirect; the page loads itself once more."""
    target = url(site, f"/web/{site.token(site.anna)}")
    await page.set_content(f'<a id="go" href="{target}">AimTrack</a>')  # not our origin
    await page.click("#go")
    await page.wait_for_selector("table")
    assert page.url == url(site, "/web")
    assert "Je sessies" in await page.inner_text("h1")
    assert "A CZ 75" in await page.inner_text("table")


async def test_a_custom_period_with_the_start_after_the_end_is_explained(
    site: Site, page: Page
) -> None:
    await page.goto(url(site, f"/web/{site.token(site.anna)}"))
    await page.check('input[name="period"][value="custom"]')
    await page.fill('input[name="from"]', "2026-05-01")
    await page.fill('input[name="to"]', "2026-04-01")
    async with page.expect_response(url(site, "/web/export")) as info:
        await page.click('button[type="submit"]')
    assert (await info.value).status == 400
    assert "De begindatum ligt na de einddatum." in await page.inner_text("main")


async def test_refused_links_show_why(site: Site, page: Page) -> None:
    used = site.token(site.anna)
    assert (await site.get(f"/web/{used}")).status_code == 303
    expired = site.token(site.anna, at=site.clock.now() - timedelta(minutes=16))
    fresh = site.token(site.anna)
    tampered = fresh[:-1] + ("A" if fresh[-1] != "A" else "B")
    bobs = site.token(site.bob)
    async with site.db.transaction() as session:
        await UserDirectory(session).deny_telegram(BOB_TG)

    cases = [
        (used, 410, "al gebruikt"),
        (expired, 410, "verlopen"),
        (tampered, 403, "niet geldig"),
        (bobs, 403, "geen toegang"),
    ]
    for token, status, text in cases:
        response = await page.goto(url(site, f"/web/{token}"))
        assert response is not None
        assert response.status == status, text
        assert text in await page.inner_text("main")
    assert [c for c in await page.context.cookies() if c["name"] == COOKIE] == []
