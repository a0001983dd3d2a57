"""Raised hands and reactions on the meeting page: a guest in Chromium raises a hand with
the button and by keyboard, a host in a second Chromium sees Raised hands in raise order
(the second raiser a Python peer), a notice, the hand on the tile and in People, lowers
one hand and then all, and the guest's button flips back; a reaction from a Python peer
floats over the guest's stage and is announced; the reaction picker is reached and
worked by keyboard. Nothing overflows at desktop, phone and landscape sizes; screenshots
are kept in test-artifacts/hands_reactions/."""

import re

from playwright.async_api import Page, expect

from salon.client import AdminClient, RealtimeClient, ws_url
from tests.e2e.browser import Browsers, shoot, tab_to
from tests.e2e.conftest import ARTIFACTS
from tests.servers import SalonServer

SHOTS = ARTIFACTS / "hands_reactions"


async def focused(page: Page) -> str | None:
    return await page.evaluate("() => document.activeElement && document.activeElement.dataset.testid")


async def raised_names(page: Page) -> list[str]:
    return await page.get_by_test_id("raised-hand").evaluate_all("(rows) => rows.map((r) => r.dataset.name)")


async def test_hands_in_raise_order_lowered_by_the_host_and_reactions(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    meeting = await web_admin.create_meeting(title="Hands")
    mid = meeting["id"]
    host_row = await web_admin.add_participant(mid, "host", "group_call_host", name="Hana Host")
    guest_row = await web_admin.add_participant(mid, "ana", "group_call_participant", name="Ana")
    bo_row = await web_admin.add_participant(mid, "bo", "group_call_participant", name="Bo")

    host_person = await browsers.person("host")
    host = host_person.page
    await host_person.open(web_server.url, host_row["token"], autojoin=1, audio=0, video=0)
    await host_person.wait_state("joined")
    guest_person = await browsers.person("guest")
    guest = guest_person.page
    await guest_person.open(web_server.url, guest_row["token"], autojoin=1, audio=0, video=0)
    await guest_person.wait_state("joined")
    ana_id = await guest_person.peer_id()
    bo = await RealtimeClient.join(ws_url(web_server.url), bo_row["token"])
    try:
        # Ana raises her hand with the button; Bo (Python) raises his after her.
        hand = guest.get_by_test_id("btn-hand")
        await expect(hand).to_have_attribute("aria-pressed", "false")
        await expect(hand).to_have_text("Raise hand")
        await hand.click()
        await expect(hand).to_have_attribute("aria-pressed", "true")
        await expect(hand).to_have_text("Lower hand")
        await host.wait_for_function(
            "(id) => { const p = window.salon.client.peers.get(id); return p && p.hand_raised_at; }",
            arg=ana_id)
        await bo.raise_hand()

        # The host: a notice with Lower hand, the hand on Ana's tile, and Raised hands (2)
        # at the top of People, Ana first.
        await expect(host.locator('[data-notice="hand"]').first).to_contain_text("Ana raised a hand.")
        await expect(host.get_by_test_id("notice-lower-hand").first).to_be_visible()
        tile = host.locator(f'[data-testid="tile"][data-peer-id="{ana_id}"]')
        await expect(tile.get_by_test_id("tile-hand")).to_have_attribute("aria-label", "Hand raised")
        await host.get_by_test_id("tab-participants").click()
        await expect(host.get_by_test_id("raised-hands-title")).to_have_text("Raised hands (2)")
        await expect(host.get_by_test_id("raised-hand")).to_have_count(2)
        assert await raised_names(host) == ["Ana", "Bo"]
        row = host.locator(f'[data-testid="participant"][data-peer-id="{ana_id}"]')
        await expect(row.get_by_test_id("person-hand")).to_have_attribute("data-order", "1")
        await expect(host.locator('[data-testid="participant"][data-name="Bo"]')
                     .get_by_test_id("person-hand")).to_have_attribute("data-order", "2")
        await expect(host.get_by_test_id("lower-all-hands")).to_be_visible()
        await shoot(host, SHOTS, "1-host-two-hands")

        # The host lowers Ana's hand: her button flips back, Bo moves up.
        await host.get_by_test_id("raised-hand").first.get_by_test_id("action-lower-hand").click()
        await expect(hand).to_have_attribute("aria-pressed", "false")
        await expect(hand).to_have_text("Raise hand")
        await expect(host.get_by_test_id("raised-hand")).to_have_count(1)
        assert await raised_names(host) == ["Bo"]
        await expect(tile.get_by_test_id("tile-hand")).to_have_count(0)

        # Ana raises again, by keyboard: she is behind Bo now.
        await tab_to(guest, "btn-hand")
        await guest.keyboard.press("Enter")
        await expect(hand).to_have_attribute("aria-pressed", "true")
        await expect(host.get_by_test_id("raised-hand")).to_have_count(2)
        assert await raised_names(host) == ["Bo", "Ana"]

        # Lower all hands: both go, Bo hears hand.lowered.
        await host.get_by_test_id("lower-all-hands").click()
        await expect(host.get_by_test_id("raised-hands")).to_have_count(0)
        await expect(hand).to_have_attribute("aria-pressed", "false")
        assert (await bo.wait_for("hand.lowered", timeout=10))["by_peer_id"] == await host_person.peer_id()

        # A reaction from Bo floats over Ana's stage with his name, and is announced.
        await bo.react("🎉")
        floating = guest.locator('[data-testid="reaction-float"][data-emoji="🎉"]')
        await expect(floating).to_contain_text("Bo")
        await expect(guest.get_by_test_id("reaction-announce")).to_have_text("Bo reacted: Party popper")
        await expect(guest.get_by_test_id("reaction-announce")).to_have_attribute("aria-live", "polite")
        assert await guest.get_by_test_id("reactions-layer").evaluate(
            "(el) => getComputedStyle(el).pointerEvents") == "none"

        # The picker by keyboard: Tab to React, Enter, the first emoji has the focus, an
        # arrow moves on, Enter sends; everyone (Ana too) gets it; the focus is back.
        await tab_to(guest, "btn-react")
        await guest.keyboard.press("Enter")
        picker = guest.get_by_test_id("reaction-picker")
        await expect(picker).to_be_visible()
        await expect(guest.get_by_test_id("btn-react")).to_have_attribute("aria-expanded", "true")
        await expect(guest.get_by_test_id("reaction-option")).to_have_count(8)
        assert await focused(guest) == "reaction-option"
        assert await guest.evaluate("() => document.activeElement.getAttribute('aria-label')") == "Thumbs up"
        await shoot(guest, SHOTS, "2-picker")
        await guest.keyboard.press("ArrowRight")
        assert await guest.evaluate("() => document.activeElement.getAttribute('aria-label')") == "Clapping hands"
        await guest.keyboard.press("Enter")
        seen = await bo.wait_for("reaction", lambda d: d["peer_id"] == ana_id, timeout=10)
        assert seen["emoji"] == "👏"
        await expect(picker).to_be_hidden()
        assert await focused(guest) == "btn-react"
        await expect(guest.locator('[data-testid="reaction-float"][data-emoji="👏"]')).to_contain_text("You")
        await guest.keyboard.press("Enter")
        await expect(picker).to_be_visible()
        await guest.keyboard.press("Escape")
        await expect(picker).to_be_hidden()
        assert await focused(guest) == "btn-react"

        # Reduced motion: a reaction stands still; a flood stays capped on screen.
        await guest.emulate_media(reduced_motion="reduce")
        await bo.react("👍")
        still = guest.locator('[data-testid="reaction-float"][data-emoji="👍"]')
        await expect(still).to_have_class("reaction-float still")
        assert await still.evaluate("(el) => getComputedStyle(el).animationName") == "none"
        for _ in range(9):
            await bo.react("❤️")
        await guest.wait_for_timeout(300)
        assert await guest.get_by_test_id("reaction-float").count() <= 12
        # ...and a screen reader hears the flood once, as a count, not ten sentences.
        await expect(guest.get_by_test_id("reaction-announce")).to_have_text(
            re.compile(r"^\d+ more reactions"), timeout=5000)
        await shoot(guest, SHOTS, "3-reactions")
        assert await guest.evaluate("() => window.salon.errors") == []
    finally:
        await bo.close()
