"""Where notices go (toast_place.js), and your own small corner tile on a phone.

A host in Chromium with two Python peers (so the host's own view is the corner tile)
has Chat open; a peer raises a hand and the host's "raised a hand" notice, with its
Lower hand button, must not cover the side panel, any field, or the corner tile: the
host clicks into the chat box and on Send while it shows. The same at a phone's size
with Chat as a sheet (the notice above it), a phone on its side (no room: behind the
sheet) and a phone with the sheet closed (above the corner tile). On the phone the
corner tile (96 × 54 px) shows only the initials: no name label or ⋮ button piled on
them. Screenshots are kept in test-artifacts/notice_placement/."""

from playwright.async_api import Page, expect

from salon.client import AdminClient, RealtimeClient, ws_url
from tests.e2e.browser import (
    LANDSCAPE,
    PHONE,
    Browsers,
    no_overflow,
    opened_in_a_meeting,
)
from tests.e2e.conftest import ARTIFACTS
from tests.servers import SalonServer

SHOTS = ARTIFACTS / "notice_placement"

#: What a shown notice covers: the side panel, a visible field, your corner tile, the
#: control bar. Where a notice and one of them overlap, the topmost element at the middle
#: of the overlap tells which is on top (a notice behind the sheet covers nothing).
COVERED = """() => {
    const shown = (el) => el && !el.closest("[hidden]") && el.getClientRects().length > 0;
    const guard = [];
    const side = document.getElementById("side");
    if (shown(side)) guard.push(["side panel", side]);
    for (const el of document.querySelectorAll("#meeting input, #meeting select, #meeting textarea, #chat-send")) {
        if (shown(el)) guard.push([el.dataset.testid || el.id, el]);
    }
    const corner = document.querySelector("[data-testid=tile][data-role=corner]");
    if (shown(corner)) guard.push(["own corner tile", corner]);
    guard.push(["control bar", document.querySelector("#meeting > .controls")]);
    const out = [];
    const toasts = [...document.querySelectorAll("#toasts > .toast")];
    for (const toast of toasts) {
        const t = toast.getBoundingClientRect();
        for (const [name, el] of guard) {
            const g = el.getBoundingClientRect();
            const left = Math.max(t.left, g.left), right = Math.min(t.right, g.right);
            const top = Math.max(t.top, g.top), bottom = Math.min(t.bottom, g.bottom);
            if (right - left < 1 || bottom - top < 1) continue;
            const hit = document.elementFromPoint((left + right) / 2, (top + bottom) / 2);
            if (hit && toast.contains(hit)) out.push(`${toast.textContent.trim()} over ${name}`);
        }
    }
    return {place: document.getElementById("toasts").dataset.place, count: toasts.length, covered: out};
}"""


async def clear_of_everything(page: Page, place: str) -> None:
    found = await page.evaluate(COVERED)
    assert found["count"] and not found["covered"], found
    assert found["place"] == place, found


async def hand_notice(page: Page, who: RealtimeClient, name: str) -> None:
    """`who` raises a hand (lowering it first if it is up): the host's fresh notice."""
    await who.lower_hand()
    await who.raise_hand()
    notice = page.locator("[data-testid=toast][data-notice=hand]").filter(has_text=name)
    await expect(notice).to_have_count(1)
    await expect(notice).to_be_visible()


async def test_notices_never_cover_the_side_panel_a_field_or_your_own_tile(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    person, rows = await opened_in_a_meeting(
        web_admin, browsers, web_server.url, "Notices out of the way", "group_call_host",
        "Ada Lovelace", others=("Ben Okafor", "Chandra Raman-Subramanian"),
        autojoin=1, audio=0, video=0)
    page = person.page
    ben, cy = [await RealtimeClient.join(ws_url(web_server.url), row["token"]) for row in rows]
    try:
        corner = page.locator("[data-testid=tile][data-role=corner]")
        await expect(corner).to_be_visible()
        await page.get_by_test_id("tab-chat").click()
        await expect(page.get_by_test_id("panel-chat")).to_be_visible()

        # Desktop, Chat open beside the stage: the notice stays on the stage, and the box
        # and Send take clicks while it shows.
        await hand_notice(page, ben, "Ben Okafor")
        await clear_of_everything(page, "stage")
        await page.get_by_test_id("chat-input").click()
        await page.keyboard.type("agenda first")
        await page.get_by_test_id("chat-send").click()
        await expect(page.get_by_test_id("chat-message").filter(has_text="agenda first")).to_be_visible()
        await expect(page.locator("[data-testid=toast][data-notice=hand]").first).to_be_visible()
        await clear_of_everything(page, "stage")
        SHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SHOTS / "1-desktop-chat-and-notice.png"))

        # A phone: Chat is a sheet; the notice sits in the room above it.
        await page.set_viewport_size(PHONE)
        await hand_notice(page, cy, "Chandra")
        await clear_of_everything(page, "above-sheet")
        await no_overflow(page)
        await page.screenshot(path=str(SHOTS / "2-phone-sheet-and-notice.png"))

        # A phone on its side: the sheet takes the whole height; the notice waits behind it.
        await page.set_viewport_size(LANDSCAPE)
        await hand_notice(page, ben, "Ben Okafor")
        await clear_of_everything(page, "under-sheet")
        await page.screenshot(path=str(SHOTS / "3-landscape-sheet-and-notice.png"))

        # The sheet closed: the notice is above the control bar and the corner tile.
        await page.set_viewport_size(PHONE)
        await page.get_by_test_id("panel-close").click()
        await expect(page.get_by_test_id("side")).to_be_hidden()
        await hand_notice(page, cy, "Chandra")
        await clear_of_everything(page, "stage")
        await page.screenshot(path=str(SHOTS / "4-phone-notice-over-the-stage.png"))
    finally:
        for client in (ben, cy):
            await client.close()


#: The corner tile's parts: what shows of the label and the ⋮ button, where the initials are.
CORNER = """() => {
    const tile = document.querySelector("[data-testid=tile][data-role=corner]");
    const box = (el) => { if (!el || !el.getClientRects().length) return null;
                          const r = el.getBoundingClientRect(); return {x: r.left, y: r.top, w: r.width, h: r.height}; };
    const label = tile.querySelector("[data-testid=tile-label]");
    return {tile: box(tile), label: box(label), labelText: label.textContent, menu: box(tile.querySelector("[data-testid=tile-menu-button]")),
            hasMenu: Boolean(tile.querySelector("[data-testid=tile-menu-button]")), avatar: box(tile.querySelector("[data-testid=avatar]"))};
}"""


async def test_your_corner_tile_on_a_phone_shows_only_your_initials(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    person, rows = await opened_in_a_meeting(
        web_admin, browsers, web_server.url, "Corner", "group_call_host", "Ada Lovelace",
        others=("Ben Okafor", "Cy Chen"), autojoin=1, audio=0, video=0)
    page = person.page
    clients = [await RealtimeClient.join(ws_url(web_server.url), row["token"]) for row in rows]
    try:
        await expect(page.locator("[data-testid=tile][data-role=corner]")).to_be_visible()
        # On a desktop the corner tile is large enough for its name and menu.
        desktop = await page.evaluate(CORNER)
        assert desktop["tile"]["w"] >= 200 and desktop["label"]["w"] > 40, desktop
        assert desktop["hasMenu"], desktop  # a host may pin themself for everyone

        await page.set_viewport_size(PHONE)
        await page.wait_for_function(
            "() => document.querySelector('[data-testid=tile][data-role=corner]').getBoundingClientRect().width < 120")
        phone = await page.evaluate(CORNER)
        tile, avatar = phone["tile"], phone["avatar"]
        # The name is kept for screen readers (1 px, clipped), the ⋮ button is not drawn,
        # the initials sit whole inside the tile.
        assert "Ada Lovelace" in phone["labelText"], phone
        assert phone["label"] is None or phone["label"]["w"] <= 1, phone
        assert phone["menu"] is None, phone
        assert avatar and avatar["x"] >= tile["x"] and avatar["x"] + avatar["w"] <= tile["x"] + tile["w"] + 0.5, phone
        assert avatar["y"] >= tile["y"] and avatar["y"] + avatar["h"] <= tile["y"] + tile["h"] + 0.5, phone
        SHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SHOTS / "5-phone-corner-tile.png"))
    finally:
        for client in clients:
            await client.close()
