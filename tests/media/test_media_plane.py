"""The media plane end to end: aiortc peers publish and receive through a real salon
server, and the room's rules hold at the media level (docs/media-design.md §5)."""

import array
import asyncio
import fractions
import math

import av
import pytest
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack
from aiortc.rtp import RTCP_PSFB_APP, RtcpPsfbPacket, RtcpSrPacket, unpack_remb_fci

from salon.client import RealtimeClient, RealtimeError
from salon.client.media import MediaSession, RemoteTrack
from tests.live import Meeting, eventually

#: It measures frame rates, bitrates or timings: it runs alone (scripts/test-netns).
pytestmark = pytest.mark.solo

LOOPBACK = ["127.0.0.1"]


class SmallVideo(VideoStreamTrack):
    """A cheap live-encoded camera: 160x120 at 30 fps (answers keyframe requests)."""

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = av.VideoFrame(160, 120, "yuv420p")
        shade = (pts // 3000) % 255
        for plane in frame.planes:
            plane.update(bytes([shade]) * plane.buffer_size)
        frame.pts, frame.time_base = pts, time_base
        return frame


class Tone(AudioStreamTrack):
    """A loud 440 Hz tone: aiortc puts its RFC 6464 level on every packet."""

    async def recv(self) -> av.AudioFrame:
        frame = await super().recv()
        rate = frame.sample_rate
        wave = array.array("h", (int(12000 * math.sin(2 * math.pi * 440 * (frame.pts + i) / rate))
                                 for i in range(frame.samples)))
        loud = av.AudioFrame(format="s16", layout="mono", samples=frame.samples)
        loud.planes[0].update(wave.tobytes())
        loud.sample_rate, loud.pts = rate, frame.pts
        loud.time_base = fractions.Fraction(1, frame.sample_rate)
        return loud


async def attach(sessions: list[MediaSession], peer: RealtimeClient) -> MediaSession:
    session = await MediaSession.attach(peer, ice_hosts=LOOPBACK)
    sessions.append(session)
    return session


async def still(track: RemoteTrack, seconds: float = 1.0) -> int:
    """How many frames of `track` arrive in `seconds`."""
    before = track.counters.frames
    await asyncio.sleep(seconds)
    return track.counters.frames - before


async def test_two_peers_see_and_hear_each_other(room: Meeting, sessions) -> None:
    a, b = await room.join("group_call_host"), await room.join()
    assert a.joined["media"]["enabled"] and a.joined["media"]["ice_servers"] == []
    assert a.joined["media"]["max_video_streams"] == 6
    assert a.joined["media"]["video"] == {"quality": "vga", "frame_rate": 30}  # defaults
    assert a.joined["media"]["screenshare"] == {"quality": "hd", "frame_rate": 5}
    ma, mb = await attach(sessions, a), await attach(sessions, b)
    reply = await ma.publish("video", SmallVideo())
    assert reply["tracks"] == [{"track_id": f"{a.peer_id}:video", "peer_id": a.peer_id,
                                "kind": "video", "codec": "video/VP8", "mid": "0"}]
    await ma.publish("audio", AudioStreamTrack())
    await mb.publish("video", SmallVideo())
    await mb.publish("audio", AudioStreamTrack())
    a_video = await mb.wait_track(a.peer_id, "video", frames=30)
    a_audio = await mb.wait_track(a.peer_id, "audio", frames=30)
    b_video = await ma.wait_track(b.peer_id, "video", frames=30)
    await ma.wait_track(b.peer_id, "audio", frames=30)
    assert a_video.counters.keyframes >= 1  # a subscriber starts on a keyframe
    assert await still(a_video) >= 20 and await still(a_audio) >= 35  # ~30 fps, 50 pkt/s
    assert await still(b_video) >= 20
    published = (await b.wait_for("media.published",
                                  lambda d: d["track"]["peer_id"] == a.peer_id))["track"]
    assert published["track_id"] == f"{a.peer_id}:video"
    updated = await b.wait_for("peer.updated", lambda d: d["peer"]["peer_id"] == a.peer_id
                               and d["peer"]["video"])
    assert updated["peer"]["video"] is True  # publishing turned it on
    stats = await a.request("media.stats")
    video = next(t for t in stats["tracks"] if t["kind"] == "video")
    assert video["subscribers"] == 1 and video["frames"] > 30 and video["forwarding"]


async def test_a_counting_subscriber_counts_frames_from_rtp_headers(room: Meeting,
                                                                   sessions) -> None:
    """`count_only` (the benchmark's subscribers) keeps no frame, yet counts as many."""
    a, b = await room.join("group_call_host"), await room.join()
    ma = await attach(sessions, a)
    counter = await MediaSession.attach(b, count_only=True, ice_hosts=LOOPBACK)
    sessions.append(counter)
    await ma.publish("video", SmallVideo())
    await ma.publish("audio", AudioStreamTrack())
    video = await counter.wait_track(a.peer_id, "video", frames=15)
    audio = await counter.wait_track(a.peer_id, "audio", frames=15)
    assert 20 <= await still(video) <= 40 and 35 <= await still(audio) <= 65
    assert video.counters.keyframes >= 1 and video.counters.bytes > 0
    # ... and `frames()` yields nothing: it ends at once (it used to yield None per frame)
    kept = [frame async for frame in video.frames()]
    assert kept == []


async def test_a_video_publisher_is_told_its_bitrate_cap(room: Meeting, sessions) -> None:
    """REMB once a second with SALON_MEDIA_MAX_VIDEO_BITRATE (tests/media/conftest.py)."""
    a = await room.join("group_call_host")
    ma = await attach(sessions, a)
    await ma.publish("video", SmallVideo())
    sender = ma.senders["video"].sender
    caps: list[tuple[int, list[int]]] = []
    original = sender._handle_rtcp_packet

    async def spy(packet) -> None:
        if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
            caps.append(unpack_remb_fci(packet.fci))
        await original(packet)

    sender._handle_rtcp_packet = spy
    await eventually(lambda: len(caps) >= 2, timeout=5)
    assert all(cap == (1_234_000, [sender._ssrc]) for cap in caps), caps


async def test_subscribers_hear_sender_reports_with_salons_counts(room: Meeting,
                                                                  sessions) -> None:
    """Each slot reports what salon wrote (RFC 3550 §6.4.1): video about every second,
    audio about every five (libwebrtc's intervals, ±50 %), with packet counts and RTP
    timestamps of the stream the subscriber receives."""
    a, b = await room.join("group_call_host"), await room.join()
    ma, mb = await attach(sessions, a), await attach(sessions, b)
    await ma.publish("video", SmallVideo())
    await ma.publish("audio", AudioStreamTrack())
    await mb.wait_track(a.peer_id, "video", frames=5)
    await mb.wait_track(a.peer_id, "audio", frames=5)
    heard: dict[str, list[tuple[float, RtcpSrPacket, int]]] = {"audio": [], "video": []}
    loop = asyncio.get_running_loop()
    for transceiver in mb.sub_pc.getTransceivers():
        receiver, kind = transceiver.receiver, transceiver.kind
        original = receiver._handle_rtcp_packet

        async def spy(packet, receiver=receiver, kind=kind, original=original) -> None:
            if isinstance(packet, RtcpSrPacket):
                stats = receiver._RTCRtpReceiver__remote_streams.get(packet.ssrc)
                heard[kind].append((loop.time(), packet, stats.packets_received if stats else 0))
            await original(packet)

        receiver._handle_rtcp_packet = spy
    await asyncio.sleep(8)
    for kind, (fewest, most, gap_lo, gap_hi) in {"video": (5, 17, 0.45, 1.55),
                                                  "audio": (1, 4, 2.45, 7.55)}.items():
        reports = heard[kind]
        assert fewest <= len(reports) <= most, (kind, len(reports))
        gaps = [t1 - t0 for (t0, _, _), (t1, _, _) in zip(reports[:-1], reports[1:], strict=True)]
        assert all(gap_lo <= gap <= gap_hi for gap in gaps), (kind, gaps)
        for _, report, received in reports:
            info = report.sender_info
            # salon's own count (aiortc's loop sent nothing): what arrived, give or take
            # the packets in flight around the report
            assert abs(info.packet_count - received) <= 10, (kind, info.packet_count, received)
            assert info.octet_count > 0 and info.ntp_timestamp > 0
        times = [report.sender_info.rtp_timestamp for _, report, _ in reports]
        assert times == sorted(times), (kind, times)
        # each stamped when it left (never two alike: a receiver report's echo names
        # one), its RTP time carried on at the clock rate to that moment
        stamps = [report.sender_info.ntp_timestamp for _, report, _ in reports]
        assert stamps == sorted(set(stamps)), (kind, stamps)
        rate = 90000 if kind == "video" else 48000
        for (_, r0, _), (_, r1, _) in zip(reports[:-1], reports[1:], strict=True):
            wall = (r1.sender_info.ntp_timestamp - r0.sender_info.ntp_timestamp) / 2**32
            media = (r1.sender_info.rtp_timestamp - r0.sender_info.rtp_timestamp) / rate
            assert abs(wall - media) < 0.1, (kind, wall, media)


async def test_a_late_subscriber_gets_a_keyframe_at_once(room: Meeting, sessions) -> None:
    a = await room.join("group_call_host")
    ma = await attach(sessions, a)
    await ma.publish("video", SmallVideo())
    await asyncio.sleep(1.5)  # the stream is well past its first keyframe
    late = await room.join()
    ml = await attach(sessions, late)
    started = asyncio.get_running_loop().time()
    video = await ml.wait_track(a.peer_id, "video", timeout=5)
    assert asyncio.get_running_loop().time() - started < 3
    assert video.counters.keyframes >= 1  # its first frame: gated on a keyframe
    stats = await a.request("media.stats")
    assert next(t for t in stats["tracks"] if t["kind"] == "video")["plis"] >= 1


async def test_a_host_turning_video_off_stops_forwarding_at_once(room: Meeting,
                                                                  sessions) -> None:
    host, guest = await room.join("group_call_host"), await room.join()
    mh, mg = await attach(sessions, host), await attach(sessions, guest)
    await mg.publish("video", SmallVideo())
    await mg.publish("audio", AudioStreamTrack())
    video = await mh.wait_track(guest.peer_id, "video", frames=10)
    audio = await mh.wait_track(guest.peer_id, "audio", frames=10)
    await host.disable_media([guest.peer_id], ["video"])
    await guest.wait_for("media.disabled")
    await asyncio.sleep(0.2)  # frames already in flight on loopback
    assert await still(video) == 0
    assert await still(audio, 0.5) > 10  # only video stopped
    me = await guest.wait_for("self.updated", lambda d: not d["self"]["video"])
    assert me["self"]["can_publish"]["video"] is True  # not locked: it may turn it on again
    await guest.set_media(video=True)
    await video.wait_frames(15, timeout=5)
    stats = await guest.request("media.stats")
    assert next(t for t in stats["tracks"] if t["kind"] == "video")["forwarding"]


async def test_webinar_viewers_publish_only_on_stage(room: Meeting, sessions) -> None:
    presenter = await room.join("webinar_presenter")
    viewer = await room.join("webinar_viewer")
    mp, mv = await attach(sessions, presenter), await attach(sessions, viewer)
    with pytest.raises(RealtimeError) as refused:
        await mv.publish("video", SmallVideo())
    assert refused.value.code == "FORBIDDEN"
    await presenter.stage("join")  # presenters are accepted, and go on stage themselves
    await mp.publish("video", SmallVideo())
    await mv.wait_track(presenter.peer_id, "video", frames=5)  # viewers only receive
    await viewer.stage("request")
    await presenter.stage("grant", [viewer.peer_id])
    await viewer.wait_for("stage.granted")
    await viewer.stage("join")
    await mv.publish("video", SmallVideo())
    on_stage = await mp.wait_track(viewer.peer_id, "video", frames=10)
    viewer.drain()
    await presenter.stage("kick", [viewer.peer_id])
    me = await viewer.wait_for("self.updated", lambda d: not d["self"]["can_publish"]["video"])
    assert me["self"]["stage_status"] == "OFF_STAGE"
    await asyncio.sleep(0.2)
    assert await still(on_stage) == 0  # forwarding stopped with the kick
    stats = await viewer.request("media.stats")
    assert not next(t for t in stats["tracks"] if t["kind"] == "video")["forwarding"]
    with pytest.raises(RealtimeError) as again:
        await viewer.set_media(video=True)
    assert again.value.code == "FORBIDDEN"


async def test_hidden_participants_receive_but_never_appear(room: Meeting,
                                                            sessions) -> None:
    await room.admin.create_preset("recorder", permissions={"hidden_participant": True})
    speaker = await room.join("group_call_host")
    ghost = await room.join("recorder")
    ms, mghost = await attach(sessions, speaker), await attach(sessions, ghost)
    with pytest.raises(RealtimeError) as refused:
        await mghost.publish("video", SmallVideo())
    assert refused.value.code == "FORBIDDEN" and "hidden" in refused.value.message
    await ms.publish("video", SmallVideo())
    await mghost.wait_track(speaker.peer_id, "video", frames=5)
    await asyncio.sleep(0.3)
    assert not any(ghost.peer_id in t for t in ms.remotes)
    assert all(e["track"]["peer_id"] != ghost.peer_id for e in speaker.drain("media.published"))


async def test_leaving_ends_the_tracks_for_everyone(room: Meeting, sessions) -> None:
    a, b = await room.join("group_call_host"), await room.join()
    ma, mb = await attach(sessions, a), await attach(sessions, b)
    await ma.publish("video", SmallVideo())
    await mb.wait_track(a.peer_id, "video", frames=5)
    await a.leave()
    gone = await b.wait_for("media.unpublished")
    assert gone == {"track_id": f"{a.peer_id}:video", "reason": "left"}
    stats = await b.request("media.stats")
    assert stats["receiving"] == [] and stats["available"] == []


async def test_auto_mode_caps_videos_and_manual_mode_chooses(room: Meeting,
                                                             sessions) -> None:
    await room.admin.create_preset(
        "one_tile", config={"max_video_streams": {"desktop": 1, "mobile": 1},
                            "media": {"video": {"quality": "qvga", "frame_rate": 15},
                                      "screenshare": {"quality": "fhd", "frame_rate": 2}}},
        permissions={"pin_participant": True})
    publishers = [await room.join("group_call_host") for _ in range(3)]
    for peer in publishers:
        await (await attach(sessions, peer)).publish("video", SmallVideo())
    viewer = await room.join("one_tile")
    assert viewer.joined["media"]["max_video_streams"] == 1
    # what its camera and screen are captured at, from the preset (browser-sdk.md)
    assert viewer.joined["media"]["video"] == {"quality": "qvga", "frame_rate": 15}
    assert viewer.joined["media"]["screenshare"] == {"quality": "fhd", "frame_rate": 2}
    mv = await attach(sessions, viewer)
    ids = [f"{p.peer_id}:video" for p in publishers]

    async def videos() -> set[str]:
        return {t["track_id"] for t in (await viewer.request("media.stats"))["receiving"]}

    await eventually(lambda: len(mv.receiving()) == 1)
    assert await videos() == {ids[0]}  # the first to join ranks first
    await viewer.pin(publishers[2].peer_id)  # a pin jumps the queue
    await eventually(lambda: mv.receiving() == {ids[2]})
    chosen = await mv.subscribe("manual", [ids[0], ids[1], "nobody:video"])
    assert set(chosen["track_ids"]) == {ids[0], ids[1]}
    await eventually(lambda: mv.receiving() == {ids[0], ids[1]})
    await mv.wait_track(publishers[1].peer_id, "video", frames=5)
    back = await mv.subscribe("auto")
    assert back["track_ids"] == [ids[2]]
    preset = next(p for p in await room.admin.call("GET", "/presets", params={"per_page": 100})
                  if p["name"] == "one_tile")
    await room.admin.call("PATCH", f"/presets/{preset['id']}",
                          json={"config": {"max_video_streams": {"mobile": 2}}})
    two = await room.join("one_tile")  # the preset as it is now: 1 on desktop, 2 on mobile
    m2 = await attach(sessions, two)
    await eventually(lambda: len(m2.receiving()) == 1)
    phone = await m2.subscribe("auto", device="mobile")
    assert len(phone["track_ids"]) == 2


async def test_the_loudest_peer_becomes_the_active_speaker(room: Meeting,
                                                           sessions) -> None:
    loud, quiet = await room.join("group_call_host"), await room.join()
    loud_media = await attach(sessions, loud)
    await loud_media.publish("audio", Tone())
    await (await attach(sessions, quiet)).publish("audio", AudioStreamTrack())
    event = await quiet.wait_for("media.speaker", lambda d: d["peer_id"] is not None,
                                 timeout=5)
    assert event["peer_id"] == loud.peer_id
    # media.speaker only says when it changes: who joins now finds who spoke last in the
    # room state (a recorder started mid-meeting lays the picture out around them),
    # also after a silence
    late = await room.join()
    assert late.joined["room"]["last_speaker_peer_id"] == loud.peer_id
    await loud_media.unpublish("audio")
    await quiet.wait_for("media.speaker", lambda d: d["peer_id"] is None, timeout=8)
    silent = await room.join()
    assert silent.joined["room"]["last_speaker_peer_id"] == loud.peer_id
    await loud.leave()
    later = await room.join()
    assert later.joined["room"]["last_speaker_peer_id"] is None  # gone: nobody to show


async def test_media_requests_are_checked(room: Meeting, sessions) -> None:
    host = await room.join("group_call_host")
    await attach(sessions, host)
    bad = [("media.ice", {"pc": "publish", "candidate": {"candidate": "x"}}, "CONFLICT"),
           ("media.publish", {"sdp": "v=0 nonsense", "tracks": {"0": "video"}}, "INVALID"),
           ("media.publish", {"sdp": "x", "tracks": {"0": "hologram"}}, "INVALID"),
           ("media.publish", {"sdp": "x", "tracks": {}}, "INVALID"),
           ("media.subscribe_answer", {"sdp": "x", "revision": 7}, "CONFLICT"),
           ("media.ice", {"pc": "publish", "candidate": {"candidate": "x"}}, "INVALID"),
           ("media.ice", {"pc": "sideways"}, "INVALID"),
           ("media.subscribe", {"mode": "manual", "track_ids": [1]}, "INVALID"),
           ("media.stats", {"peer_id": "nobody"}, "NOT_FOUND"),
           ("media.unpublish", {"kinds": []}, "INVALID")]
    for kind, data, code in bad:
        with pytest.raises(RealtimeError) as error:
            await host.request(kind, **data)
        assert error.value.code == code, (kind, data, error.value)
    assert (await host.ping())["pong"]  # the connection carries on
    guest = await room.join()
    with pytest.raises(RealtimeError) as forbidden:
        await guest.request("media.stats", peer_id=host.peer_id)
    assert forbidden.value.code == "FORBIDDEN"


async def test_waiting_peers_get_no_media(room: Meeting, sessions) -> None:
    await room.admin.create_preset("queued", permissions={
        "waiting_room_type": "SKIP_ON_ACCEPT"})
    waiting = await room.join("queued")
    assert waiting.status == "waiting"
    with pytest.raises(RealtimeError) as refused:
        await waiting.request("media.subscribe")
    assert refused.value.code == "NOT_JOINED"


@pytest.fixture(scope="session")
def test_media(tmp_path_factory: pytest.TempPathFactory) -> dict:
    from salon.client.media.testmedia import make_test_media

    return make_test_media(tmp_path_factory.mktemp("plane-media"), seconds=2)


@pytest.mark.parametrize(("file", "codec"), [("h264", "video/H264"), ("vp8", "video/VP8")])
async def test_pre_encoded_video_is_forwarded_as_it_is(room: Meeting, sessions,
                                                       test_media: dict, file: str,
                                                       codec: str) -> None:
    from salon.client.media.sources import FileSource

    a, b = await room.join("group_call_host"), await room.join()
    ma, mb = await attach(sessions, a), await attach(sessions, b)
    reply = await ma.publish("video", FileSource(test_media[file]))
    assert reply["tracks"][0]["codec"] == codec
    video = await mb.wait_track(a.peer_id, "video", frames=30)
    assert video.counters.keyframes >= 1
    assert await still(video) >= 25  # the file's 30 fps, unchanged
    stats = await a.request("media.stats")
    assert stats["tracks"][0]["codec"] == codec and stats["tracks"][0]["keyframes"] >= 1


async def test_a_moved_peer_takes_its_media_to_the_new_room(room: Meeting,
                                                             sessions) -> None:
    host = await room.join("group_call_host")
    (child,) = await host.create_connected(["Side room"])
    mover = await room.join()
    mh, mm = await attach(sessions, host), await attach(sessions, mover)
    await mm.publish("video", SmallVideo())
    await mm.publish("audio", AudioStreamTrack())
    await mh.publish("audio", AudioStreamTrack())
    in_parent = await mh.wait_track(mover.peer_id, "video", frames=5)
    await mm.wait_track(host.peer_id, "audio", frames=5)
    there = await room.admin.add_participant(child["id"], "already-there",
                                                   "group_call_host", name="Resident")
    resident = await room.connect(there["token"])
    mr = await attach(sessions, resident)
    await mr.publish("video", SmallVideo())
    old_peer_id = mover.peer_id
    await host.move_to(child["id"], [mover.peer_id])
    await mover.wait_for("meeting.changed")
    assert mover.peer_id != old_peer_id
    await mr.wait_track(mover.peer_id, "video", frames=10)  # its camera came along
    await mr.wait_track(mover.peer_id, "audio", frames=10)
    await mm.wait_track(resident.peer_id, "video", frames=10)  # and it sees the new room
    await asyncio.sleep(0.3)
    assert await still(in_parent) == 0  # the parent no longer receives it
    # The mover's tracks are the new room's only: the host's stayed behind.
    assert set(await mm.stats()) == {f"{resident.peer_id}:video"}


async def test_screenshare_is_its_own_track_and_counted(room: Meeting, sessions) -> None:
    a, b = await room.join("group_call_host"), await room.join("group_call_host")
    ma, mb = await attach(sessions, a), await attach(sessions, b)
    await ma.publish("video", SmallVideo())
    await ma.publish("audio", AudioStreamTrack())
    shared = await ma.publish("screenshare", SmallVideo())
    assert {t["kind"]: t["mid"] for t in shared["tracks"]} == {"video": "0", "audio": "1",
                                                               "screenshare": "2"}
    screen = await mb.wait_track(a.peer_id, "screenshare", frames=10)
    camera = await mb.wait_track(a.peer_id, "video", frames=10)
    assert await still(screen, 0.5) > 5 and await still(camera, 0.5) > 5
    with pytest.raises(RealtimeError) as busy:  # the preset allows one screenshare at a time
        await mb.publish("screenshare", SmallVideo())
    assert busy.value.code == "CONFLICT"
    await ma.unpublish("screenshare")
    assert (await b.wait_for("media.unpublished")) == {"track_id": f"{a.peer_id}:screenshare",
                                                       "reason": "unpublished"}
    await asyncio.sleep(0.2)
    assert await still(screen, 0.5) == 0 and await still(camera, 0.5) > 5
    assert screen.ended and not camera.ended  # the next offer no longer carries it
    await mb.publish("screenshare", SmallVideo())  # now b may share
    await ma.wait_track(b.peer_id, "screenshare", frames=5)


async def test_a_client_that_keeps_sending_a_revoked_kind_is_refused_at_rtp_level(
        room: Meeting, sessions) -> None:
    presenter = await room.join("webinar_presenter")
    speaker = await room.join("webinar_viewer")

    async def on_stage() -> None:
        await speaker.stage("request")
        await presenter.stage("grant", [speaker.peer_id])
        await speaker.wait_for("stage.granted")
        await speaker.stage("join")

    await on_stage()
    ms = await attach(sessions, speaker)
    await ms.publish("video", SmallVideo())  # aiortc keeps sending whatever the server says

    async def video_stats() -> dict:
        stats = await speaker.request("media.stats")
        return next(t for t in stats["tracks"] if t["kind"] == "video")

    await asyncio.sleep(0.5)
    assert (await video_stats())["frames"] > 5
    await presenter.stage("kick", [speaker.peer_id])
    await asyncio.sleep(1.2)  # the grace (0.5 s here) runs out
    refused = await video_stats()
    assert refused["refused_at_rtp"] and not refused["forwarding"]
    await asyncio.sleep(0.5)
    assert (await video_stats())["frames"] - refused["frames"] <= 1  # nothing gets through
    await on_stage()
    await speaker.set_media(video=True)
    await asyncio.sleep(0.8)
    back = await video_stats()
    assert not back["refused_at_rtp"] and back["forwarding"]
    assert back["frames"] > refused["frames"] + 10  # accepted again
