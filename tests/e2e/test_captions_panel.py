"""Live captions on the meeting page: a captioned speaker (Alice, whose preset has
`transcription_enabled`) and a viewer (Bob) in Chromium, and a Python bot with the
transcriber's preset publishing Alice's captions (`transcript.publish`). Bob sees
"Alice: …", the interim line replaced in place by the final one, the final announced to
screen readers (never the interims), a CC badge on Alice's tile; the Captions toggle is
reached by keyboard, hides captions (a caption then is not drawn), is remembered over a
reload, and shows them again. Caption text is text, never HTML; long captions wrap
without overflowing at desktop and phone sizes. Screenshots are kept in
test-artifacts/captions_panel/."""

import re
import uuid
from typing import Any

from playwright.async_api import Dialog, Page, expect

from salon.client import AdminClient, RealtimeClient, ws_url
from tests.e2e.browser import Browsers, Person, tab_to
from tests.e2e.conftest import ARTIFACTS
from tests.servers import SalonServer

SHOTS = ARTIFACTS / "captions_panel"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
TRANSCRIBER = {"hidden_participant": True, "is_recorder": True, "recorder_type": "RECORDER"}
HOSTILE = "<img src=x onerror=alert(1)>"
LONG = ("So the plan for the quarter is simple: we ship the captions, we listen to what "
        "people say about them, and we fix what they find. " * 4
        + "Averyveryverylongwordwithoutanyspacesthatmustbreaksomewhereanyway" * 3)


async def joined(person: Person, base_url: str, token: str) -> Page:
    await person.open(base_url, token, autojoin=1, audio=0, video=0)
    await person.wait_state("joined")
    return person.page


async def no_overflow(page: Page) -> None:
    """No horizontal scroll; the control bar and the captions box are inside the window,
    and no caption line is wider than its box."""
    found = await page.evaluate("""() => {
        const width = document.documentElement.clientWidth, height = document.documentElement.clientHeight;
        const out = [];
        if (document.documentElement.scrollWidth > width) out.push(`page ${document.documentElement.scrollWidth} > ${width}`);
        for (const el of document.querySelectorAll(".controls, .controls > *, #captions, .caption-lines, .caption")) {
            if (el.hidden || !el.getClientRects().length) continue;
            const r = el.getBoundingClientRect();
            const name = el.dataset.testid || el.className;
            if (r.left < -0.5 || r.right > width + 0.5) out.push(`${name} ${r.left}..${r.right} of ${width}`);
            if (el.id === "captions" && (r.top < 0 || r.bottom > height + 0.5)) out.push(`captions ${r.top}..${r.bottom} of ${height}`);
            if (el.scrollWidth > el.clientWidth + 1) out.push(`${name} scrolls: ${el.scrollWidth} > ${el.clientWidth}`);
        }
        return out;
    }""")
    assert not found, found


async def shoot(people: dict[str, Page], step: str) -> None:
    """Screenshots of every page at desktop and phone sizes, each checked for overflow."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size_name, size in (("desktop", DESKTOP), ("phone", PHONE)):
        for name, page in people.items():
            await page.set_viewport_size(size)
            await page.wait_for_timeout(100)
            await no_overflow(page)
            await page.screenshot(path=str(SHOTS / f"{step}-{name}-{size_name}.png"))
    for page in people.values():
        await page.set_viewport_size(DESKTOP)


async def sdk_has(page: Page, utterance: str) -> None:
    """The page's SDK holds this final caption (the view had its chance to draw it)."""
    await page.wait_for_function(
        "(id) => window.salon.client.transcripts.some((t) => t.id === id)", arg=utterance)


async def test_a_transcribed_meeting_says_so(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    """With `transcribe_on_end`, every voice is kept for a transcript: the top bar says
    "Transcribed" from the moment someone enters, at desktop and phone sizes."""
    meeting = await web_admin.create_meeting(title="Kept for the record")
    await web_admin.call("PATCH", f"/meetings/{meeting['id']}", json={"transcribe_on_end": True})
    token = (await web_admin.add_participant(meeting["id"], f"dana-{uuid.uuid4().hex[:8]}",
                                             "group_call_participant", name="Dana"))["token"]
    page = await joined(await browsers.person("dana"), web_server.url, token)
    notice = page.get_by_test_id("transcribed-indicator")
    await expect(notice).to_be_visible()
    await expect(notice).to_have_text("Transcribed")
    await expect(notice).to_have_attribute("title", re.compile("transcript"))
    await shoot({"dana": page}, "3-transcribed")
    # When it ends, the page says a transcript is on its way.
    await web_admin.call("POST", f"/meetings/{meeting['id']}/active-session/kick-all")
    await expect(page.get_by_test_id("notice-text")).to_contain_text("transcript of this meeting")


async def test_captions_show_replace_toggle_and_stay_text(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    tag = uuid.uuid4().hex[:8]
    await web_admin.create_preset(f"captioned-{tag}", permissions={"transcription_enabled": True})
    await web_admin.create_preset(f"transcriber-{tag}", permissions=TRANSCRIBER)
    meeting = await web_admin.create_meeting(title="Captioned standup")
    tokens = {}
    for who, preset, name in (("alice", f"captioned-{tag}", "Alice"),
                              ("bob", "group_call_participant", "Bob"),
                              ("bot", f"transcriber-{tag}", "Transcriber")):
        tokens[who] = (await web_admin.add_participant(meeting["id"], f"{who}-{tag}", preset,
                                                       name=name))["token"]
    alice_person, bob_person = await browsers.person("alice"), await browsers.person("bob")
    dialogs: list[str] = []

    def dialog(d: Dialog) -> None:
        dialogs.append(d.message)
        d.dismiss()

    # Nobody captioned yet: Bob has no Captions button.
    bob = await joined(bob_person, web_server.url, tokens["bob"])
    bob.on("dialog", dialog)
    await expect(bob.get_by_test_id("btn-captions")).to_be_hidden()
    await expect(bob.get_by_test_id("transcribed-indicator")).to_be_hidden()  # no transcribe_on_end
    alice = await joined(alice_person, web_server.url, tokens["alice"])
    alice.on("dialog", dialog)
    alice_id = await alice_person.peer_id()

    # Alice is captioned: both get the toggle (on), and her tile says so.
    for page, title in ((bob, "Captions are on for Alice"), (alice, "Captions are on for you")):
        toggle = page.get_by_test_id("btn-captions")
        await expect(toggle).to_be_visible()
        await expect(toggle).to_have_attribute("aria-pressed", "true")
        badge = page.locator(f'[data-testid="tile"][data-peer-id="{alice_id}"] [data-testid="tile-cc"]')
        await expect(badge).to_have_attribute("title", title)
        await expect(badge).to_have_text("CC")
        await expect(page.get_by_test_id("tile-cc")).to_have_count(1)  # not on Bob
        await expect(page.get_by_test_id("captions")).to_be_hidden()  # nothing said yet
    await expect(bob.get_by_test_id("captions-announce")).to_have_attribute("aria-live", "polite")
    await expect(bob.get_by_test_id("captions-announce")).to_have_attribute("role", "log")

    for page in (bob, alice):  # lines stay on screen until this test fades them on purpose
        await page.evaluate("() => { window.salon.captions.fadeMs = 60000; }")
    bot = await RealtimeClient.join(ws_url(web_server.url), tokens["bot"])
    try:
        async def say(utterance: str, text: str, partial: bool = False) -> dict[str, Any]:
            return await bot.request("transcript.publish", peer_id=alice_id, id=utterance,
                                     transcript=text, is_partial=partial)

        # Interim, interim, final of one utterance: one line, replaced in place.
        assert await say("u1", "Hello every", partial=True) == {"delivered_to": 2}
        line = bob.get_by_test_id("caption")
        await expect(line).to_have_text("Alice: Hello every")
        await expect(line).to_have_attribute("data-final", "false")
        await bob.evaluate("() => { document.querySelector('[data-testid=caption]').dataset.mark = 'first'; }")
        await say("u1", "Hello everyone, wel", partial=True)
        await expect(line).to_have_text("Alice: Hello everyone, wel")
        await say("u1", "Hello everyone, welcome.")
        await expect(line).to_have_text("Alice: Hello everyone, welcome.")
        await expect(line).to_have_attribute("data-final", "true")
        await expect(line).to_have_attribute("data-mark", "first")  # the same element
        await expect(alice.get_by_test_id("caption")).to_have_text("You: Hello everyone, welcome.")
        announce = bob.get_by_test_id("captions-announce")
        await expect(announce).to_have_text("Alice: Hello everyone, welcome.")  # only the final
        state = await bob.evaluate("""() => ({finals: window.salon.client.transcripts.map((t) => [t.id, t.transcript]),
                                              interim: window.salon.client.interimTranscripts.size})""")
        assert state == {"finals": [["u1", "Hello everyone, welcome."]], "interim": 0}

        # Hostile text stays text; a long caption wraps inside the window.
        await say("u2", HOSTILE)
        await expect(line.nth(1)).to_have_text(f"Alice: {HOSTILE}")
        await say("u3", LONG[:200], partial=True)
        await say("u3", LONG)
        await say("u4", "And one more thing", partial=True)  # the oldest line goes
        await expect(line).to_have_text([f"Alice: {HOSTILE}", f"Alice: {LONG}", "Alice: And one more thing"])
        for page in (bob, alice):
            assert await page.locator("#captions img").count() == 0
        await shoot({"bob": bob, "alice": alice}, "1-captions")

        # Lines fade a while after their final (a short fade on Alice's page).
        await alice.evaluate("() => { window.salon.captions.fadeMs = 300; }")
        await say("u4", "And one more thing: this one fades.")
        fading = alice.get_by_test_id("caption").filter(has_text="this one fades.")
        await expect(fading).to_have_attribute("data-final", "true")
        await expect(fading).to_have_count(0, timeout=5000)
        await expect(alice.get_by_test_id("caption")).to_have_count(2)  # the others stay
        await alice.evaluate("() => { window.salon.captions.fadeMs = 60000; }")

        # Off by keyboard: nothing is drawn or announced, and the choice is remembered.
        await tab_to(bob, "btn-captions")
        await bob.keyboard.press("Enter")
        toggle = bob.get_by_test_id("btn-captions")
        await expect(toggle).to_have_attribute("aria-pressed", "false")
        await expect(toggle).to_be_focused()
        await expect(bob.get_by_test_id("captions")).to_be_hidden()
        await say("u5", "Not for Bob's eyes.")
        await sdk_has(bob, "u5")
        await expect(bob.get_by_test_id("caption")).to_have_count(0)
        await expect(announce).not_to_contain_text("Not for Bob")
        await expect(alice.get_by_test_id("caption").filter(has_text="Not for Bob's eyes.")).to_have_count(1)
        await shoot({"bob": bob}, "2-captions-off")
        assert await bob.evaluate("() => localStorage.getItem('salon.captions')") == "off"
        await bob.reload()
        await bob_person.wait_state("joined")
        await expect(toggle).to_have_attribute("aria-pressed", "false")
        await say("u6", "Still off after a reload.")
        await sdk_has(bob, "u6")
        await expect(bob.get_by_test_id("caption")).to_have_count(0)

        # On again with Space: the next captions show.
        await tab_to(bob, "btn-captions")
        await bob.keyboard.press(" ")
        await expect(toggle).to_have_attribute("aria-pressed", "true")
        await say("u7", "And we are back", partial=True)
        await expect(bob.get_by_test_id("caption")).to_have_text(["Alice: And we are back"])
        await say("u7", "And we are back.")
        await expect(bob.get_by_test_id("caption")).to_have_text(["Alice: And we are back."])
        await expect(bob.get_by_test_id("captions-announce")).to_have_text("Alice: And we are back.")
        assert await bob.evaluate("() => localStorage.getItem('salon.captions')") == "on"
    finally:
        await bot.close()

    assert dialogs == []
    for page in (bob, alice):
        assert await page.evaluate("() => window.salon.errors") == []


SDK_CHECK = """async () => {
    const { SalonClient } = await import("/sdk/v1/salon.js");
    const client = new SalonClient("ws://unused", "token", {transcriptLimit: 3});
    client.joined = {peer_id: "me"};
    client.peers = new Map([["p1", {peer_id: "p1", transcribed: true}]]);
    const changes = [];
    client.on("transcripts.changed", ({transcript, transcripts, interim}) =>
        changes.push([transcript && transcript.id, transcripts.map((t) => t.id), interim.map((t) => t.transcript)]));
    const caption = (id, transcript, partial, peerId = "p1") => client._receive(JSON.stringify({
        type: "event", event: "transcript",
        data: {id, peerId, userId: "u", customParticipantId: null, name: "Alice", transcript,
               isPartialTranscript: partial, timestamp: "2026-01-01T00:00:00Z"}}));
    const event = (name, data) => client._receive(JSON.stringify({type: "event", event: name, data}));
    const finals = () => client.transcripts.map((t) => `${t.id}=${t.transcript}`);
    const out = {available: client.captionsAvailable};
    caption("a", "Hel", true);
    caption("a", "Hello", true);
    out.interim = [...client.interimTranscripts.values()].map((t) => t.transcript);
    caption("a", "Hello.", false);
    caption("a", "Hello, corrected.", false);    // a final again, no interim: replaces it
    out.afterA = {finals: finals(), interim: client.interimTranscripts.size};
    caption("a", "Reused", true);                // the id again, after its final: a new utterance
    caption("a", "Reused id.", false);
    out.reused = finals();
    for (const id of ["b", "c", "d"]) caption(id, id.toUpperCase(), false);
    out.bounded = finals();
    caption("e", "left halfway", true);
    caption("f", "mine", true, "me");
    event("peer.left", {peer_id: "p1", reason: "left"});
    out.afterLeft = [...client.interimTranscripts.keys()];
    out.availableAfterLeft = client.captionsAvailable;
    event("meeting.changed", {peer_id: "me2", resume_token: "r", status: "joined",
                              self: {peer_id: "me2", transcribed: true}, room: {peers: []}});
    out.afterMove = {finals: finals(), interim: client.interimTranscripts.size,
                     available: client.captionsAvailable};
    out.changes = changes;
    return out;
}"""


async def test_the_sdk_keeps_finals_and_replaces_interims(browsers: Browsers,
                                                          web_server: SalonServer) -> None:
    person = await browsers.person("sdk")
    await person.page.goto(f"{web_server.url}/meet")  # no token: the page stops, the SDK loads
    out = await person.page.evaluate(SDK_CHECK)
    assert out["available"] is True
    assert out["interim"] == ["Hello"]
    assert out["afterA"] == {"finals": ["a=Hello, corrected."], "interim": 0}
    assert out["reused"] == ["a=Hello, corrected.", "a=Reused id."]
    assert out["bounded"] == ["b=B", "c=C", "d=D"]  # transcriptLimit 3: the oldest go
    assert out["afterLeft"] == ["f"]  # Alice left: her interim will never be final
    assert out["availableAfterLeft"] is False
    assert out["afterMove"] == {"finals": [], "interim": 0, "available": True}
    assert out["changes"] == [
        ["a", [], ["Hel"]], ["a", [], ["Hello"]], ["a", ["a"], []], ["a", ["a"], []],
        ["a", ["a"], ["Reused"]], ["a", ["a", "a"], []],
        ["b", ["a", "a", "b"], []], ["c", ["a", "b", "c"], []], ["d", ["b", "c", "d"], []],
        ["e", ["b", "c", "d"], ["left halfway"]], ["f", ["b", "c", "d"], ["left halfway", "mine"]],
        [None, ["b", "c", "d"], ["mine"]], [None, [], []]]
