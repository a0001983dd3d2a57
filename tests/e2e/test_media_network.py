"""Temporal layers from a real browser: Chromium's camera goes out as VP8 L1T3 from the
SDK, the SFU gives each subscriber the layers it asks for, and a Chromium subscriber
keeps decoding when layers are dropped for it (PictureIDs renumbered) and when they
come back (docs/media-design.md §6.9)."""

import asyncio
import time

import pytest

from salon.client import AdminClient, RealtimeClient, ws_url
from salon.client.media import MediaSession
from tests.e2e.browser import Browsers, rising
from tests.e2e.test_media import joined
from tests.servers import SalonServer

#: It measures frame rates, bitrates or timings: it runs alone (scripts/test-netns).
pytestmark = pytest.mark.solo

STATS = """async (peer) => {
  const {inbound} = await window.salon.media.stats();
  const row = inbound.find((r) => r.peerId === peer && r.kind === "video");
  return row ? row.framesDecoded : 0;
}"""


async def decoded_rate(person, peer_id: str, seconds: float = 3.0) -> float:
    first = await person.page.evaluate(STATS, peer_id)
    started = time.monotonic()
    await asyncio.sleep(seconds)
    return (await person.page.evaluate(STATS, peer_id) - first) / (time.monotonic() - started)


async def layer(peer: RealtimeClient, track_id: str) -> int | None:
    stats = await peer.request("media.stats")
    return next((s["layer"] for s in stats["receiving"] if s["track_id"] == track_id), None)


async def test_a_browser_camera_is_layered_and_a_browser_decodes_any_layers(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    meeting = await web_admin.create_meeting(title="Layers")
    ann_p = await web_admin.add_participant(meeting["id"], "ann", "group_call_participant",
                                            name="Ann")
    ben_p = await web_admin.add_participant(meeting["id"], "ben", "group_call_participant",
                                            name="Ben")
    bot_p = await web_admin.add_participant(meeting["id"], "bot", "group_call_participant",
                                            name="Bot")
    ann, ben = await browsers.person("ann"), await browsers.person("ben")
    ann_id = await joined(ann, web_server.url, ann_p["token"])
    await joined(ben, web_server.url, ben_p["token"])
    await rising(ben, ann_id, "video")
    bot = await RealtimeClient.join(ws_url(web_server.url), bot_p["token"])
    counter = await MediaSession.attach(bot, count_only=True, ice_hosts=["127.0.0.1"])
    try:
        video = await counter.wait_track(ann_id, "video", frames=20, timeout=20)
        track = f"{ann_id}:video"
        # Chromium encodes the L1T3 the SDK asked for: the server sees three layers
        stats = await ann.page.evaluate("async () => (await window.salon.media.stats()).outbound")
        assert any(r["kind"] == "video" and r["framesEncoded"] > 0 for r in stats)
        assert await layer(bot, track) == 3
        t0 = time.monotonic()
        await asyncio.sleep(3)
        full = video.counters.rate_between(t0, time.monotonic())
        await bot.request("media.prefer", data_saver=True)
        deadline = time.monotonic() + 5
        while await layer(bot, track) != 0:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.5)
        await asyncio.sleep(1)
        t0 = time.monotonic()
        await asyncio.sleep(3)
        base = video.counters.rate_between(t0, time.monotonic())
        assert 0 < base <= 0.4 * full, (base, full)  # TL0 is a quarter of the frames

        # Ben's browser: data saver from the settings sheet; it keeps decoding, slower
        before = await decoded_rate(ben, ann_id)
        await ben.page.get_by_test_id("btn-settings").click()
        await ben.page.get_by_test_id("settings-data-saver").check()
        await ben.page.get_by_test_id("settings-close").click()
        await ben.wait("() => window.salon.media.dataSaver === true")
        await asyncio.sleep(2)
        saving = await decoded_rate(ben, ann_id)
        assert 0 < saving <= 0.5 * before, (saving, before)
        await ben.page.evaluate("() => window.salon.media.setDataSaver(false)")
        await asyncio.sleep(2)
        again = await decoded_rate(ben, ann_id)
        assert again >= 0.7 * before, (again, before)  # the top layer is back, decoded
        # Ben's page told the server how tall it shows Ann's camera
        heights = await ben.page.evaluate(
            "(t) => window.salon.media._heights.get(t)", track)
        assert heights and heights > 0
        print(f"bot fps all layers {full:.1f}, TL0 {base:.1f}; Ben decodes {before:.1f} fps,"
              f" with data saver {saving:.1f}, after {again:.1f}; tile {heights} px")
    finally:
        await counter.close()
        await bot.close()
