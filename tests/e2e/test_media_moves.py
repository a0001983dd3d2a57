"""The browser SDK's media across moves, failed moves and dropped connections, in real
Chromium through salon's SFU: whatever was under way when the connections changed, the
person ends up sending and receiving what they chose (docs/browser-sdk.md, Moves)."""

import asyncio

import pytest

from salon.client import AdminClient, RealtimeClient, ws_url
from salon.client.media import MediaSession
from salon.client.media.sources import ToneSource
from tests.e2e.browser import Browsers, Person, host_and_guest, rising
from tests.e2e.test_media import ann_and_ben, joined
from tests.servers import SalonServer

#: Frame counters must rise within a few seconds: it runs alone (scripts/test-netns).
pytestmark = pytest.mark.solo

# A busy browser's setRemoteDescription, still running when the connection closes: as
# the WebRTC spec says (and Chromium does), its promise then never settles.
SLOW_OFFERS = """() => {
    const real = RTCPeerConnection.prototype.setRemoteDescription;
    RTCPeerConnection.prototype.setRemoteDescription = async function (description) {
        if (description && description.type === "offer") {
            await new Promise((r) => setTimeout(r, 400));
            if (this.signalingState === "closed") return new Promise(() => {});
        }
        return real.call(this, description);
    };
}"""


async def moved_to_a_new_room(host: Person, guest: Person, guest_id: str) -> dict:
    """The host makes "Room A" and moves the guest there; once the guest's page is in it,
    the room."""
    room = await host.page.evaluate("""async (guest) => {
        const c = window.salon.client;
        const [room] = await c.connected.create(["Room A"]);
        await c.connected.move(room.id, {peerIds: [guest]});
        return room; }""", guest_id)
    await guest.wait("(id) => window.salon.client.meetingId === id", room["id"])
    return room


async def test_moved_while_an_offer_is_being_answered_media_follows(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    """The host sends the guest to a room and goes there at once: the old room's offer
    (the guest's tracks gone) is still being answered, or even arrives, once the move has
    begun. Neither may hold up the new room's connections."""
    two = await host_and_guest(web_admin, browsers, "Plenary")
    host, guest = two.host, two.guest
    await joined(host, web_server.url, two.host_token)
    old_guest_id = await joined(guest, web_server.url, two.guest_token)
    await host.page.evaluate(SLOW_OFFERS)
    room = await host.page.evaluate("""async (guest) => {
        const c = window.salon.client;
        const [room] = await c.connected.create(["Room A"]);
        await c.connected.move(room.id, {peerIds: [guest]});
        await c.connected.switch(room.id);
        return room; }""", old_guest_id)
    for person in (host, guest):
        await person.wait("(id) => window.salon.client.meetingId === id", room["id"])
        await person.wait("() => window.salon.media.published.video && window.salon.media.published.audio")
    host_id, guest_id = await host.peer_id(), await guest.peer_id()
    await asyncio.gather(rising(host, guest_id, "video"), rising(host, guest_id, "audio", by=50),
                         rising(guest, host_id, "video"))


async def test_a_move_that_fails_leaves_the_media_as_it_was(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    """`meeting.changing` closes the guest's connections; the move then fails (the room is
    inactive) and the guest, still in the plenary, sends and receives again."""
    two = await host_and_guest(web_admin, browsers, "Plenary")
    host, guest = two.host, two.guest
    host_id = await joined(host, web_server.url, two.host_token)
    guest_id = await joined(guest, web_server.url, two.guest_token)
    await rising(host, guest_id, "video")
    room = await host.page.evaluate("""async () => {
        const [room] = await window.salon.client.connected.create(["Locked"]);
        return room; }""")
    await web_admin.update_meeting(room["id"], status="INACTIVE")
    await guest.page.evaluate("""() => { window.failedMoves = 0;
        window.salon.client.on("meeting.change_failed", () => window.failedMoves++); }""")
    await host.page.evaluate("([room, guest]) => window.salon.client.connected.move(room, {peerIds: [guest]})",
                             [room["id"], guest_id])
    await guest.wait("() => window.failedMoves === 1")
    assert await guest.peer_id() == guest_id
    await guest.wait("() => window.salon.media.published.video && window.salon.media.published.audio")
    # Counted afresh: the host's old m-lines for the guest ended with the guest's old tracks.
    await asyncio.gather(rising(host, guest_id, "video"), rising(guest, host_id, "video"),
                         rising(guest, host_id, "audio", by=50))


async def test_a_camera_turned_off_during_a_move_stays_off(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    """The guest turns the camera off as the move begins: in the new room the microphone
    is sent again, the camera is not (and its light is off)."""
    two = await host_and_guest(web_admin, browsers, "Plenary")
    host, guest = two.host, two.guest
    await joined(host, web_server.url, two.host_token)
    guest_id = await joined(guest, web_server.url, two.guest_token)
    await guest.page.evaluate("""() => window.salon.client.on("meeting.changing",
        () => document.querySelector("[data-testid=btn-cam]").click())""")
    await moved_to_a_new_room(host, guest, guest_id)
    await guest.wait("() => window.salon.media.published.audio")
    await asyncio.sleep(1.5)  # a republish of the camera would be done by now
    assert await guest.page.evaluate("""() => [Boolean(window.salon.media.published.video),
        window.salon.media.local.video, window.salon.client.self.video]""") == [False, None, False]
    assert await guest.page.get_by_test_id("btn-cam").get_attribute("aria-pressed") == "false"


async def test_an_answer_lost_with_the_connection_is_made_again(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    """Ben's socket drops just as he answers an offer (a bot began to publish): once
    resumed he receives the bot, and Ann still."""
    ann, ben, ann_id = await ann_and_ben(web_server, web_admin, browsers, "Lost answer")
    await ben.page.evaluate("""() => {
        const c = window.salon.client, real = c.request.bind(c);
        window.resumed = false;
        c.on("resumed", () => { window.resumed = true; });
        c.request = (type, data) => {
            if (type === "media.subscribe_answer" && !window.dropped) {
                window.dropped = true;  // as a network would: no close handshake, 1006
                const ws = c.ws;
                ws.onclose = null;
                ws.close();
                c._dropped(ws, 1006, "");
            }
            return real(type, data);
        };
    }""")
    meeting_id = await ben.page.evaluate("() => window.salon.client.meetingId")
    bot_p = await web_admin.add_participant(meeting_id, "bot", "group_call_participant",
                                            name="Tone Bot")
    bot = await RealtimeClient.join(ws_url(web_server.url), bot_p["token"])
    session = None
    try:
        session = await MediaSession.attach(bot, ice_hosts=["127.0.0.1"])
        await session.publish("audio", ToneSource())
        await ben.wait("() => window.dropped && window.resumed")
        await asyncio.gather(rising(ben, bot.peer_id, "audio", by=50), rising(ben, ann_id, "video"))
    finally:
        if session is not None:
            await session.close()
        await bot.leave()


async def test_data_saver_follows_a_move(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    """The server keeps data saver per peer; moved, the guest is the new room's peer, and
    the SDK tells it again (the new peer received every layer while the box stayed
    ticked)."""
    two = await host_and_guest(web_admin, browsers, "Plenary")
    host, guest = two.host, two.guest
    await joined(host, web_server.url, two.host_token)
    guest_id = await joined(guest, web_server.url, two.guest_token)
    await guest.page.evaluate("""async () => {
        const c = window.salon.client, real = c.request.bind(c);
        window.prefers = [];
        c.request = (type, data) => {
            if (type === "media.prefer" && "data_saver" in (data || {}))
                window.prefers.push([c.meetingId, data.data_saver]);
            return real(type, data);
        };
        await window.salon.media.setDataSaver(true);
    }""")
    plenary = await guest.page.evaluate("() => window.salon.client.meetingId")
    room = await moved_to_a_new_room(host, guest, guest_id)
    await guest.wait("() => window.prefers.length === 2")
    assert await guest.page.evaluate("() => window.prefers") == [[plenary, True],
                                                                 [room["id"], True]]


# A camera swap (replaceTrack) still running when a move closes the connection.
SLOW_SWAPS = """() => {
    const real = RTCRtpSender.prototype.replaceTrack;
    RTCRtpSender.prototype.replaceTrack = async function (track) {
        if (track) await new Promise((r) => setTimeout(r, 600));
        return real.call(this, track);
    };
}"""


async def test_a_camera_turned_on_as_a_move_begins_is_sent_in_the_new_room(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    """The guest turns the camera back on; while the camera is being put on the sender,
    the host moves the guest. The turn-on must neither fail nor touch the old sender: the
    new room gets the camera, as the guest chose."""
    two = await host_and_guest(web_admin, browsers, "Plenary")
    host, guest = two.host, two.guest
    await joined(host, web_server.url, two.host_token)
    guest_id = await joined(guest, web_server.url, two.guest_token)
    await guest.page.evaluate("() => window.salon.media.setEnabled('video', false)")
    await guest.page.evaluate(SLOW_SWAPS)
    await guest.page.evaluate("""() => {
        window.__turnOn = window.salon.media.setEnabled("video", true).then(
            () => "done", (error) => `failed: ${error}`); }""")
    await asyncio.sleep(0.2)  # the swap is under way
    room = await moved_to_a_new_room(host, guest, guest_id)
    assert await guest.page.evaluate("() => window.__turnOn") == "done"
    await host.page.evaluate("""(id) => window.salon.client.connected.switch(id)""", room["id"])
    await host.wait("(id) => window.salon.client.meetingId === id", room["id"])
    await guest.wait("() => window.salon.media.published.video && window.salon.media.enabled.video")
    await rising(host, await guest.peer_id(), "video")
