"""Translations: a language is one file, messages/<lang>.js, and the page falls back to
English key by key; and every word the page shows or names a control with comes from the
catalogue (a pseudo-translation that brackets every English message leaves no unbracketed
word on the page, apart from what people typed: names, the meeting's title).

The language files are served here by the browser (page.route), so the package keeps only
English; the page finds them exactly as it would find a real one."""

import re

from playwright.async_api import Page, Route, expect

from salon.client import AdminClient
from tests.e2e.browser import Browsers, host_and_guest, reveal
from tests.servers import SalonServer

PARTIAL = """export default {
  "prejoin.join": "Beitreten",
  "prejoin.microphone.on": "Mikrofon an",
  "control.leave": "Verlassen",
};"""

# Every English message in brackets: what is not in brackets did not come from the catalogue.
PSEUDO = """import english from "/meet/messages/en.js";
export default Object.fromEntries(Object.entries(english).map(([k, v]) => [k, v.trim() ? `⟦${v}⟧` : v]));"""

UNBRACKETED = """(allowed) => {
    const out = [];
    const shown = (el) => el && !el.closest("[hidden]") && el.getClientRects().length > 0;
    // Plugins' names and descriptions are what an admin typed (and other tests make some).
    const skip = (el) => el.closest("[data-testid=plugin-name], .plugin .description");
    const fine = (text) => {
        let rest = text.replace(/⟦[^⟧]*⟧/g, "");
        for (const word of allowed) rest = rest.split(word).join("");
        return !/[A-Za-z]{2,}/.test(rest);
    };
    const scopes = document.querySelectorAll(".screen:not([hidden]), dialog[open], #toasts");
    for (const scope of scopes) {
        const walker = document.createTreeWalker(scope, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const el = node.parentElement;
            if (!shown(el) || skip(el) || ["SCRIPT", "STYLE", "OPTION"].includes(el.tagName)) continue;
            if (!fine(node.textContent)) out.push(`text ${JSON.stringify(node.textContent.trim())} in ${el.dataset.testid || el.id || el.className || el.tagName}`);
        }
        for (const el of scope.querySelectorAll("[aria-label], [title], [placeholder]")) {
            if (!shown(el) || skip(el)) continue;
            for (const attribute of ["aria-label", "title", "placeholder"]) {
                const value = el.getAttribute(attribute);
                if (value && !fine(value)) out.push(`${attribute} ${JSON.stringify(value)} on ${el.dataset.testid || el.id || el.tagName}`);
            }
        }
    }
    return out;
}"""


async def serve_language(page: Page, tag: str, source: str) -> None:
    async def fulfil(route: Route) -> None:
        await route.fulfill(status=200, content_type="text/javascript", body=source)
    await page.route(re.compile(rf"/meet/messages/{tag}\.js$"), fulfil)


async def test_a_partial_translation_falls_back_to_english_per_key(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    meeting = await web_admin.create_meeting(title="Sprachen")
    guest = await web_admin.add_participant(meeting["id"], "g", "group_call_host", name="Gil")
    person = await browsers.person("de")
    page = person.page
    await serve_language(page, "de", PARTIAL)
    await person.open(web_server.url, guest["token"], lang="de-AT", audio=1, video=0)
    await person.wait_state("prejoin")
    assert await page.evaluate("() => document.documentElement.lang") == "de"
    await expect(page.get_by_test_id("prejoin-join")).to_have_text("Beitreten")
    await expect(page.get_by_test_id("prejoin-mic")).to_have_text("Mikrofon an")
    # Keys the file lacks are said in English, never left blank.
    await expect(page.get_by_test_id("prejoin-cam")).to_have_text("Camera off")
    await expect(page.locator("#prejoin-name-label")).to_contain_text("Your name")
    await page.get_by_test_id("prejoin-join").click()
    await person.wait_state("joined")
    await expect(page.get_by_test_id("btn-leave")).to_have_text("Verlassen")
    await expect(page.get_by_test_id("btn-mic")).to_have_text("Mic on")

    # A language without a file: English, quietly.
    other = await browsers.person("zz")
    await other.open(web_server.url, guest["token"], lang="zz")
    await other.wait_state("prejoin")
    assert await other.page.evaluate("() => document.documentElement.lang") == "en"
    await expect(other.page.get_by_test_id("prejoin-join")).to_have_text("Join")
    assert await other.page.evaluate("() => window.salon.errors") == []


async def test_every_word_on_the_page_comes_from_the_catalogue(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    pair = await host_and_guest(web_admin, browsers, "Qqq", names=("Hhh", "Ggg"), waiting_room=True)
    # What people typed: the title, names, initials, the guest's preset's name; longest first.
    people = sorted({"Qqq", "Hhh", "Ggg", "HH", "GG", "Q", pair.guest_preset}, key=len, reverse=True)
    for person in (pair.host, pair.guest):
        await serve_language(person.page, "qps", PSEUDO)
    host, guest = pair.host.page, pair.guest.page
    found: list[str] = []

    async def check(page: Page, where: str) -> None:
        found.extend(f"{where}: {line}" for line in await page.evaluate(UNBRACKETED, people))

    # The check itself: English set outside the catalogue is caught.
    await pair.host.open(web_server.url, pair.host_token, lang="qps", audio=0, video=0)
    await pair.host.wait_state("prejoin")
    await host.evaluate("() => document.getElementById('prejoin-hint').textContent = 'Plain words'")
    assert await host.evaluate(UNBRACKETED, people), "the check found nothing"
    await host.evaluate("() => document.getElementById('prejoin-hint').textContent = ''")

    await check(host, "pre-join")
    await host.get_by_test_id("prejoin-join").click()
    await pair.host.wait_state("joined")
    await pair.guest.open(web_server.url, pair.guest_token, lang="qps", autojoin=1, audio=0, video=0)
    await pair.guest.wait_state("waiting")
    await check(guest, "waiting room")
    await expect(host.get_by_test_id("host-badge")).to_be_visible()
    await check(host, "host with a request")
    await host.get_by_test_id("host-badge").click()
    await check(host, "requests list")
    await host.get_by_test_id("host-requests").get_by_test_id("request-waiting-admit").first.click()
    await pair.guest.wait_state("joined")
    await host.keyboard.press("Escape")
    for who, page in (("host", host), ("guest", guest)):
        await check(page, f"{who} meeting")
        panels = await page.locator(".tab:not([hidden])").evaluate_all("(els) => els.map((e) => e.dataset.panel)")
        for panel in panels:
            await page.get_by_test_id(f"tab-{panel}").click()
            await expect(page.get_by_test_id(f"panel-{panel}")).to_be_visible()
            await page.wait_for_timeout(200)
            await check(page, f"{who} {panel}")
        await page.locator("body").press("?")
        await check(page, f"{who} shortcuts")
        await page.keyboard.press("Escape")
        await page.get_by_test_id("btn-more").click()
        await check(page, f"{who} more menu")
        await page.keyboard.press("Escape")
    await (await reveal(host, "btn-host")).click()  # under More when the bar is full
    await check(host, "host menu")
    await host.keyboard.press("Escape")
    await guest.get_by_test_id("btn-leave").click()
    await pair.guest.wait_state("left")
    await check(guest, "exit screen")
    assert not found, "\n".join(found)
