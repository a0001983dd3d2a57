"""The dashboard's looks and reach: every page in light and dark, at desktop, phone and
landscape sizes, with nothing overflowing (screenshots in test-artifacts/dashboard/);
no serious or critical axe-core finding on any page in either theme; sign-in, the menu,
the pages and their main controls reachable with the keyboard alone."""

from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, expect

from salon.client import AdminClient, RealtimeClient, ws_url
from tests.e2e.browser import DESKTOP, PHONE, Browsers, axe_scan, shoot, tab_to
from tests.e2e.test_dashboard import open_view, sign_in
from tests.servers import SalonServer

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard"


@pytest.fixture
async def busy_meeting(web_server: SalonServer, web_admin: AdminClient):
    """A live meeting with a host, a guest and someone in the waiting room, and a session
    behind it, so the pages have something to show."""
    meeting = await web_admin.create_meeting(
        title="Looks: weekly planning with a long title, Donaudampfschifffahrtsgesellschaftskapitän")
    preset = f"lobby_{meeting['id'][:8]}"
    await web_admin.create_preset(preset, permissions={"waiting_room_type": "SKIP_ON_ACCEPT"})
    peers = []
    for custom, name, role in (("h", "Hana Host", "group_call_host"),
                               ("g", "Gil Guest", "group_call_participant"),
                               ("w", "Wanda Waiting", preset),
                               # a long name without a space must wrap, not overflow
                               ("l", "Bartholomew-" + "x" * 60, "group_call_participant")):
        added = await web_admin.add_participant(meeting["id"], custom, role, name=name)
        peers.append(await RealtimeClient.join(ws_url(web_server.url), added["token"]))
    with httpx.Client(base_url=web_server.app_url, headers=web_server.headers) as rest:
        rest.post("/webhooks", json={"name": "looks", "url": "http://127.0.0.1:9/none",
                                     "events": ["meeting.started"]})
    try:
        yield meeting
    finally:
        for peer in peers:
            await peer.close()


PAGES = [("#/meetings", "Meetings"), ("#/live", "Live now"), ("#/sessions", "Sessions"),
         ("#/presets", "Presets"), ("#/webhooks", "Webhooks"), ("#/usage", "Usage"),
         ("#/apps", "Apps and API tokens")]


async def _each_page(page: Page, meeting: dict, work) -> None:
    for hash_, heading in PAGES:
        await open_view(page, hash_, heading)
        await work(hash_.strip("#/"))
    await open_view(page, f"#/meetings/{meeting['id']}", meeting["title"])
    await work("meeting-editor")
    await open_view(page, "#/sessions", "Sessions")
    await page.locator("[data-testid=session-list] li a").first.click()
    await expect(page.get_by_test_id("timeline-chart")).to_be_visible()
    await work("session-detail")
    await open_view(page, "#/presets", "Presets")
    await page.locator("[data-testid=preset-list] li a").first.click()
    await expect(page.get_by_test_id("preset-form")).to_be_visible()
    await work("preset-editor")


async def test_every_page_light_and_dark_at_every_size(web_server: SalonServer,
                                                       browsers: Browsers,
                                                       busy_meeting: dict) -> None:
    page = (await browsers.person("looks")).page
    for scheme in ("light", "dark"):
        await page.emulate_media(color_scheme=scheme)
        await page.goto(f"{web_server.url}/dashboard")
        await expect(page.get_by_test_id("signin-submit")).to_be_visible()
        await shoot(page, ARTIFACTS, f"signin-{scheme}")
        assert await axe_scan(page) == []
        await sign_in(page, web_server.url, web_server.api_token)
        await expect(page.get_by_test_id("theme-toggle")).to_have_attribute(
            "aria-pressed", "true" if scheme == "dark" else "false")
        findings: dict[str, list] = {}

        async def check(name: str, scheme: str = scheme,
                        findings: dict[str, list] = findings) -> None:
            await shoot(page, ARTIFACTS, f"{name}-{scheme}")
            found = await axe_scan(page)
            if found:
                findings[name] = found

        await _each_page(page, busy_meeting, check)
        assert findings == {}, findings
        await page.get_by_test_id("signout").click()


async def test_theme_toggle_overrides_the_system(web_server: SalonServer,
                                                 browsers: Browsers) -> None:
    page = (await browsers.person("theme")).page
    await page.emulate_media(color_scheme="light")
    await sign_in(page, web_server.url, web_server.api_token)
    background = "() => getComputedStyle(document.body).backgroundColor"
    light = await page.evaluate(background)
    toggle = page.get_by_test_id("theme-toggle")
    await toggle.click()
    await expect(toggle).to_have_attribute("aria-pressed", "true")
    dark = await page.evaluate(background)
    assert dark != light
    await page.reload()  # the choice is remembered
    await expect(toggle).to_have_attribute("aria-pressed", "true")
    assert await page.evaluate(background) == dark
    await toggle.click()
    assert await page.evaluate(background) == light


async def test_keyboard_alone(web_server: SalonServer, browsers: Browsers,
                              busy_meeting: dict) -> None:
    page = (await browsers.person("keys")).page
    await page.set_viewport_size(DESKTOP)
    await page.goto(f"{web_server.url}/dashboard")
    await tab_to(page, "signin-token")
    await page.keyboard.type(web_server.api_token)
    await tab_to(page, "signin-submit")
    await page.keyboard.press("Enter")
    await expect(page.get_by_test_id("app-picker")).to_be_visible()
    # Signing in ends by focusing the view, once it is drawn: tabbing before that would
    # start from wherever the focus then lands (a busy machine draws it late).
    await expect(page.locator("#main")).to_be_focused()

    await tab_to(page, "nav-live")
    await page.keyboard.press("Enter")
    await expect(page.locator("#main h1")).to_have_text("Live now")
    card = page.locator(f"section[data-meeting-id='{busy_meeting['id']}']")
    admit = card.get_by_role("button", name="Admit Wanda Waiting")
    await expect(admit).to_be_visible()
    for _ in range(60):  # Tab through the page to the waiting guest's Admit button
        await page.keyboard.press("Tab")
        if await admit.evaluate("(el) => el === document.activeElement"):
            break
    else:
        raise AssertionError("Admit is not reachable with Tab")
    await page.keyboard.press("Enter")
    await expect(card.get_by_test_id("peer-list")).to_contain_text("Wanda Waiting", timeout=6000)

    await tab_to(page, "nav-meetings")
    await page.keyboard.press("Enter")
    await expect(page.locator("#main h1")).to_have_text("Meetings")
    await tab_to(page, "new-meeting-title")
    await page.keyboard.type("Made with keys")
    await page.keyboard.press("Enter")
    await expect(page.locator("#main h1")).to_have_text("Made with keys")
    await tab_to(page, "participant-custom-id")
    await page.keyboard.type("keyboard-person")
    await tab_to(page, "add-participant")
    await page.keyboard.press("Enter")
    await expect(page.get_by_test_id("join-link-url")).to_contain_text("/meet#token=")

    # On a phone the pages are behind the menu button.
    await page.set_viewport_size(PHONE)
    await page.reload()  # still signed in: the token is in this tab's sessionStorage
    await expect(page.locator("#main h1")).to_have_text("Made with keys")
    await expect(page.get_by_test_id("nav-usage")).to_be_hidden()
    await tab_to(page, "menu-toggle")
    await page.keyboard.press("Enter")
    await expect(page.get_by_test_id("menu-toggle")).to_have_attribute("aria-expanded", "true")
    await tab_to(page, "nav-usage")
    await page.keyboard.press("Enter")
    await expect(page.locator("#main h1")).to_have_text("Usage")
    await expect(page.get_by_test_id("nav-usage")).to_be_hidden()

