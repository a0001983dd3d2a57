"""The meeting page without media: serving, pre-join, joining, chat, polls, host actions."""

import re
from pathlib import Path

import httpx
import pytest

from salon.client import AdminClient
from tests.e2e.browser import Browsers, host_and_guest
from tests.live import admin_for
from tests.servers import SalonServer, cleanup, start


async def test_sdk_and_page_are_served(web_server: SalonServer, web_admin: AdminClient) -> None:
    async with httpx.AsyncClient(base_url=web_server.url, timeout=10) as http:
        page = await http.get("/meet")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert "/meet/app.js" in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
        for path in ("/sdk/v1/salon.js", "/sdk/v1/media.js", "/sdk/v1/ui/dom.js",
                     "/meet/app.js", "/meet/meet.css"):
            response = await http.get(path)
            assert response.status_code == 200, path
            assert response.headers["cache-control"] == "no-cache", path
            etag = response.headers["etag"]
            again = await http.get(path, headers={"If-None-Match": etag})
            assert again.status_code == 304, path
        assert (await http.get("/sdk/v1/nope.js")).status_code == 404
        assert (await http.get("/sdk/v1/../../settings.py")).status_code == 404
        # What the page needs before joining: only with a valid participant token.
        assert (await http.get("/meet/ui")).status_code == 401
        assert (await http.get("/meet/ui", headers={"Authorization": "Bearer nope"})).status_code == 401
        meeting = await web_admin.create_meeting(title="Served")
        person = await web_admin.add_participant(meeting["id"], "ada", "group_call_host", name="Ada")
        ui = await http.get("/meet/ui", headers={"Authorization": f"Bearer {person['token']}"})
        assert ui.status_code == 200, ui.text
        data = ui.json()["data"]
        assert data["meeting"]["title"] == "Served"
        assert data["participant"]["name"] == "Ada"
        assert data["preset"]["name"] == "group_call_host"
        assert data["preset"]["view_type"] == "GROUP_CALL"
        assert data["preset"]["max_video_streams"] == {"desktop": 6, "mobile": 6}
        assert data["preset"]["design_tokens"]["colors"]["brand"]["500"].startswith("#")


async def test_prejoin_join_and_chat_between_two_browsers(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    meeting = await web_admin.create_meeting(title="Chat check")
    ada = await web_admin.add_participant(meeting["id"], "ada", "group_call_host", name="Ada")
    bob = await web_admin.add_participant(meeting["id"], "bob", "group_call_participant", name="Bob")
    first, second = await browsers.person("ada"), await browsers.person("bob")

    # Ada goes through the pre-join screen, renames herself, and joins with media off.
    await first.open(web_server.url, ada["token"], audio=0, video=0)
    await first.wait_state("prejoin")
    page = first.page
    assert await page.get_by_test_id("prejoin-title").inner_text() == "Chat check"
    assert await page.get_by_test_id("prejoin-name").input_value() == "Ada"
    avatar = "() => [document.getElementById('preview-avatar').textContent, " \
             "document.getElementById('preview-avatar').style.getPropertyValue('--hue')]"
    before = await page.evaluate(avatar)
    await page.get_by_test_id("prejoin-name").fill("Ada L.")
    # the preview's initials and colour follow the name, as the tiles will show it
    after = await page.evaluate(avatar)
    assert after[0] == "AL" and after[1] != before[1]
    assert after == await page.evaluate("""async () => {
        const {hue} = await import("/sdk/v1/ui/dom.js");
        return ["AL", String(hue("Ada L."))]; }""")
    await page.get_by_test_id("prejoin-join").click()
    await first.wait_state("joined")

    # Bob joins at once.
    await second.open(web_server.url, bob["token"], autojoin=1, audio=0, video=0)
    await second.wait_state("joined")

    # Each sees the other's tile, named.
    await first.wait("() => [...document.querySelectorAll('[data-testid=tile]')]"
                     ".some((t) => t.dataset.name === 'Bob')")
    await second.wait("() => [...document.querySelectorAll('[data-testid=tile]')]"
                      ".some((t) => t.dataset.name === 'Ada L.')")
    # Video off: an avatar with initials, not a frozen frame.
    tile = second.page.locator("[data-testid=tile][data-name='Ada L.']")
    assert await tile.get_attribute("data-video") == "off"
    assert await tile.get_by_test_id("avatar").inner_text() == "AL"

    # A public message round-trips.
    await second.page.get_by_test_id("tab-chat").click()
    await second.page.get_by_test_id("chat-input").fill("hello from bob")
    await second.page.get_by_test_id("chat-send").click()
    await first.wait("() => [...document.querySelectorAll('[data-testid=chat-message]')]"
                     ".some((m) => m.dataset.from === 'Bob' && m.textContent.includes('hello from bob'))")
    assert await first.page.get_by_test_id("chat-unread").inner_text() == "1"
    await first.page.get_by_test_id("tab-chat").click()
    await first.page.get_by_test_id("chat-input").fill("hi bob")
    await first.page.get_by_test_id("chat-input").press("Enter")
    await second.wait("() => [...document.querySelectorAll('[data-testid=chat-message]')]"
                      ".some((m) => m.dataset.from === 'Ada L.' && m.textContent.includes('hi bob'))")

    # Text is text: markup in a message (or a name) is never run.
    await second.page.get_by_test_id("chat-input").fill("<img src=x onerror=\"window.pwned=1\">")
    await second.page.get_by_test_id("chat-send").click()
    await first.page.locator("[data-testid=chat-message]", has_text="<img src=x").wait_for()
    assert await first.page.evaluate("() => window.pwned") is None
    assert await first.page.locator("[data-testid=chat-messages] img").count() == 0

    # A file, from the attach button; the other side can fetch it (with the token).
    await first.page.get_by_test_id("chat-file").set_input_files(
        files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"agenda: lunch"}])
    link = second.page.locator("[data-testid=chat-file-link]", has_text="notes.txt")
    await link.wait_for()
    async with second.page.expect_download() as download_info:
        await link.click()
    download = await download_info.value
    assert download.suggested_filename == "notes.txt"
    assert Path(await download.path()).read_bytes() == b"agenda: lunch"

    # A poll: the host creates it, the participant votes, the host sees the count.
    await first.page.get_by_test_id("tab-polls").click()
    await first.page.get_by_test_id("poll-question").fill("Lunch?")
    await first.page.get_by_test_id("poll-options").fill("Soup, Salad")
    await first.page.get_by_test_id("poll-create").click()
    await second.page.get_by_test_id("tab-polls").click()
    # group_call_participant may not create polls: no form.
    assert await second.page.get_by_test_id("poll-form").count() == 0
    vote = second.page.get_by_test_id("poll").get_by_test_id("poll-option").nth(1).get_by_test_id("poll-vote")
    await vote.click()
    await first.wait("() => { const o = document.querySelectorAll('[data-testid=poll] [data-testid=poll-option]');"
                     " return o.length === 2 && o[1].querySelector('[data-testid=poll-count]').textContent === '1'; }")

    # The host's participant list offers actions the participant's does not.
    await first.page.get_by_test_id("tab-participants").click()
    bob_row = first.page.locator("[data-testid=participant][data-name='Bob']")
    await bob_row.get_by_test_id("action-kick").wait_for()
    await second.page.get_by_test_id("tab-participants").click()
    ada_row = second.page.locator("[data-testid=participant][data-name='Ada L.']")
    await ada_row.wait_for()
    assert await ada_row.get_by_test_id("action-kick").count() == 0

    # The host pins Bob: his tile is the large one, for both of them (docs/meeting-page.md
    # "Layouts").
    await bob_row.get_by_test_id("action-pin").click()
    for person in (first, second):
        await person.wait("() => { const t = document.querySelector(\"[data-testid=tile][data-name='Bob']\");"
                          " return t.dataset.pinned === 'true' && t.dataset.role === 'main'; }")

    # The host removes Bob (confirming first): his page says so.
    await bob_row.get_by_test_id("action-kick").click()
    await first.page.get_by_test_id("confirm-ok").click()
    await second.wait_state("kicked")
    await first.wait("() => !document.querySelector(\"[data-testid=tile][data-name='Bob']\")")

    # Leaving ends the page cleanly.
    await first.page.get_by_test_id("btn-leave").click()
    await first.wait_state("left")


async def test_bad_token_shows_an_explanation(web_server: SalonServer, browsers: Browsers) -> None:
    person = await browsers.person("nobody")
    await person.open(web_server.url, "not-a-token")
    await person.wait_state("error")
    assert "link" in (await person.page.get_by_test_id("notice-title").inner_text()).lower()


@pytest.mark.parametrize("preset", ["webinar_viewer"])
async def test_controls_explain_why_they_are_disabled(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers, preset: str) -> None:
    meeting = await web_admin.create_meeting(title="Webinar")
    viewer = await web_admin.add_participant(meeting["id"], "vic", preset, name="Vic")
    person = await browsers.person("viewer")
    await person.open(web_server.url, viewer["token"], autojoin=1)
    await person.wait_state("joined")
    page = person.page
    for testid in ("btn-mic", "btn-cam", "btn-screen"):
        button = page.get_by_test_id(testid)
        assert await button.is_disabled(), testid
        assert "stage" in (await button.get_attribute("title")).lower(), testid
    stage = page.get_by_test_id("btn-stage")
    assert await stage.is_visible()
    assert await stage.get_attribute("data-stage-status") == "OFF_STAGE"
    # A viewer has no participant list (show_participant_list is off for webinar_viewer).
    assert not await page.get_by_test_id("tab-participants").is_visible()
    await stage.click()
    await person.wait("() => document.querySelector('[data-testid=btn-stage]').dataset.stageStatus"
                      " === 'REQUESTED_TO_JOIN_STAGE'")


async def test_waiting_guest_rejected_and_a_dropped_socket_resumed(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    two = await host_and_guest(web_admin, browsers, "Door", waiting_room=True)
    host, guest = two.host, two.guest
    await host.open(web_server.url, two.host_token, autojoin=1, audio=0, video=0)
    await host.wait_state("joined")
    await guest.open(web_server.url, two.guest_token, autojoin=1, audio=0, video=0)
    await guest.wait_state("waiting")
    guest_id = await guest.peer_id()

    await host.page.get_by_test_id("tab-participants").click()
    row = host.page.locator(f"[data-testid=waiting-person][data-peer-id='{guest_id}']")
    await row.get_by_test_id("action-reject").click()
    await guest.wait_state("rejected")
    await host.wait("(id) => !document.querySelector(`[data-testid=waiting-person][data-peer-id='${id}']`)",
                    guest_id)

    # Someone else gives up waiting: gone from the host's list too.
    other_p = await web_admin.add_participant(two.meeting["id"], "ola", two.guest_preset,
                                              name="Ola")
    await guest.open(web_server.url, other_p["token"], autojoin=1, audio=0, video=0)
    await guest.wait_state("waiting")
    other_id = await guest.peer_id()
    await host.page.locator(f"[data-testid=waiting-person][data-peer-id='{other_id}']").wait_for()
    await guest.page.get_by_test_id("waiting-leave").click()
    await guest.wait_state("left")
    await host.wait("(id) => !document.querySelector(`[data-testid=waiting-person][data-peer-id='${id}']`)",
                    other_id)

    # The host's socket drops (as a network would: no close handshake, code 1006): the
    # SDK resumes the same peer, and the page goes on working.
    host_id = await host.peer_id()
    await host.page.evaluate("""() => {
        const client = window.salon.client;
        window.resumed = false;
        client.on("resumed", () => { window.resumed = true; });
        const ws = client.ws;
        ws.onclose = null;
        ws.close();
        client._dropped(ws, 1006, "");
    }""")
    await host.wait("() => window.resumed")
    assert await host.peer_id() == host_id
    assert await host.state() == "joined"
    await host.page.get_by_test_id("tab-chat").click()
    await host.page.get_by_test_id("chat-input").fill("still here")
    await host.page.get_by_test_id("chat-send").click()
    await host.wait("() => [...document.querySelectorAll('[data-testid=chat-message]')]"
                    ".some((m) => m.textContent.includes('still here'))")
    assert await host.page.evaluate("() => window.salon.errors") == []


async def test_design_tokens_and_a_fixed_name(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    meeting = await web_admin.create_meeting(title="Branded")
    preset = f"brand_{meeting['id'][:8]}"
    await web_admin.create_preset(preset, permissions={"can_edit_display_name": False}, ui={
        "design_tokens": {"theme": "light", "border_radius": "sharp", "spacing_base": 6,
                          "colors": {"brand": {"500": "#123456"}}}})
    person_p = await web_admin.add_participant(meeting["id"], "fay", preset, name="Fay")
    person = await browsers.person("fay")
    await person.open(web_server.url, person_p["token"], audio=0, video=0, name="Mallory")
    await person.wait_state("prejoin")
    page = person.page
    style = await page.evaluate("""() => {
        const css = getComputedStyle(document.documentElement);
        return {brand: css.getPropertyValue('--brand-500').trim(), radius: css.getPropertyValue('--radius').trim(),
                space: css.getPropertyValue('--space').trim(), theme: document.documentElement.dataset.theme,
                join: getComputedStyle(document.querySelector('[data-testid=prejoin-join]')).backgroundColor};
    }""")
    assert style == {"brand": "#123456", "radius": "0px", "space": "6px", "theme": "light",
                     "join": "rgb(18, 52, 86)"}
    # The preset does not let her pick a name: no field, and a name in the link is ignored.
    assert not await page.get_by_test_id("prejoin-name").is_visible()
    await page.get_by_test_id("prejoin-join").click()
    await person.wait_state("joined")
    assert await page.evaluate("() => window.salon.client.self.name") == "Fay"


SDK_CALLS = """async (other) => {
  const c = window.salon.client;
  const calls = {
    "state": () => c.state(), "ping": () => c.ping(), "self.rename": () => c.rename("Ada B."),
    "self.media": () => c.setMedia({audio: false}), "peer.pin": () => c.pin(other),
    "broadcast": () => c.broadcast("wave", {x: 1}),
    "waitlist.list": () => c.waitlist.list(), "waitlist.admit": () => c.waitlist.admit([other]),
    "waitlist.reject": () => c.waitlist.reject([other]),
    "stage.request": () => c.stage.request(), "stage.cancel_request": () => c.stage.cancelRequest(),
    "stage.list_requests": () => c.stage.listRequests(), "stage.grant": () => c.stage.grant([other]),
    "stage.deny": () => c.stage.deny([other]), "stage.join": () => c.stage.join(),
    "stage.leave": () => c.stage.leave(), "stage.kick": () => c.stage.kick([other]),
    "host.disable_media": () => c.host.disableMedia([other], ["audio"]),
    "host.allow_media": () => c.host.allowMedia([other], ["audio"]),
    "host.mute_all": () => c.host.muteAll(true), "host.disable_all_video": () => c.host.disableAllVideo(),
    "host.update_permissions": () => c.host.updatePermissions([other], {polls: {can_create: true}}),
    "chat.send": () => c.chat.send("hi"), "chat.history": () => c.chat.history({limit: 5}),
    "chat.pinned": () => c.chat.pinned(5),
    "chat.edit+pin+unpin+delete": async () => {
      const m = await c.chat.send("to edit");
      await c.chat.edit(m.id, {text: "edited"}); await c.chat.pin(m.id); await c.chat.unpin(m.id);
      return c.chat.delete(m.id); },
    "chat.send_custom": () => c.chat.sendCustom({kind: "sticker"}),
    "chat.upload+send_file": async () => {
      const f = await c.chat.uploadFile(new Blob(["x"], {type: "text/plain"}), "x.txt");
      return c.chat.sendFile("file", f.id); },
    "chat.upload via an entry URL with a slash and a query": async () => {
      const entry = c.entryUrl;
      c.entryUrl = `${entry}/?from=test`;  // how a page may have been given it
      try { return await c.chat.uploadFile(new Blob(["y"], {type: "text/plain"}), "y.txt"); }
      finally { c.entryUrl = entry; } },
    "poll.create+vote+list": async () => {
      const p = await c.polls.create("Q?", ["a", "b"]); await c.polls.vote(p.id, 0); return c.polls.list(); },
    "qna.ask+list": async () => { await c.qna.ask("Why?"); return c.qna.list(); },
    "qna.answer+dismiss+upvote": async () => {
      const q = await c.qna.ask("How?");
      await c.qna.upvote(q.id).catch((e) => { if (e.code !== "CONFLICT" && e.code !== "FORBIDDEN") throw e; });
      await c.qna.answer(q.id, "So."); const r = await c.qna.ask("When?"); return c.qna.dismiss(r.id); },
    "plugin.list": () => c.plugins.list(), "plugin.activate": () => c.plugins.activate("nope"),
    "plugin.deactivate": () => c.plugins.deactivate("nope"), "plugin.message": () => c.plugins.message("nope", {}),
    "plugin.state.set": () => c.plugins.setState("nope", "k", 1), "plugin.state.get": () => c.plugins.getState("nope"),
    "store.*": async () => {
      await c.stores.subscribe("s"); await c.stores.set("s", "a", {x: 1}); await c.stores.update("s", "a", {y: 2});
      await c.stores.bulkSet("s", {b: 1, c: 2}); await c.stores.get("s", "a"); await c.stores.getAll("s");
      await c.stores.delete("s", "a"); await c.stores.bulkDelete("s", ["b"]); return c.stores.unsubscribe("s"); },
    "connected.list": () => c.connected.list(), "connected.timer": () => c.connected.timer(null),
    "media.subscribe": () => c.media.subscribe({mode: "auto"}), "media.stats": () => c.media.serverStats(),
    "host.kick": () => c.host.kick([other]),
  };
  const out = {};
  for (const [name, call] of Object.entries(calls)) {
    try { await call(); out[name] = "ok"; } catch (e) { out[name] = (e.code || "") + " " + (e.reason || String(e)); }
  }
  return out;
}"""


async def test_every_sdk_request_is_understood(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    """Each SDK method reaches the server by its protocol name with valid data: the
    server may refuse one (FORBIDDEN, NOT_FOUND, CONFLICT: the state does not allow it),
    never misunderstand it (UNKNOWN_TYPE, BAD_MESSAGE, INVALID for the data's shape)."""
    two = await host_and_guest(web_admin, browsers, "Everything", names=("Ada", "Bob"))
    host, guest = two.host, two.guest
    await host.open(web_server.url, two.host_token, autojoin=1, audio=0, video=0)
    await guest.open(web_server.url, two.guest_token, autojoin=1, audio=0, video=0)
    await host.wait_state("joined")
    await guest.wait_state("joined")
    outcome = await host.page.evaluate(SDK_CALLS, await guest.peer_id())
    # A schema error reads "field: problem"; INVALID for a rule of the room reads as prose.
    misunderstood = {name: code for name, code in outcome.items()
                     if code.startswith(("UNKNOWN_TYPE", "BAD_MESSAGE"))
                     or re.match(r"INVALID [\w.]+: ", code)}
    assert not misunderstood, misunderstood
    assert outcome["host.kick"] == "ok" and outcome["chat.send"] == "ok"
    assert outcome["chat.upload+send_file"] == "ok"
    assert outcome["chat.upload via an entry URL with a slash and a query"] == "ok"
    assert outcome["poll.create+vote+list"] == "ok" and outcome["store.*"] == "ok"
    await guest.wait_state("kicked")


async def test_a_server_without_media(browsers: Browsers) -> None:
    """`SALON_MEDIA_BACKEND=none`: the meeting works, the media controls explain why not."""
    salon = start("", env={"SALON_MEDIA_BACKEND": "none"})
    try:
        async with admin_for(salon) as admin:
            meeting = await admin.create_meeting(title="Text only")
            ada = await admin.add_participant(meeting["id"], "ada", "group_call_host", name="Ada")
        person = await browsers.person("ada")
        await person.open(salon.url, ada["token"], autojoin=1)
        await person.wait_state("joined")
        page = person.page
        for testid in ("btn-mic", "btn-cam", "btn-screen"):
            assert await page.get_by_test_id(testid).is_disabled(), testid
            assert "off on this server" in await page.get_by_test_id(testid).get_attribute("title")
        assert await page.evaluate("() => window.salon.media.available") is False
        assert await page.evaluate("() => window.salon.errors") == []
        await page.get_by_test_id("tab-chat").click()
        await page.get_by_test_id("chat-input").fill("no video today")
        await page.get_by_test_id("chat-send").click()
        await page.locator("[data-testid=chat-message]", has_text="no video today").wait_for()
    finally:
        cleanup(salon)
