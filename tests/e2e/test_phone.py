"""The meeting page on phones and tablets, keyboard shortcuts, and a page over plain http.

At a phone (390 × 844), a phone on its side (844 × 390) and a tablet (768 × 1024), for a
host and a guest: nothing scrolls sideways, every visible control is at least 44 × 44 px
(measured), Leave is in view, and each side panel opens from the More menu as a sheet
over the whole width, with focus inside it, and closes with its Close button and with
Escape, focus going back to More. Without getDisplayMedia there is no screen-share
control. Shortcuts: `m` toggles the microphone (what is published follows), `?` lists
every shortcut in a dialog that Escape closes, and `m` typed in the chat box is a letter.
Opened over http from another machine (a host name Chromium does not count as secure),
the pre-join screen says camera and microphone need HTTPS and how to serve it, and the
person joins with both off, with no error. Screenshots: test-artifacts/phone/.
"""

from playwright.async_api import Page, expect

from salon.client import AdminClient
from tests.e2e.browser import (
    DESKTOP,
    LANDSCAPE,
    PHONE,
    TABLET,
    Browsers,
    host_and_guest,
    no_overflow,
    small_targets,
)
from tests.e2e.conftest import ARTIFACTS
from tests.servers import SalonServer

SHOTS = ARTIFACTS / "phone"
SIZES = {"phone": PHONE, "landscape": LANDSCAPE, "tablet": TABLET}

FOCUS_IN_SIDE = "() => document.getElementById('side').contains(document.activeElement)"
FOCUSED = "() => document.activeElement && document.activeElement.dataset.testid"


async def leave_in_view(page: Page) -> None:
    box = await page.get_by_test_id("btn-leave").bounding_box()
    size = page.viewport_size
    assert box and size, "no Leave button"
    assert box["x"] >= 0 and box["y"] >= 0, box
    assert box["x"] + box["width"] <= size["width"] + 0.5, (box, size)
    assert box["y"] + box["height"] <= size["height"] + 0.5, (box, size)


COVERED = """() => ["#meeting > .topbar", "#meeting .stage", "#meeting > .controls"]
    .map((sel) => document.querySelector(sel).inert)"""


async def panels_from_more(page: Page) -> list[str]:
    """The panels the More menu offers (it is closed again)."""
    await page.get_by_test_id("btn-more").click()
    items = page.locator("[data-testid=more-menu] .more-panel")
    names = [name.removeprefix("more-") for name in
             await items.evaluate_all("(els) => els.map((e) => e.dataset.testid)")]
    await page.keyboard.press("Escape")
    await expect(page.get_by_test_id("more-menu")).to_be_hidden()
    assert await page.evaluate(FOCUSED) == "btn-more"
    return names


async def check_sheet(page: Page, panel: str, step: str) -> None:
    """Open `panel` from More: a sheet over the whole width with focus inside; Close and
    Escape each close it, and focus goes back to More."""
    for way in ("button", "escape"):
        await page.get_by_test_id("btn-more").click()
        await page.get_by_test_id(f"more-{panel}").click()
        side = page.get_by_test_id("side")
        await expect(page.get_by_test_id(f"panel-{panel}")).to_be_visible()
        await expect(page.get_by_test_id("panel-close")).to_be_visible()
        box = await side.bounding_box()
        width = page.viewport_size["width"]
        assert box and abs(box["x"]) < 1 and abs(box["width"] - width) < 1, (panel, box, width)
        assert await page.evaluate(FOCUS_IN_SIDE), (panel, await page.evaluate(FOCUSED))
        # What the sheet covers takes no focus: Tab stays in the sheet.
        assert await page.evaluate(COVERED) == [True, True, True], panel
        assert await small_targets(page) == [], (panel, await small_targets(page))
        await no_overflow(page)
        if way == "button":
            await page.screenshot(path=str(SHOTS / f"{step}-{panel}.png"))
            await page.get_by_test_id("panel-close").click()
        else:
            await page.keyboard.press("Escape")
        await expect(side).to_be_hidden()
        assert await page.evaluate(FOCUSED) == "btn-more", (panel, way)
        assert await page.evaluate(COVERED) == [False, False, False], panel


async def test_meeting_on_phone_landscape_and_tablet(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    pair = await host_and_guest(web_admin, browsers, "Pocket meeting",
                                names=("Hana Long-Name Example", "Guo"))
    SHOTS.mkdir(parents=True, exist_ok=True)
    for person, token in ((pair.host, pair.host_token), (pair.guest, pair.guest_token)):
        await person.open(web_server.url, token, autojoin=1, audio=0, video=0)
    for person in (pair.host, pair.guest):
        await person.wait_state("joined")
        await person.wait("() => document.querySelectorAll('[data-testid=tile]').length === 2")
    # The measurement itself: on a desktop, where 44 px is not asked, it finds smaller ones.
    await pair.host.page.set_viewport_size(DESKTOP)
    assert await small_targets(pair.host.page), "small_targets measured nothing"
    for person in (pair.host, pair.guest):
        page = person.page
        for size_name, size in SIZES.items():
            step = f"{person.name}-{size_name}"
            await page.set_viewport_size(size)
            await page.wait_for_timeout(150)
            await no_overflow(page)
            assert await small_targets(page) == [], (step, await small_targets(page))
            await leave_in_view(page)
            # The tabs do not fit a phone: the panels open from More instead.
            await expect(page.get_by_test_id("tab-chat")).to_be_hidden()
            await page.screenshot(path=str(SHOTS / f"{step}.png"))
            panels = await panels_from_more(page)
            assert {"participants", "chat"} <= set(panels), panels
            for panel in panels:
                await check_sheet(page, panel, step)
            # The More menu itself fits and has the keyboard shortcuts.
            await page.get_by_test_id("btn-more").click()
            await expect(page.get_by_test_id("more-shortcuts")).to_be_visible()
            await no_overflow(page)
            assert await small_targets(page) == [], await small_targets(page)
            await page.screenshot(path=str(SHOTS / f"{step}-more.png"))
            await page.keyboard.press("Escape")
    # Unread chat shows on More where the tabs are hidden.
    await pair.host.page.set_viewport_size(PHONE)
    await pair.guest.page.set_viewport_size(PHONE)
    await pair.guest.page.get_by_test_id("btn-more").click()
    await pair.guest.page.get_by_test_id("more-chat").click()
    await pair.guest.page.get_by_test_id("chat-input").fill("hello from a phone")
    await pair.guest.page.get_by_test_id("chat-send").click()
    await expect(pair.host.page.get_by_test_id("more-unread")).to_have_text("11 unread")
    await expect(pair.host.page.get_by_test_id("btn-more")).to_have_accessible_name("More 1 unread")
    await no_overflow(pair.host.page)
    await pair.host.page.screenshot(path=str(SHOTS / "host-phone-unread.png"))
    assert await pair.host.page.evaluate("() => window.salon.errors") == []


async def test_no_screen_share_without_get_display_media(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    meeting = await web_admin.create_meeting(title="No screens")
    host = await web_admin.add_participant(meeting["id"], "host", "group_call_host", name="Hal")
    with_share = await browsers.person("desktop")
    without = await browsers.person("tablet")
    await without.context.add_init_script(
        "delete MediaDevices.prototype.getDisplayMedia;")
    for person in (with_share, without):
        await person.open(web_server.url, host["token"], autojoin=1, audio=0, video=0)
        await person.wait_state("joined")
        await expect(person.page.get_by_test_id("btn-mic")).to_be_visible()
    await expect(with_share.page.get_by_test_id("btn-screen")).to_be_visible()
    await expect(without.page.get_by_test_id("btn-screen")).to_be_hidden()
    assert await without.page.evaluate("() => window.salon.errors") == []


async def test_keyboard_shortcuts(web_server: SalonServer, web_admin: AdminClient,
                                  browsers: Browsers) -> None:
    meeting = await web_admin.create_meeting(title="Keys")
    host = await web_admin.add_participant(meeting["id"], "host", "group_call_host", name="Kay")
    person = await browsers.person("kay")
    page = person.page
    await person.open(web_server.url, host["token"], autojoin=1, video=0)
    await person.wait_state("joined")
    published = "() => Boolean(window.salon.media.published.audio && window.salon.media.enabled.audio)"
    await person.wait(published)
    mic = page.get_by_test_id("btn-mic")
    await expect(mic).to_have_attribute("aria-pressed", "true")

    await page.locator("body").press("m")
    await expect(mic).to_have_attribute("aria-pressed", "false")
    await person.wait(f"() => !({published[6:]})")
    await page.locator("body").press("m")
    await expect(mic).to_have_attribute("aria-pressed", "true")
    await person.wait(published)
    # With Ctrl held it is the browser's: nothing happens here.
    await page.keyboard.press("Control+m")
    await page.wait_for_timeout(300)
    await expect(mic).to_have_attribute("aria-pressed", "true")

    # "c" opens the chat; typing "m" in its box is a letter, not the microphone.
    await page.locator("body").press("c")
    box = page.get_by_test_id("chat-input")
    await expect(box).to_be_focused()
    await box.press_sequentially("mmm vcp")
    await expect(box).to_have_value("mmm vcp")
    await expect(mic).to_have_attribute("aria-pressed", "true")
    await expect(page.get_by_test_id("panel-chat")).to_be_visible()

    # "?" lists every shortcut; Escape closes the list and focus goes back.
    await page.get_by_test_id("btn-leave").focus()
    await page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_test_id("shortcut")).to_have_count(6)
    keys = await dialog.get_by_test_id("shortcut").evaluate_all("(rows) => rows.map((r) => r.dataset.key)")
    assert keys == ["m", "v", "c", "p", "h", "?"], keys
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    assert await page.evaluate(FOCUSED) == "btn-leave"

    # "h" raises the hand and lowers it again, as the Raise hand control does.
    hand = page.get_by_test_id("btn-hand")
    await page.keyboard.press("h")
    await expect(hand).to_have_attribute("aria-pressed", "true")
    await page.keyboard.press("h")
    await expect(hand).to_have_attribute("aria-pressed", "false")

    # Mouse users find it in the More menu.
    await page.get_by_test_id("btn-more").click()
    await page.get_by_test_id("more-shortcuts").click()
    await expect(dialog).to_be_visible()
    await dialog.get_by_test_id("shortcuts-close").click()
    await expect(dialog).to_be_hidden()
    assert await page.evaluate(FOCUSED) == "btn-more"
    # "p" opens People.
    await page.locator("body").press("p")
    await expect(page.get_by_test_id("panel-participants")).to_be_visible()
    assert await page.evaluate("() => window.salon.errors") == []


async def test_plain_http_from_another_machine(web_server: SalonServer, web_admin: AdminClient,
                                              browsers: Browsers) -> None:
    meeting = await web_admin.create_meeting(title="Over http")
    guest = await web_admin.add_participant(meeting["id"], "guest", "group_call_participant", name="Pat")
    person = await browsers.person("remote", extra_args=("--host-resolver-rules=MAP salon.test 127.0.0.1",))
    page = person.page
    port = web_server.url.rsplit(":", 1)[1]
    await person.open(f"http://salon.test:{port}", guest["token"])
    await person.wait_state("prejoin")
    assert await page.evaluate("() => window.isSecureContext") is False
    notice = page.get_by_test_id("insecure-origin")
    await expect(notice).to_be_visible()
    await expect(notice).to_contain_text("HTTPS")
    await expect(notice).to_contain_text("salon serve --certfile")
    await expect(page.get_by_test_id("prejoin-mic")).to_be_disabled()
    await expect(page.get_by_test_id("prejoin-mic")).to_have_text("Microphone off")
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, size in (("phone", PHONE), ("landscape", LANDSCAPE)):
        await page.set_viewport_size(size)
        await page.wait_for_timeout(150)
        await no_overflow(page)
        await page.screenshot(path=str(SHOTS / f"insecure-{name}.png"))
    await page.get_by_test_id("prejoin-join").click()
    await person.wait_state("joined")
    await expect(page.get_by_test_id("btn-mic")).to_be_disabled()
    await expect(page.get_by_test_id("btn-mic")).to_have_attribute("title", "Camera and microphone need a secure page (HTTPS or localhost).")
    await expect(page.get_by_test_id("btn-screen")).to_be_hidden()
    # The shortcut does nothing, quietly.
    await page.locator("body").press("m")
    await page.wait_for_timeout(300)
    assert await page.evaluate("() => window.salon.errors") == []
    assert not [line for line in person.console if "pageerror" in line or "TypeError" in line], person.console
