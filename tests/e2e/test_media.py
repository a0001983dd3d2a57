"""Media in real Chromium (fake camera and microphone) through salon's SFU (issue 5 §6).

Counters come from each page's getStats (`window.salon.remoteStats()`): inbound-rtp
`framesDecoded` for video, `packetsReceived` for audio, keyed by the sender's peer id.
"""

import asyncio
import time

import pytest
from playwright.async_api import expect

from salon.client import AdminClient, RealtimeClient, ws_url
from salon.client.media import MediaSession
from salon.client.media.sources import ToneSource
from tests.e2e.browser import Browsers, Person, host_and_guest, rising
from tests.servers import SalonServer

#: It measures frame rates, bitrates or timings: it runs alone (scripts/test-netns).
pytestmark = pytest.mark.solo

TILE = "[data-testid=tile][data-peer-id='{}']"


async def joined(person: Person, base_url: str, token: str, publishing: tuple[str, ...] = ("audio", "video"),
                 **flags: str | int) -> str:
    """Open the page with autojoin, wait until it publishes what it should; its peer id."""
    await person.open(base_url, token, autojoin=1, **flags)
    await person.wait_state("joined", timeout=30)
    for kind in publishing:
        await person.wait("(k) => window.salon.media && window.salon.media.published[k]", kind,
                          timeout=30)
    return await person.peer_id()



async def ann_and_ben(web_server: SalonServer, web_admin: AdminClient, browsers: Browsers,
                      title: str) -> tuple[Person, Person, str]:
    """Two participants in their browsers, Ben already receiving Ann's video; Ann's id."""
    meeting = await web_admin.create_meeting(title=title)
    ann_p = await web_admin.add_participant(meeting["id"], "ann", "group_call_participant", name="Ann")
    ben_p = await web_admin.add_participant(meeting["id"], "ben", "group_call_participant", name="Ben")
    ann, ben = await browsers.person("ann"), await browsers.person("ben")
    ann_id = await joined(ann, web_server.url, ann_p["token"])
    await joined(ben, web_server.url, ben_p["token"])
    await rising(ben, ann_id, "video")
    return ann, ben, ann_id

async def test_three_browsers_decode_each_others_video_and_audio(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    meeting = await web_admin.create_meeting(title="Three")
    people, ids = [], []
    for name in ("ann", "ben", "cat"):
        participant = await web_admin.add_participant(meeting["id"], name, "group_call_participant",
                                                      name=name.title())
        person = await browsers.person(name)
        ids.append(await joined(person, web_server.url, participant["token"]))
        people.append(person)
    checks = [rising(person, other, kind, by=20 if kind == "video" else 50, timeout=30)
              for person, me in zip(people, ids, strict=True)
              for other in ids if other != me
              for kind in ("video", "audio")]
    await asyncio.gather(*checks)
    # Every page shows the two others' videos playing in their tiles.
    for person, me in zip(people, ids, strict=True):
        for other in ids:
            if other != me:
                await person.wait("(s) => document.querySelector(s).dataset.video === 'on'",
                                  TILE.format(other))

    # Manual subscription: Ann keeps only Ben's tracks; Cat's end at hers, Ben's go on.
    ann, ben_id, cat_id = people[0], ids[1], ids[2]
    reply = await ann.page.evaluate(
        "(ben) => window.salon.media.subscribe({mode: 'manual', trackIds: [`${ben}:video`, `${ben}:audio`]})",
        ben_id)
    assert sorted(reply["track_ids"]) == [f"{ben_id}:audio", f"{ben_id}:video"]
    await ann.wait("(cat) => !window.salon.media.tracks().some((t) => t.peerId === cat)", cat_id)
    await ann.wait("(s) => document.querySelector(s).dataset.video === 'off'", TILE.format(cat_id))
    await rising(ann, ben_id, "video")


async def test_host_admits_a_waiting_participant_who_then_sees_and_is_seen(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    two = await host_and_guest(web_admin, browsers, "Lobby", waiting_room=True)
    host, guest = two.host, two.guest
    host_id = await joined(host, web_server.url, two.host_token)

    await guest.open(web_server.url, two.guest_token, autojoin=1)
    await guest.wait_state("waiting", timeout=30)
    guest_id = await guest.peer_id()

    # The host sees Gus waiting in the participants panel and admits him.
    await host.page.get_by_test_id("tab-participants").click()
    row = host.page.locator(f"[data-testid=waiting-person][data-peer-id='{guest_id}']")
    await row.get_by_test_id("action-admit").click()
    await guest.wait_state("joined", timeout=30)
    await guest.wait("() => window.salon.media.published.video && window.salon.media.published.audio",
                     timeout=30)
    await asyncio.gather(
        rising(guest, host_id, "video"), rising(guest, host_id, "audio", by=50),
        rising(host, guest_id, "video"), rising(host, guest_id, "audio", by=50))
    await host.wait("(s) => document.querySelector(s).dataset.video === 'on'", TILE.format(guest_id))


async def test_webinar_viewer_requests_the_stage_and_its_video_reaches_the_others(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    meeting = await web_admin.create_meeting(title="Webinar")
    presenter_p = await web_admin.add_participant(meeting["id"], "pia", "webinar_presenter", name="Pia")
    viewer_p = await web_admin.add_participant(meeting["id"], "vic", "webinar_viewer", name="Vic")
    other_p = await web_admin.add_participant(meeting["id"], "oli", "webinar_viewer", name="Oli")
    presenter, viewer, other = (await browsers.person("presenter"), await browsers.person("viewer"),
                                await browsers.person("other"))
    presenter_id = await joined(presenter, web_server.url, presenter_p["token"])
    viewer_id = await joined(viewer, web_server.url, viewer_p["token"], publishing=())
    await joined(other, web_server.url, other_p["token"], publishing=())
    # Viewers receive the presenter; they publish nothing yet.
    await rising(viewer, presenter_id, "video")
    assert not await viewer.page.evaluate("() => Object.keys(window.salon.media.published).length")

    await viewer.page.get_by_test_id("btn-stage").click()
    await presenter.page.get_by_test_id("tab-participants").click()
    request = presenter.page.locator(f"[data-testid=stage-request][data-peer-id='{viewer_id}']")
    await request.get_by_test_id("action-stage-grant").click()
    await viewer.wait("() => document.querySelector('[data-testid=btn-stage]').dataset.stageStatus"
                      " === 'ACCEPTED_TO_JOIN_STAGE'")
    await viewer.page.get_by_test_id("btn-stage").click()  # "Join stage"
    await viewer.wait("() => document.querySelector('[data-testid=btn-stage]').dataset.stageStatus"
                      " === 'ON_STAGE'")
    # On stage the viewer turns the camera and microphone on (joining the stage keeps
    # them as they were: off).
    await expect(viewer.page.get_by_test_id("btn-cam")).to_be_enabled()
    await viewer.page.get_by_test_id("btn-cam").click()
    await viewer.page.get_by_test_id("btn-mic").click()
    await viewer.wait("() => window.salon.media.published.video && window.salon.media.published.audio",
                      timeout=30)
    await asyncio.gather(rising(presenter, viewer_id, "video"), rising(other, viewer_id, "video"),
                         rising(presenter, viewer_id, "audio", by=50))
    await other.wait("(s) => document.querySelector(s).dataset.video === 'on'", TILE.format(viewer_id))

    # Leaving the stage stops its media: the SDK unpublishes when can_publish turns false.
    await viewer.page.get_by_test_id("btn-stage").click()  # "Leave stage"
    await viewer.wait("() => !Object.keys(window.salon.media.published).length")
    # Off the stage, a viewer is no tile but one of the "N watching" (docs/meeting-page.md
    # "Layouts").
    await other.wait("(s) => !document.querySelector(s)", TILE.format(viewer_id))
    await expect(other.page.get_by_test_id("viewers-count")).to_have_text("2 watching")
    assert await viewer.page.get_by_test_id("btn-cam").is_disabled()


async def test_host_disables_video_and_it_stops_arriving(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    two = await host_and_guest(web_admin, browsers, "Quiet")
    host, guest = two.host, two.guest
    await joined(host, web_server.url, two.host_token)
    guest_id = await joined(guest, web_server.url, two.guest_token)
    await rising(host, guest_id, "video")
    await host.wait("(s) => document.querySelector(s).dataset.video === 'on'", TILE.format(guest_id))
    mid = (await host.remote_stats())[guest_id]["video"]["mid"]

    await host.page.get_by_test_id("tab-participants").click()
    row = host.page.locator(f"[data-testid=participant][data-peer-id='{guest_id}']")
    clicked = time.monotonic()
    await row.get_by_test_id("action-video-off").click()

    # The tile shows the avatar instead of a frozen frame.
    await host.wait("(s) => document.querySelector(s).dataset.video === 'off'", TILE.format(guest_id),
                    timeout=10)
    assert await host.page.locator(TILE.format(guest_id)).get_by_test_id("avatar").is_visible()
    # Frames stop: the m-line that carried the video decodes nothing new for 1.5 s.
    deadline = clicked + 15
    last, still_since = await host.mid_counter(mid, "video"), time.monotonic()
    while time.monotonic() - still_since < 1.5:
        assert time.monotonic() < deadline, "video kept arriving after the host disabled it"
        await asyncio.sleep(0.25)
        now = await host.mid_counter(mid, "video")
        if now != last:
            last, still_since = now, time.monotonic()
    stopped_after = still_since - clicked
    print(f"video stopped {stopped_after:.2f} s after the click")
    # Issue 5: within 1-2 s. Measured 0.13-0.15 s on a quiet box; sampling every 0.25 s
    # through a busy box's page.evaluate can only make it look later.
    assert stopped_after < 2.5, f"video stopped {stopped_after:.1f} s after the click"
    # The guest's own page: camera off, and it may turn it on again (not locked).
    await guest.wait("() => document.querySelector('[data-testid=btn-cam]').getAttribute('aria-pressed')"
                     " === 'false'")
    assert not await guest.page.get_by_test_id("btn-cam").is_disabled()
    # Audio still flows.
    await rising(host, guest_id, "audio", by=50)


async def test_camera_toggle_and_screenshare(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    ann, ben, ann_id = await ann_and_ben(web_server, web_admin, browsers, "Slides")

    # Camera off from Ann's own toolbar: Ben's tile shows her initials.
    await ann.page.get_by_test_id("btn-cam").click()
    await ben.wait("(s) => document.querySelector(s).dataset.video === 'off'", TILE.format(ann_id))
    assert await ann.page.get_by_test_id("btn-cam").get_attribute("aria-pressed") == "false"
    # And on again: frames flow again.
    await ann.page.get_by_test_id("btn-cam").click()
    await ben.wait("(s) => document.querySelector(s).dataset.video === 'on'", TILE.format(ann_id))
    await rising(ben, ann_id, "video")

    # Screenshare: a large tile at Ben's, decoding.
    await ann.page.get_by_test_id("btn-screen").click()
    await ann.wait("() => window.salon.media.published.screenshare", timeout=20)
    await ben.page.locator(f"[data-testid=screen-tile][data-peer-id='{ann_id}']").wait_for()
    await rising(ben, ann_id, "screenshare", by=3, over=1.0)
    await ann.page.get_by_test_id("btn-screen").click()  # "Stop sharing"
    await ben.wait("(s) => !document.querySelector(s)",
                   f"[data-testid=screen-tile][data-peer-id='{ann_id}']")


async def test_a_python_peer_speaking_is_outlined_and_heard(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    """Chromium's fake microphone beeps, which is no voice to the active-speaker rule; a
    Python peer's tone is (aiortc sets levels, never the VAD bit). It also checks the
    page against another client: audio only, no video, so its tile shows initials."""
    meeting = await web_admin.create_meeting(title="Speaker")
    ann_p = await web_admin.add_participant(meeting["id"], "ann", "group_call_participant", name="Ann")
    bot_p = await web_admin.add_participant(meeting["id"], "bot", "group_call_participant",
                                            name="Tone Bot")
    ann = await browsers.person("ann")
    await joined(ann, web_server.url, ann_p["token"], audio=0, publishing=("video",))
    bot = await RealtimeClient.join(ws_url(web_server.url), bot_p["token"])
    session = None
    try:
        session = await MediaSession.attach(bot, ice_hosts=["127.0.0.1"])
        await session.publish("audio", ToneSource())
        await rising(ann, bot.peer_id, "audio", by=50)
        tile = TILE.format(bot.peer_id)
        await ann.wait("(s) => document.querySelector(s).dataset.speaking === 'true'", tile)
        assert await ann.page.locator(tile).get_attribute("data-video") == "off"
        assert await ann.page.locator(tile).get_by_test_id("avatar").inner_text() == "TB"
    finally:
        if session is not None:
            await session.close()
        await bot.leave()


async def test_moved_to_a_breakout_room_media_follows(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    two = await host_and_guest(web_admin, browsers, "Plenary")
    host, guest = two.host, two.guest
    await joined(host, web_server.url, two.host_token)
    old_guest_id = await joined(guest, web_server.url, two.guest_token)

    # The host opens a breakout room, sends Gus there, then goes there too.
    room = await host.page.evaluate("""async (guest) => {
        const c = window.salon.client;
        const [room] = await c.connected.create(["Room A"]);
        await c.connected.move(room.id, {peerIds: [guest]});
        return room; }""", old_guest_id)
    await guest.wait("(id) => window.salon.client.meetingId === id", room["id"])
    await guest.wait("() => document.querySelector('[data-testid=meeting-title]').textContent === 'Room A'")
    await host.page.evaluate("(id) => window.salon.client.connected.switch(id)", room["id"])
    await host.wait("(id) => window.salon.client.meetingId === id", room["id"])
    host_id, guest_id = await host.peer_id(), await guest.peer_id()
    assert guest_id != old_guest_id
    # Both publish again in the new room and see each other there.
    for person in (host, guest):
        await person.wait("() => window.salon.media.published.video && window.salon.media.published.audio")
    await asyncio.gather(rising(host, guest_id, "video"), rising(guest, host_id, "video"),
                         rising(guest, host_id, "audio", by=50))
    await guest.wait("(s) => document.querySelector(s).dataset.video === 'on'", TILE.format(host_id))
    assert await guest.page.locator(TILE.format(old_guest_id)).count() == 0


async def test_connections_are_replaced_after_a_reset(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    """What the SDK does on `media.transport {state: "failed"}`: `media.reset`, then a new
    subscribe connection (the server offers again) or a new publish connection."""
    ann, ben, ann_id = await ann_and_ben(web_server, web_admin, browsers, "Reset")
    old_pc = await ben.page.evaluate("() => (window.oldSub = window.salon.media.subPc, true)")
    assert old_pc
    await ben.page.evaluate("() => window.salon.media.reset('subscribe')")
    assert await ben.page.evaluate("() => window.salon.media.subPc !== window.oldSub")
    await asyncio.gather(rising(ben, ann_id, "video"), rising(ben, ann_id, "audio", by=50))
    await ann.page.evaluate("() => window.salon.media.reset('publish')")
    assert await ann.page.evaluate("() => Object.keys(window.salon.media.published).sort()") == [
        "audio", "video"]
    await rising(ben, ann_id, "video")
    assert await ann.page.evaluate("() => window.salon.errors") == []
    assert await ben.page.evaluate("() => window.salon.errors") == []
