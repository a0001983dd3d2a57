"""Host tools of the meeting page (issue 15, item 3): the requests badge in the top bar
and its list with Admit / Deny in place, the Admit button of the "is waiting" notice,
the host menu (Mute all, End meeting for all), the confirmation dialog before End and
before Remove, and the notices of a new poll and a new question. Every new control is
reached and worked by keyboard; Escape closes the dialog and the focus goes back to the
button that opened it; nothing overflows at 1280 × 800 and 390 × 844 with the list open.
Screenshots are kept in test-artifacts/host_tools/.

The waiting guests use a preset with `waiting_room_type: SKIP_ON_ACCEPT` (docs/presets.md:
`ON_PRIVILEGED_USER_ENTRY` admits a guest by itself as soon as a host is in, so nobody
would wait for the host's Admit)."""

import asyncio
import contextlib

from playwright.async_api import Page, expect

from salon.client import AdminClient, RealtimeClient, ws_url
from tests.e2e.browser import Browsers, Person, tab_to
from tests.e2e.conftest import ARTIFACTS
from tests.servers import SalonServer

SHOTS = ARTIFACTS / "host_tools"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


async def no_overflow(page: Page) -> None:
    """No sideways scroll; the top bar, the control bar, the requests list, the host
    menu, the notices and the dialog (and everything in them) are inside the window."""
    found = await page.evaluate("""() => {
        const width = document.documentElement.clientWidth, height = document.documentElement.clientHeight;
        const out = [];
        if (document.documentElement.scrollWidth > width) out.push(`page ${document.documentElement.scrollWidth} > ${width}`);
        const boxes = ".topbar, .topbar > *, .controls, .controls > *, .host-popover, .host-popover *, .toast, .toast *, dialog[open], dialog[open] *";
        for (const el of document.querySelectorAll(boxes)) {
            if (el.closest("[hidden]") || !el.getClientRects().length) continue;
            const r = el.getBoundingClientRect();
            if (!r.width) continue;
            if (r.left < -0.5 || r.right > width + 0.5) out.push(`${el.dataset.testid || el.id || el.className || el.tagName} x ${r.left}..${r.right} of ${width}`);
            if (el.matches(".host-popover, dialog[open]") && (r.top < -0.5 || r.bottom > height + 0.5)) out.push(`${el.dataset.testid} y ${r.top}..${r.bottom} of ${height}`);
        }
        return out;
    }""")
    assert not found, found


async def touch_targets(page: Page) -> None:
    """On a phone, the new buttons are at least 44 px tall."""
    small = await page.evaluate("""() => [...document.querySelectorAll(
            "#host-badge, #btn-host, .host-popover button, .notice-toast button, dialog[open] button")]
        .filter((b) => !b.closest("[hidden]") && b.getClientRects().length && b.getBoundingClientRect().height < 43.5)
        .map((b) => `${b.dataset.testid} ${b.getBoundingClientRect().height}`)""")
    assert not small, small


async def shoot(page: Page, step: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size_name, size in (("desktop", DESKTOP), ("phone", PHONE)):
        await page.set_viewport_size(size)
        await page.evaluate("() => window.dispatchEvent(new Event('resize'))")
        await page.wait_for_timeout(150)
        await no_overflow(page)
        if size is PHONE:
            await touch_targets(page)
        await page.screenshot(path=str(SHOTS / f"{step}-{size_name}.png"))
    await page.set_viewport_size(DESKTOP)
    await page.evaluate("() => window.dispatchEvent(new Event('resize'))")


async def focused(page: Page) -> str | None:
    return await page.evaluate("() => document.activeElement && document.activeElement.dataset.testid")


async def lobby_meeting(admin: AdminClient, title: str) -> tuple[dict, str]:
    meeting = await admin.create_meeting(title=title)
    lobby = f"lobby_{meeting['id'][:8]}"
    await admin.create_preset(lobby, permissions={"waiting_room_type": "SKIP_ON_ACCEPT"})
    return meeting, lobby


async def test_badge_list_host_menu_and_confirmations(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    meeting, lobby = await lobby_meeting(web_admin, "Host tools")
    mid = meeting["id"]
    rows = {
        "host": await web_admin.add_participant(mid, "host", "group_call_host", name="Hana Host"),
        "ana": await web_admin.add_participant(mid, "ana", lobby, name="Ana"),
        "bo": await web_admin.add_participant(mid, "bo", lobby, name="Bo"),
        "cy": await web_admin.add_participant(mid, "cy", lobby, name="Cy"),
        "di": await web_admin.add_participant(mid, "di", lobby, name="Di"),
        "ed": await web_admin.add_participant(mid, "ed", lobby, name="Ed"),
    }
    url = ws_url(web_server.url)
    host_person: Person = await browsers.person("host")
    host = host_person.page
    await host_person.open(web_server.url, rows["host"]["token"], autojoin=1, audio=0, video=0)
    await host_person.wait_state("joined")
    badge = host.get_by_test_id("host-badge")
    await expect(badge).to_be_hidden()
    await expect(host.get_by_test_id("btn-host")).to_be_visible()

    # Ana waits (in a page, microphone on): the badge says 1, the notice has Admit, and
    # a screen reader hears it once.
    ana_person = await browsers.person("ana")
    ana = ana_person.page
    await ana_person.open(web_server.url, rows["ana"]["token"], autojoin=1, audio=1, video=0)
    await ana_person.wait_state("waiting")
    await expect(badge).to_be_visible()
    await expect(host.get_by_test_id("host-badge-count")).to_have_text("1")
    assert await badge.evaluate("(b) => b.tagName") == "BUTTON"
    announce = host.get_by_test_id("host-announce")
    await expect(announce).to_have_attribute("aria-live", "polite")
    await expect(announce).to_have_text("Ana is waiting to join.")
    await expect(host.get_by_test_id("notice-admit")).to_be_visible()
    # The notice is not read twice (once by the toasts' live region).
    assert await host.locator('[data-notice="waiting"]').get_attribute("aria-live") == "off"

    # The list by keyboard: Tab to the badge, Enter; it shows Ana with Admit / Deny.
    await tab_to(host, "host-badge")
    await host.keyboard.press("Enter")
    requests = host.get_by_test_id("host-requests")
    await expect(requests).to_be_visible()
    await expect(badge).to_have_attribute("aria-expanded", "true")
    row = requests.get_by_test_id("request-waiting")
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text("Ana")
    assert await focused(host) == "request-waiting-admit"
    await shoot(host, "1-one-waiting")
    # Escape closes the list; the focus goes back to the badge.
    await host.keyboard.press("Escape")
    await expect(requests).to_be_hidden()
    assert await focused(host) == "host-badge"
    await host.keyboard.press("Enter")
    await expect(requests).to_be_visible()
    assert await focused(host) == "request-waiting-admit"
    await host.keyboard.press("Enter")  # Admit, in place
    await ana_person.wait_state("joined")
    await expect(badge).to_be_hidden()
    await expect(requests).to_be_hidden()
    assert await focused(host) == "btn-host"  # the badge went: the keyboard is not lost
    ana_peer = await ana_person.peer_id()

    clients: list[RealtimeClient] = []
    try:
        # Bo waits (a Python client): Deny in the list rejects him.
        bo = await RealtimeClient.join(url, rows["bo"]["token"])
        clients.append(bo)
        assert bo.status == "waiting"
        await expect(host.get_by_test_id("host-badge-count")).to_have_text("1")
        await expect(announce).to_have_text("Bo is waiting to join.")
        await badge.focus()
        await host.keyboard.press("Enter")
        assert await focused(host) == "request-waiting-admit"
        await host.keyboard.press("Tab")
        assert await focused(host) == "request-waiting-deny"
        await host.keyboard.press("Enter")
        await bo.wait_for("self.rejected", timeout=10)
        await expect(badge).to_be_hidden()

        # Cy waits: Admit on the notice lets him in.
        cy = await RealtimeClient.join(url, rows["cy"]["token"])
        clients.append(cy)
        await expect(host.get_by_test_id("notice-admit")).to_be_visible()
        await expect(host.get_by_test_id("notice-admit")).to_have_attribute("aria-label", "Admit Cy")
        await tab_to(host, "notice-admit")
        await host.keyboard.press("Enter")
        await cy.wait_for("self.admitted", timeout=10)
        await expect(host.get_by_test_id("notice-admit")).to_have_count(0)
        await expect(badge).to_be_hidden()

        # Two wait: the badge says 2, the list has Admit all (with the list open, nothing
        # overflows at either size).
        di = await RealtimeClient.join(url, rows["di"]["token"])
        ed = await RealtimeClient.join(url, rows["ed"]["token"])
        clients += [di, ed]
        await expect(host.get_by_test_id("host-badge-count")).to_have_text("2")
        await expect(badge).to_have_attribute("aria-label", "Waiting (2): 2 waiting to join")
        await badge.click()
        await expect(requests.get_by_test_id("request-waiting")).to_have_count(2)
        await shoot(host, "2-two-waiting")
        assert await focused(host) == "requests-admit-all"
        await host.keyboard.press("Enter")
        await asyncio.gather(di.wait_for("self.admitted", timeout=10),
                             ed.wait_for("self.admitted", timeout=10))
        await expect(badge).to_be_hidden()

        # Mute all, by keyboard from the host menu: Ana's microphone goes off (Cy sees it).
        await host.wait_for_function(
            "(id) => { const p = window.salon.client.peers.get(id); return p && p.audio; }",
            arg=ana_peer, timeout=20000)
        await tab_to(host, "btn-host")
        await host.keyboard.press("Enter")
        await expect(host.get_by_test_id("host-menu")).to_be_visible()
        assert await focused(host) == "host-mute-all"
        await shoot(host, "3-host-menu")
        await host.keyboard.press("Enter")
        await cy.wait_for("peer.updated", lambda d: d["peer"]["peer_id"] == ana_peer
                          and d["peer"]["audio"] is False, timeout=10)
        await expect(host.get_by_test_id("host-menu")).to_be_hidden()
        await expect(ana.get_by_test_id("btn-mic")).to_have_attribute("aria-pressed", "false")

        # Remove asks first: Escape cancels (Ana stays, the focus is back on Remove)...
        await host.get_by_test_id("tab-participants").click()
        ana_row = host.locator(f'[data-testid="participant"][data-peer-id="{ana_peer}"]')
        await ana_row.get_by_test_id("action-kick").focus()
        await host.keyboard.press("Enter")
        dialog = host.get_by_test_id("confirm-dialog")
        await expect(dialog).to_be_visible()
        await expect(host.get_by_test_id("confirm-title")).to_have_text("Remove Ana?")
        assert await dialog.evaluate("(d) => d.tagName === 'DIALOG' && d.open")
        assert await focused(host) == "confirm-cancel"
        await shoot(host, "4-confirm-remove")
        await host.keyboard.press("Escape")
        await expect(dialog).to_be_hidden()
        assert await host.evaluate(
            "(id) => document.activeElement.dataset.testid === 'action-kick' && "
            "document.activeElement.closest('[data-peer-id]').dataset.peerId === id", ana_peer)
        await asyncio.sleep(0.5)
        assert await ana_person.state() == "joined"
        # ... Cancel too; then Remove (by keyboard: Tab to it, Enter) removes her.
        await host.keyboard.press("Enter")
        await host.get_by_test_id("confirm-cancel").click()
        await expect(dialog).to_be_hidden()
        assert await ana_person.state() == "joined"
        await host.keyboard.press("Enter")
        assert await focused(host) == "confirm-cancel"
        await host.keyboard.press("Tab")
        assert await focused(host) == "confirm-ok"
        await host.keyboard.press("Enter")
        await ana_person.wait_state("kicked")

        # End for all asks first: Cancel keeps the meeting, the focus back on the menu button.
        await host.get_by_test_id("btn-host").click()
        await host.get_by_test_id("host-end-all").click()
        await expect(dialog).to_be_visible()
        await expect(host.get_by_test_id("confirm-title")).to_have_text("End the meeting for everyone?")
        await shoot(host, "5-confirm-end")
        await host.get_by_test_id("confirm-cancel").click()
        await expect(dialog).to_be_hidden()
        assert await focused(host) == "btn-host"
        assert await host_person.state() == "joined"
        # By keyboard: Enter opens the menu, Tab to End, Enter, Tab to the action, Enter.
        await host.keyboard.press("Enter")
        await host.keyboard.press("Tab")
        assert await focused(host) == "host-end-all"
        await host.keyboard.press("Enter")
        await expect(dialog).to_be_visible()
        await host.keyboard.press("Tab")
        await host.keyboard.press("Enter")
        ended = await asyncio.gather(*(c.wait_for("room.ended", timeout=10) for c in (cy, di, ed)))
        assert all(e["reason"] == "HOST_ENDED_MEETING" for e in ended)
        await host_person.wait_state("ended")
        assert not await host.evaluate("() => window.salon.errors")
    finally:
        for client in clients:
            with contextlib.suppress(Exception):
                await client.close()


async def test_stage_requests_and_poll_and_question_notices(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    meeting = await web_admin.create_meeting(title="Host tools webinar")
    mid = meeting["id"]
    host_row = await web_admin.add_participant(mid, "host", "webinar_presenter", name="Hana Host")
    viewer_row = await web_admin.add_participant(mid, "vera", "webinar_viewer", name="Vera")
    host_person, viewer_person = await browsers.person("presenter"), await browsers.person("viewer")
    host, viewer = host_person.page, viewer_person.page
    for person, row in ((host_person, host_row), (viewer_person, viewer_row)):
        await person.open(web_server.url, row["token"], autojoin=1, audio=0, video=0)
        await person.wait_state("joined")

    # Vera asks to join the stage: the presenter's badge counts it, the list has Admit.
    await viewer.get_by_test_id("btn-stage").click()
    badge = host.get_by_test_id("host-badge")
    await expect(badge).to_be_visible()
    await expect(host.get_by_test_id("host-badge-count")).to_have_text("1")
    await expect(badge).to_contain_text("Stage requests")
    await expect(host.get_by_test_id("host-announce")).to_have_text("Vera asks to join the stage.")
    await tab_to(host, "host-badge")
    await host.keyboard.press("Enter")
    row = host.get_by_test_id("host-requests").get_by_test_id("request-stage")
    await expect(row).to_contain_text("Vera")
    await shoot(host, "6-stage-request")
    assert await focused(host) == "request-stage-admit"
    await host.keyboard.press("Enter")
    await expect(viewer.get_by_test_id("btn-stage")).to_have_attribute(
        "data-stage-status", "ACCEPTED_TO_JOIN_STAGE")
    await expect(badge).to_be_hidden()

    # Wes (a Python client) asks too: Deny in the list declines.
    wes_row = await web_admin.add_participant(mid, "wes", "webinar_viewer", name="Wes")
    wes = await RealtimeClient.join(ws_url(web_server.url), wes_row["token"])
    try:
        await wes.request("stage.request")
        await expect(host.get_by_test_id("host-badge-count")).to_have_text("1")
        await badge.click()
        stage_row = host.get_by_test_id("host-requests").get_by_test_id("request-stage")
        await expect(stage_row).to_contain_text("Wes")
        await stage_row.get_by_test_id("request-stage-deny").click()
        await wes.wait_for("stage.denied", timeout=10)
        await expect(badge).to_be_hidden()
        await expect(host.locator('[data-notice="stage"]')).to_have_count(0)  # its notice went too
    finally:
        await wes.leave()

    # A new poll: the viewer hears of it with the question, and Open polls opens the panel.
    await host.evaluate("() => window.salon.client.polls.create('Lunch at noon?', ['Yes', 'No'])")
    notice = viewer.locator('[data-notice="poll"]')
    await expect(notice).to_contain_text("Hana Host started a poll: Lunch at noon?")
    await expect(viewer.get_by_test_id("host-announce")).to_have_text(
        "Hana Host started a poll: Lunch at noon?")
    await expect(host.locator('[data-notice="poll"]')).to_have_count(0)  # not to its creator
    await shoot(viewer, "7-poll-notice")
    await tab_to(viewer, "notice-open-polls")
    await viewer.keyboard.press("Enter")
    await expect(viewer.get_by_test_id("panel-polls")).to_be_visible()
    await expect(viewer.get_by_test_id("poll")).to_contain_text("Lunch at noon?")

    # A new question: the presenter (who answers) gets a notice with View; the viewer none.
    await viewer.evaluate("() => window.salon.client.qna.ask('Will the slides be shared?')")
    notice = host.locator('[data-notice="question"]')
    await expect(notice).to_contain_text("New question from Vera: Will the slides be shared?")
    await shoot(host, "8-question-notice")
    await tab_to(host, "notice-view-question")
    await host.keyboard.press("Enter")
    await expect(host.get_by_test_id("panel-qna")).to_be_visible()
    await expect(host.get_by_test_id("qna-question")).to_contain_text("Will the slides be shared?")
    await expect(viewer.locator('[data-notice="question"]')).to_have_count(0)
    for page in (host, viewer):
        assert not await page.evaluate("() => window.salon.errors")
