"""The API reference pages in Chromium: under their strict CSP, `/docs` (Swagger UI) and
`/redoc` render the whole API, fetching nothing from any other host."""

from playwright.async_api import Request, expect

from tests.e2e.browser import Browsers
from tests.servers import SalonServer


async def test_docs_and_redoc_render_offline_under_their_policy(
    web_server: SalonServer, browsers: Browsers
) -> None:
    reader = await browsers.person("reader")
    page = reader.page
    elsewhere: list[str] = []

    def note(request: Request) -> None:
        if not request.url.startswith((web_server.url, "data:", "blob:")):
            elsewhere.append(request.url)

    page.on("request", note)
    await page.goto(f"{web_server.url}/docs")
    operations = page.locator(".opblock")
    await expect(operations.first).to_be_visible()
    assert await operations.count() > 50
    await expect(page.locator(".info .title")).to_contain_text("salon")

    await page.goto(f"{web_server.url}/redoc")
    await expect(page.locator("h1").first).to_contain_text("salon")
    await expect(page.get_by_text("Add a participant; returns its token").first).to_be_attached()

    # ReDoc's footer shows Redocly's logo from its CDN; the policy refuses it (and ReDoc
    # then leaves it out). Nothing of salon's own may be refused, and nothing may reach
    # another host: whatever was asked of one is what the policy refused.
    logo = "https://cdn.redoc.ly/redoc/logo-mini.svg"
    refused = [line for line in reader.console if "Content Security Policy" in line]
    assert all(logo in line for line in refused), refused
    assert set(elsewhere) <= {logo} and bool(elsewhere) == bool(refused), elsewhere
