"""An automated accessibility scan of the meeting page with axe-core (vendored in
tests/e2e/vendor/axe-core): no serious or critical violation on the pre-join screen, the
waiting room, the meeting with each side panel open in turn, the host's requests list and
host menu, the keyboard shortcuts dialog, and the exit screen, at desktop and phone sizes.
axe checks names, roles, contrast, ARIA use and labels; the live regions the page relies on
(toasts, recording, host notices, captions) are checked here by their roles as well.
"""

from playwright.async_api import Page, expect

from salon.client import AdminClient
from tests.e2e.browser import DESKTOP, PHONE, Browsers, axe_scan, host_and_guest, reveal
from tests.servers import SalonServer

SIZES = {"desktop": DESKTOP, "phone": PHONE}



async def scan(page: Page, where: str, found: list[str]) -> None:
    """Scan at each size; what is found is noted with where it was."""
    for size_name, size in SIZES.items():
        await page.set_viewport_size(size)
        await page.wait_for_timeout(150)
        for violation in await axe_scan(page):
            nodes = violation["nodes"]
            targets = "; ".join(n["target"] for n in nodes[:4])
            found.append(f"{where} @{size_name}: {violation['id']} ({violation['impact']}) "
                         f"{violation['help']} — {targets}")
    await page.set_viewport_size(DESKTOP)


async def open_panel(page: Page, panel: str) -> None:
    if await page.get_by_test_id(f"panel-{panel}").is_visible():
        return
    await page.get_by_test_id(f"tab-{panel}").click()
    await expect(page.get_by_test_id(f"panel-{panel}")).to_be_visible()


async def test_axe_finds_nothing_serious(web_server: SalonServer, web_admin: AdminClient,
                                         browsers: Browsers) -> None:
    pair = await host_and_guest(web_admin, browsers, "Scanned", waiting_room=True)
    host, guest = pair.host.page, pair.guest.page
    found: list[str] = []

    # The scan itself works: a button without a name is caught.
    await host.goto(f"{web_server.url}/meet")
    await host.evaluate("() => document.body.append(Object.assign(document.createElement('button'), {id: 'nameless'}))")
    assert any(v["id"] == "button-name" for v in await axe_scan(host)), "axe did not run"

    await pair.host.open(web_server.url, pair.host_token, audio=0, video=0)
    await pair.host.wait_state("prejoin")
    await scan(host, "pre-join", found)
    await host.get_by_test_id("prejoin-join").click()
    await pair.host.wait_state("joined")

    await pair.guest.open(web_server.url, pair.guest_token, autojoin=1, audio=0, video=0)
    await pair.guest.wait_state("waiting")
    await scan(guest, "waiting room", found)

    # The host's requests list (the guest waits) and host menu.
    await expect(host.get_by_test_id("host-badge")).to_be_visible()
    await host.get_by_test_id("host-badge").click()
    await expect(host.get_by_test_id("host-requests")).to_be_visible()
    await scan(host, "host requests", found)
    await host.keyboard.press("Escape")
    await host.get_by_test_id("host-requests").locator("button").first.wait_for(state="hidden")
    await (await reveal(host, "btn-host")).click()  # under More when the bar is full
    await expect(host.get_by_test_id("host-menu")).to_be_visible()
    await scan(host, "host menu", found)
    await host.keyboard.press("Escape")
    await host.get_by_test_id("host-badge").click()
    await host.get_by_test_id("host-requests").get_by_role("button", name="Admit").first.click()
    await pair.guest.wait_state("joined")

    # The meeting itself, each side panel in turn, for both.
    for who, page in (("host", host), ("guest", guest)):
        await scan(page, f"{who} meeting", found)
        tabs = await page.locator(".tab:not([hidden])").evaluate_all("(els) => els.map((e) => e.dataset.panel)")
        for panel in tabs:
            await open_panel(page, panel)
            await scan(page, f"{who} panel {panel}", found)
        await page.locator("body").press("?")
        await expect(page.get_by_test_id("shortcuts")).to_be_visible()
        await scan(page, f"{who} shortcuts dialog", found)
        await page.keyboard.press("Escape")
        await page.get_by_test_id("btn-more").click()
        await scan(page, f"{who} more menu", found)
        await page.keyboard.press("Escape")

    # The live regions the page speaks through.
    assert await host.get_by_test_id("toasts").get_attribute("aria-live") == "polite"
    assert await host.get_by_test_id("recording-announce").get_attribute("role") == "status"
    assert await host.get_by_test_id("host-announce").get_attribute("role") == "status"
    assert await host.get_by_test_id("captions-announce").get_attribute("role") == "log"
    # Every control in the bar has a name, icons included.
    names = await host.locator(".controls button:visible").evaluate_all(
        "(els) => els.map((e) => (e.getAttribute('aria-label') || e.textContent).trim())")
    assert names and all(names), names

    # An exit screen.
    await guest.get_by_test_id("btn-leave").click()
    await pair.guest.wait_state("left")
    await scan(guest, "exit screen", found)

    assert not found, "\n".join(found)
