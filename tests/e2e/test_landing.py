"""The landing page (`/`) in Chromium at a laptop's and a phone's size: screenshots kept
in test-artifacts/landing/, nothing wider than the window (measured from the DOM), its
structure accessible, every link reachable by Tab, and every link it shows answering 200.

Its links are fetched through the browser (Playwright's request context): they are pages
and documents outside the REST API, which tests/contract.py does not describe."""

from pathlib import Path

import pytest
from playwright.async_api import Page, Request

from tests.e2e.browser import Browsers
from tests.e2e.conftest import ARTIFACTS
from tests.servers import SalonServer

SHOTS = ARTIFACTS / "landing"

#: What sticks out past the right edge of the window, or makes the page scroll sideways.
OVERFLOW = """() => {
    const width = document.documentElement.clientWidth;
    const wide = [...document.querySelectorAll("body *")]
        .filter((el) => el.getBoundingClientRect().right > width + 0.5)
        .map((el) => `${el.tagName.toLowerCase()}.${el.className}: ${el.getBoundingClientRect().right}`);
    return {width, scrollWidth: document.documentElement.scrollWidth, wide};
}"""

STRUCTURE = """() => ({
    h1: [...document.querySelectorAll("h1")].map((h) => h.textContent.trim()),
    main: document.querySelectorAll("main").length,
    header: document.querySelectorAll("body > header").length,
    footer: document.querySelectorAll("body > footer").length,
    nav: [...document.querySelectorAll("nav")].map((n) => n.getAttribute("aria-label")),
    lang: document.documentElement.lang,
    links: [...document.querySelectorAll("a")].map((a) => ({
        id: a.dataset.testid, href: a.getAttribute("href"), name: a.textContent.trim(),
        height: a.getBoundingClientRect().height})),
    unnamedSections: [...document.querySelectorAll("section")]
        .filter((s) => !document.getElementById(s.getAttribute("aria-labelledby") || "")).length,
})"""


async def focused_by_tab(page: Page, presses: int) -> list[str]:
    """The data-testid of each element Tab moves to, from the top of the page."""
    await page.evaluate("() => { document.activeElement && document.activeElement.blur(); }")
    await page.locator("body").focus()
    seen = []
    for _ in range(presses):
        await page.keyboard.press("Tab")
        seen.append(await page.evaluate(
            "() => document.activeElement && document.activeElement.dataset.testid || ''"))
    return seen


@pytest.mark.parametrize("width,height", [(1280, 800), (390, 844)])
async def test_landing_page_fits_reads_and_links(
    web_server: SalonServer, browsers: Browsers, width: int, height: int
) -> None:
    reader = await browsers.person(f"landing-{width}")
    page = reader.page
    elsewhere: list[str] = []

    def note(request: Request) -> None:
        if not request.url.startswith(web_server.url):
            elsewhere.append(request.url)

    page.on("request", note)
    await page.set_viewport_size({"width": width, "height": height})
    response = await page.goto(f"{web_server.url}/")
    assert response is not None and response.status == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp  # no script at all
    assert "frame-ancestors 'none'" in csp and "base-uri 'none'" in csp
    # Its stylesheet applied under that policy (the body's font is the page's, not 16px).
    assert await page.evaluate("() => getComputedStyle(document.body).fontSize") == "17px"

    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / f"landing-{width}x{height}.png"
    await page.screenshot(path=str(shot), full_page=True)
    assert Path(shot).stat().st_size > 10_000

    overflow = await page.evaluate(OVERFLOW)
    assert overflow["scrollWidth"] <= overflow["width"], overflow
    assert not overflow["wide"], overflow

    structure = await page.evaluate(STRUCTURE)
    assert structure["h1"] == ["Meetings on your own server"]
    assert structure["main"] == structure["header"] == structure["footer"] == 1
    assert structure["nav"] == ["Reference"] and structure["lang"] == "en"
    assert structure["unnamedSections"] == 0
    links = structure["links"]
    assert all(link["name"] and link["id"] for link in links), links
    assert all(link["height"] >= 24 for link in links), links  # comfortable to tap
    hrefs = {link["href"] for link in links}
    assert {"/docs", "/redoc", "/openapi.json", "/realtime/v1/asyncapi.json"} <= hrefs
    assert all(href.startswith("/") for href in hrefs), hrefs  # this server's, offline
    text = await page.locator("main").inner_text()
    assert "salon demo" in text and "curl" in text
    assert f"{web_server.url}/client/v4/accounts/" in text  # the example names this server

    reached = await focused_by_tab(page, len(links) + 2)
    assert {link["id"] for link in links} <= set(reached), reached

    for link in links:
        answer = await page.request.get(f"{web_server.url}{link['href']}")
        assert answer.status == 200, (link, answer.status)
    assert not elsewhere, elsewhere
    assert not [line for line in reader.console if "error" in line.lower()], reader.console
