"""The meeting page for a LIVESTREAM preset: the viewer gets a player instead of the
WebRTC grid, waits while nothing is live, plays the meeting's HLS livestream (hls.js,
vendored) once an operator starts it — the video element reaches `playing` and its
frames advance — keeps chat live, and is told when the livestream ends. The server
encodes with the test encoder (tests/fake_livestreamer.py: the recorder's real
CompositeWriter and HLS output). Screenshots in test-artifacts/livestream_page/."""

import asyncio
from collections.abc import Iterator

import pytest
from playwright.async_api import expect

from salon.client import AdminClient
from tests.e2e.browser import Browsers, axe_scan, no_overflow, reveal, shoot, tab_to
from tests.e2e.conftest import ARTIFACTS
from tests.live import FAST
from tests.servers import SalonServer, cleanup, free_port, start
from tests.test_livestream_api import LIVESTREAM_ENV

SHOTS = ARTIFACTS / "livestream_page"


@pytest.fixture(scope="module")
def web_server() -> Iterator[SalonServer]:
    """This module's own server, livestreaming with the test encoder."""
    salon = start("", env={**FAST, "SALON_ICE_HOSTS": "127.0.0.1", **LIVESTREAM_ENV,
                           "SALON_RTMP_PORT": str(free_port())})
    try:
        yield salon
        log = salon.log()
        at = log.find("Traceback")
        assert at < 0, log[max(0, at - 3000):at + 12000]
    finally:
        cleanup(salon)


async def livestream_preset(admin: AdminClient) -> str:
    viewer = next(p for p in (await admin.call("GET", "/presets", params={"per_page": 100}))
                  if p["name"] == "webinar_viewer")
    preset = await admin.call("GET", f"/presets/{viewer['id']}")
    body = {key: preset[key] for key in ("config", "permissions", "ui")}
    body["config"]["view_type"] = "LIVESTREAM"
    made = await admin.call("POST", "/presets", json={"name": "livestream_viewer", **body})
    return made["name"]


async def test_a_livestream_viewer_plays_the_meeting_over_hls(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    preset = await livestream_preset(web_admin)
    meeting = await web_admin.create_meeting(title="Launch webinar")
    viewer_token = (await web_admin.add_participant(meeting["id"], "viewer-1", preset,
                                                    name="Vera Viewer"))["token"]
    host_token = (await web_admin.add_participant(meeting["id"], "host-1",
                                                  "webinar_presenter", name="Hal Host"))["token"]
    viewer = await browsers.person("viewer")
    page = viewer.page
    await viewer.open(web_server.url, viewer_token, autojoin=1, audio=0, video=0)
    await viewer.wait_state("joined")
    player = page.get_by_test_id("livestream-player")
    await expect(player).to_be_visible()
    await expect(page.get_by_test_id("grid")).to_be_hidden()
    await expect(page.get_by_test_id("livestream-note")).to_contain_text("has not started")
    await shoot(page, SHOTS, "1-waiting")

    started = await web_admin.call("POST", f"/meetings/{meeting['id']}/livestreams",
                                   json={"video_config": {"width": 320, "height": 180}})
    video = page.get_by_test_id("livestream-video")
    await expect(video).to_be_visible(timeout=20_000)
    await page.wait_for_function(
        "() => { const v = document.querySelector('[data-testid=livestream-video]');"
        " return v && !v.paused && v.readyState >= 2 && v.currentTime > 0.5; }",
        timeout=30_000)
    at = await video.evaluate("v => v.currentTime")
    frames = await video.evaluate("v => v.getVideoPlaybackQuality().totalVideoFrames")
    await asyncio.sleep(2)
    assert await video.evaluate("v => v.currentTime") > at + 1.0
    assert await video.evaluate("v => v.getVideoPlaybackQuality().totalVideoFrames") > frames + 10
    assert await video.evaluate("v => [v.videoWidth, v.videoHeight]") == [320, 180]
    # hls.js, loaded from the page's own origin, plays it (Media Source Extensions).
    assert await video.evaluate("v => v.src.startsWith('blob:')")
    # The SDK keeps the livestream; a viewer without can_livestream cannot steer it.
    shown = await page.evaluate("() => window.salon.client.livestream")
    assert shown["status"] == "LIVE" and shown["id"] == started["id"]
    codes = await page.evaluate("""async () => {
        const c = window.salon.client;
        const code = (p) => p.then(() => "ok", (e) => e.code);
        return [await code(c.startLivestream()), await code(c.stopLivestream())];
    }""")
    assert codes == ["FORBIDDEN", "FORBIDDEN"]
    # No WebRTC media reaches a LIVESTREAM viewer.
    assert await page.evaluate("() => document.querySelectorAll('#grid video').length") == 0
    await shoot(page, SHOTS, "2-playing", settle_ms=400)
    await no_overflow(page)
    assert await axe_scan(page, "[data-testid=livestream-player]") == []

    # Chat stays live beside the stream.
    from salon.client import RealtimeClient, ws_url
    host = await RealtimeClient.join(ws_url(web_server.url), host_token)
    try:
        await host.request("chat.send", text="Welcome, everyone watching!")
        await page.get_by_test_id("tab-chat").click()
        await expect(page.get_by_test_id("panel-chat")).to_contain_text("Welcome, everyone watching!")
    finally:
        await host.close()

    await web_admin.call("POST", f"/meetings/{meeting['id']}/active-livestream/stop")
    await expect(page.get_by_test_id("livestream-note")).to_contain_text("has ended",
                                                                          timeout=20_000)
    assert await page.evaluate("() => window.salon.client.livestream") is None
    assert started["id"]
    await shoot(page, SHOTS, "3-ended")


async def test_a_host_goes_live_from_the_page_and_everyone_sees_it(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    """Go live / End livestream (livestream_controls.js): only for `can_livestream`, by
    keyboard too; the "Live" indicator for everyone in the meeting."""
    meeting = await web_admin.create_meeting(title="Town hall")
    host_token = (await web_admin.add_participant(meeting["id"], "host-2", "group_call_host",
                                                  name="Hana Host"))["token"]
    guest_token = (await web_admin.add_participant(
        meeting["id"], "guest-2", "group_call_participant", name="Gus Guest"))["token"]
    host = await browsers.person("host")
    guest = await browsers.person("guest")
    for person, token in ((host, host_token), (guest, guest_token)):
        await person.open(web_server.url, token, autojoin=1, audio=0, video=0)
        await person.wait_state("joined")
    await expect(guest.page.get_by_test_id("btn-live")).to_be_hidden()  # no can_livestream
    await expect(guest.page.get_by_test_id("livestream-indicator")).to_be_hidden()

    await reveal(host.page, "btn-live")
    await tab_to(host.page, "btn-live")
    await host.page.keyboard.press("Enter")
    for person in (host, guest):
        indicator = person.page.get_by_test_id("livestream-indicator")
        await expect(indicator).to_have_text("Live", timeout=30_000, ignore_case=True)
    await expect(guest.page.get_by_test_id("livestream-announce")).to_have_text(
        "The meeting is being livestreamed.")
    active = await web_admin.call("GET", f"/meetings/{meeting['id']}/active-livestream")
    assert active["status"] == "LIVE"
    await reveal(host.page, "btn-live")
    await expect(host.page.get_by_test_id("btn-live")).to_have_text("End livestream")
    await shoot(host.page, SHOTS, "4-host-live", settle_ms=300)
    await no_overflow(host.page)

    await host.page.get_by_test_id("btn-live").click()
    for person in (host, guest):
        await expect(person.page.get_by_test_id("livestream-indicator")).to_be_hidden(
            timeout=20_000)
    await expect(guest.page.get_by_test_id("livestream-announce")).to_have_text(
        "The livestream has ended.")
    await reveal(host.page, "btn-live")
    await expect(host.page.get_by_test_id("btn-live")).to_have_text("Go live")
