"""The SFU's figures in `/metrics` against what real aiortc peers sent and received
(salon.observability.collectors; docs/observability.md#media-embedded-sfu)."""

import asyncio

from aiortc.mediastreams import AudioStreamTrack

from salon.client.media import MediaSession
from tests.live import Meeting, eventually
from tests.media.test_media_plane import LOOPBACK, SmallVideo, attach
from tests.test_metrics import delta, scrape, value


async def test_forwarded_packets_are_what_the_subscriber_got(room: Meeting, sessions) -> None:
    before = scrape(room.server)
    a, b = await room.join("group_call_host"), await room.join()
    ma = await attach(sessions, a)
    counter = await MediaSession.attach(b, count_only=True, ice_hosts=LOOPBACK)
    sessions.append(counter)
    await ma.publish("audio", AudioStreamTrack())
    await ma.publish("video", SmallVideo())
    audio = await counter.wait_track(a.peer_id, "audio", frames=50)
    video = await counter.wait_track(a.peer_id, "video", frames=20)

    during = scrape(room.server)
    assert value(during, "salon_media_tracks", kind="audio") >= 1
    assert value(during, "salon_media_tracks", kind="video") >= 1
    assert value(during, "salon_media_subscriptions") >= 2
    assert value(during, "salon_media_peers") >= 2
    for kind in ("audio", "video"):
        assert delta(before, during, "salon_media_received_packets_total", kind=kind) > 0
        assert delta(before, during, "salon_media_received_bytes_total", kind=kind) > 0
        assert delta(before, during, "salon_media_forwarded_packets_total", kind=kind) > 0
    assert delta(before, during, "salon_media_keyframes_total", kind="video") >= 1

    # The publisher stops; once nothing is on its way, every forwarded audio packet is
    # one the subscriber counted (one packet a frame), and the bytes match too.
    await ma.unpublish("audio")
    await ma.unpublish("video")
    await asyncio.sleep(0.5)
    after = scrape(room.server)
    assert delta(before, after, "salon_media_forwarded_packets_total",
                 kind="audio") == audio.counters.frames
    assert delta(before, after, "salon_media_forwarded_bytes_total",
                 kind="audio") == audio.counters.bytes
    assert delta(before, after, "salon_media_forwarded_bytes_total",
                 kind="video") == video.counters.bytes
    assert delta(before, after, "salon_media_received_frames_total",
                 kind="video") >= video.counters.frames
    assert delta(before, after, "salon_media_lost_packets_total", kind="audio") == 0
    # Nothing is lost on loopback, so nothing is asked again (but the series are there).
    assert delta(before, after, "salon_media_nacks_sent_total", kind="video") == 0
    assert ("salon_media_nacks_sent_total", (("kind", "video"),)) in after

    # Ended tracks keep their figures: the totals never go back. (At most as many audio
    # tracks as before: an earlier test's peers on this server may still be closing.)
    await a.leave()
    await eventually(lambda: value(scrape(room.server), "salon_media_tracks",
                                   kind="audio") <= value(before, "salon_media_tracks",
                                                          kind="audio"))
    final = scrape(room.server)
    for name in ("salon_media_forwarded_packets_total", "salon_media_received_packets_total",
                 "salon_media_forwarded_bytes_total"):
        for kind in ("audio", "video"):
            assert value(final, name, kind=kind) >= value(after, name, kind=kind), name
