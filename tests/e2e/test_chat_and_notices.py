"""The chat view (src/salon/web/meet/chat.js) and join / leave notices (notices.js).

Chat: each message shows its sender and a timestamp (`<time datetime>`, local HH:MM),
consecutive messages of one sender are grouped, http(s) URLs are links with a safe `rel`
built from the DOM (never HTML: `javascript:`, `data:` and tags stay text), a
300-character word wraps without overflow on a phone, the box keeps at least 60 % of
its row beside the private-recipient picker, and the box, Send and a link are reached
by Tab. Notices: "X joined" / "X left" once each, batched ("5 people joined"), never for
yourself, the people already there, or a hidden participant. Screenshots at 1280 × 800
and 390 × 844 are kept in test-artifacts/chat_and_notices/."""

import asyncio
import re
from datetime import datetime

from playwright.async_api import Page, expect

from salon.client import AdminClient, RealtimeClient, ws_url
from tests.e2e.browser import DESKTOP, PHONE, Browsers, Person, no_overflow, shoot, tab_to
from tests.e2e.conftest import ARTIFACTS
from tests.servers import SalonServer

SHOTS = ARTIFACTS / "chat_and_notices"
LONG_WORD = "W" * 300


def message(page: Page, text: str):  # noqa: ANN201 (a Playwright Locator)
    return page.get_by_test_id("chat-message").filter(has_text=text)


def presence(page: Page, text: str):  # noqa: ANN201
    return page.locator("[data-testid=toast][data-kind=presence]").filter(has_text=text)




async def join(person: Person, base_url: str, token: str) -> Page:
    await person.open(base_url, token, autojoin=1, audio=0, video=0)
    await person.wait_state("joined")
    return person.page


async def say(page: Page, text: str) -> None:
    await page.get_by_test_id("chat-input").fill(text)
    await page.get_by_test_id("chat-send").click()
    await expect(message(page, text[:40]).last).to_be_visible()


async def test_chat_shows_time_safe_links_and_fits_a_phone(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    meeting = await web_admin.create_meeting(title="Chat view")
    rows = [await web_admin.add_participant(meeting["id"], f"p{n}", "group_call_participant",
                                            name=name)
            for n, name in enumerate(("Ada Lee", "Ben Ode"))]
    ada = await join(await browsers.person("ada"), web_server.url, rows[0]["token"])
    ben_person = await browsers.person("ben")
    ben = await join(ben_person, web_server.url, rows[1]["token"])
    await ben.set_viewport_size(DESKTOP)
    await ada.get_by_test_id("tab-chat").click()
    await ben.get_by_test_id("tab-chat").click()

    # Sender and time; two in a row from Ada are one group.
    await say(ada, "hello Ben")
    await say(ada, "second line")
    first, second = message(ben, "hello Ben"), message(ben, "second line")
    await expect(first.get_by_test_id("chat-from")).to_have_text("Ada Lee")
    stamp = first.get_by_test_id("chat-time")
    await expect(stamp).to_have_text(re.compile(r"^\d\d:\d\d$"))
    when = datetime.fromisoformat((await stamp.get_attribute("datetime")).replace("Z", "+00:00"))
    assert abs((datetime.now(when.tzinfo) - when).total_seconds()) < 120
    assert await stamp.get_attribute("title")
    await expect(first).not_to_have_class(re.compile(r"\bgrouped\b"))
    await expect(second).to_have_class(re.compile(r"\bgrouped\b"))
    await expect(second.get_by_test_id("chat-time")).to_have_attribute("datetime", re.compile(r"\d{4}-"))
    await say(ben, "hi Ada")
    await expect(message(ben, "hi Ada")).not_to_have_class(re.compile(r"\bgrouped\b"))

    # Links: http(s) only, with a safe rel; anything else stays text, tags included.
    await say(ada, "see https://example.org/a?b=1.")
    await say(ada, "javascript:alert(1) data:text/html,hi <b>x</b>")
    await say(ada, LONG_WORD)
    linked = message(ben, "see https://example.org")
    link = linked.get_by_test_id("chat-link")
    await expect(link).to_have_count(1)
    await expect(link).to_have_attribute("href", "https://example.org/a?b=1")
    await expect(link).to_have_attribute("rel", "noopener noreferrer nofollow")
    await expect(link).to_have_attribute("target", "_blank")
    await expect(link).to_have_text("https://example.org/a?b=1")
    unsafe = message(ben, "javascript:alert(1)")
    await expect(unsafe.get_by_test_id("chat-text")).to_have_text(
        "javascript:alert(1) data:text/html,hi <b>x</b>")
    assert await unsafe.locator("a, b").count() == 0
    assert await ben.locator("[data-testid=chat-messages] a").count() == 1

    # A phone: the long word wraps inside the list; the box keeps >= 60 % of its row
    # beside the recipient picker; Send is inside the window.
    await ben.set_viewport_size(PHONE)
    await ben.wait_for_timeout(150)
    await no_overflow(ben)
    fits = await ben.evaluate("""(word) => {
        const list = document.getElementById("chat-messages").getBoundingClientRect();
        const text = [...document.querySelectorAll("[data-testid=chat-text]")].find((t) => t.textContent === word);
        const r = text.getBoundingClientRect();
        const form = document.getElementById("chat-form");
        const style = getComputedStyle(form);
        const row = form.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
        const input = document.getElementById("chat-input").getBoundingClientRect();
        const send = document.getElementById("chat-send").getBoundingClientRect();
        return {wrapped: r.height > 40, inside: r.left >= list.left && r.right <= list.right,
                share: input.width / row, sendRight: send.right, sendWidth: send.width,
                oneRow: send.top < input.bottom && send.bottom > input.top,
                width: document.documentElement.clientWidth};
    }""", LONG_WORD)
    assert fits["wrapped"] and fits["inside"], fits
    assert fits["share"] >= 0.6, fits
    assert fits["oneRow"] and fits["sendRight"] <= fits["width"] and fits["sendWidth"] >= 44, fits
    await expect(ben.get_by_test_id("chat-to")).to_be_visible()
    await ben.set_viewport_size(DESKTOP)

    # Keyboard: the box, Send and a rendered link.
    for testid in ("chat-input", "chat-send", "chat-link"):
        await tab_to(ben, testid, 60)
    await shoot(ben, SHOTS, "1-chat")


async def test_join_and_leave_notices(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    meeting = await web_admin.create_meeting(title="Who comes and goes")
    ghost_preset = f"ghost_{meeting['id'][:8]}"
    await web_admin.create_preset(ghost_preset, permissions={"hidden_participant": True})

    async def token(custom: str, name: str, preset: str = "group_call_participant") -> str:
        row = await web_admin.add_participant(meeting["id"], custom, preset, name=name)
        return row["token"]

    url = ws_url(web_server.url)
    early = await RealtimeClient.join(url, await token("early", "Eve Early"))
    clients: list[RealtimeClient] = [early]
    try:
        person = await browsers.person("ada")
        ada = await join(person, web_server.url, await token("ada", "Ada Lee"))
        await expect(ada.get_by_test_id("toasts")).to_have_attribute("aria-live", "polite")
        # Every presence notice ever shown, in order (each toast lasts a few seconds).
        await ada.evaluate("""() => {
            window.__said = [];
            new MutationObserver((changes) => {
                for (const change of changes) for (const node of change.addedNodes) {
                    if (node.dataset && node.dataset.kind === "presence") window.__said.push(node.textContent);
                }
            }).observe(document.getElementById("toasts"), {childList: true});
        }""")
        await ada.wait_for_timeout(1200)  # past the first second

        # One person: joined, then left, each said once.
        xia = await RealtimeClient.join(url, await token("xia", "Xia Xu"))
        await expect(presence(ada, "Xia Xu joined")).to_have_count(1)
        await xia.leave()
        await expect(presence(ada, "Xia Xu left")).to_have_count(1)
        await ada.wait_for_timeout(500)
        await expect(presence(ada, "Xia Xu joined")).to_have_count(1)
        await shoot(ada, SHOTS, "2-notice")

        # A hidden participant comes and goes unannounced.
        ghost = await RealtimeClient.join(url, await token("ghost", "Gil Ghost", ghost_preset))
        await ghost.leave()

        # Five at once: one notice.
        tokens = [await token(f"crowd{n}", f"Crowd {n}") for n in range(5)]
        crowd = await asyncio.gather(*(RealtimeClient.join(url, t) for t in tokens))
        clients += crowd
        await expect(presence(ada, "5 people joined")).to_have_count(1)
        await asyncio.gather(*(c.leave() for c in crowd))
        await expect(presence(ada, "5 people left")).to_have_count(1)

        # Never yourself, never the people already there, never the hidden one.
        await ada.wait_for_timeout(800)
        said = await ada.evaluate("() => window.__said")
        assert said == ["Xia Xu joined", "Xia Xu left", "5 people joined", "5 people left"], said
    finally:
        for client in clients:
            await client.close()
