"""Pure parts of the media plane: the subscription planner, the active speaker, keyframe
detection, TURN credentials, settings; and a server with media turned off."""

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from salon.client import RealtimeClient, RealtimeError, ws_url
from salon.core.presets import Permissions
from salon.core.room.media import Choice, plan
from salon.core.room.peer import Peer, PeerStatus
from salon.media.embedded import rtp
from salon.media.embedded.backend import EmbeddedBackend
from salon.media.embedded.speaker import ActiveSpeaker
from salon.media.settings import MediaSettings
from salon.settings import Settings
from tests.live import admin_for
from tests.servers import cleanup, start

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Track:
    peer_id: str
    kind: str


def peer(n: int, *, hidden: bool = False, cap: int = 2) -> Peer:
    p = Peer(peer_id=f"p{n}", participant_id=f"u{n}", custom_participant_id=f"c{n}",
             name=f"P{n}", picture=None, preset_name="x", view_type="GROUP_CALL",
             permissions=Permissions.model_validate({"hidden_participant": hidden}),
             status=PeerStatus.JOINED, joined_at=T0 + timedelta(seconds=n),
             max_video_streams=cap)
    p.media.update(audio=True, video=True, screenshare=False)
    return p


def setup(count: int = 4):
    peers = {f"p{n}": peer(n) for n in range(count)}
    published = {}
    for p in peers.values():
        for kind in ("audio", "video"):
            published[f"{p.peer_id}:{kind}"] = Track(p.peer_id, kind)
    return peers, published


def test_auto_receives_all_audio_and_the_top_videos() -> None:
    peers, published = setup()
    got = plan(peers, peers["p0"], Choice(), published, [], None, 25)
    assert got == {"p1:audio", "p2:audio", "p3:audio", "p1:video", "p2:video"}


def test_pins_and_speakers_rank_videos() -> None:
    peers, published = setup()
    viewer = peers["p0"]
    assert plan(peers, viewer, Choice(), published, ["p3"], None, 25) >= {"p3:video", "p1:video"}
    got = plan(peers, viewer, Choice(), published, ["p3"], "p2", 25)
    assert {t for t in got if t.endswith("video")} == {"p2:video", "p3:video"}


def test_paused_hidden_and_own_tracks_are_not_received() -> None:
    peers, published = setup()
    peers["p1"].media["video"] = False
    peers["p2"] = peer(2, hidden=True)
    peers["p2"].media.update(audio=True, video=True)
    got = plan(peers, peers["p0"], Choice(), published, [], None, 25)
    assert got == {"p1:audio", "p3:audio", "p3:video"}
    assert not plan(peers, peers["p2"], Choice(), {}, [], None, 25)


def test_manual_is_exact_and_capped() -> None:
    peers, published = setup(5)
    wanted = frozenset({"p1:video", "p2:video", "p3:video", "p4:audio", "ghost:video"})
    got = plan(peers, peers["p0"], Choice("manual", wanted), published, [], None, 2)
    assert got == {"p1:video", "p2:video", "p4:audio"}


def test_hidden_peers_may_not_publish() -> None:
    assert peer(1).may_publish("audio") is True  # the default preset allows it
    ghost = peer(2, hidden=True)
    assert ghost.publishing_rights() == {"audio": False, "video": False, "screenshare": False}


def test_the_speaker_must_lead_two_windows() -> None:
    speaker = ActiveSpeaker()
    assert speaker.window([("a", [20, 22]), ("b", [90])]) is False
    assert speaker.window([("a", [20]), ("b", [90])]) == "a"
    assert speaker.window([("a", [30]), ("b", [10])]) is False  # one window is a cough
    assert speaker.window([("a", [30]), ("b", [10])]) == "b"
    for _ in range(5):
        result = speaker.window([("a", [127]), ("b", [127])])
    assert result is False and speaker.speaker == "b"  # short pauses keep the floor
    results = [speaker.window([("a", [127]), ("b", [])]) for _ in range(10)]
    assert None in results and speaker.speaker is None  # long silence: nobody


def test_keyframes_are_recognised() -> None:
    assert rtp.vp8_is_keyframe(bytes([0x10, 0, 0])) is True
    assert rtp.vp8_is_keyframe(bytes([0x11, 0, 0])) is False
    assert rtp.vp8_is_keyframe(b"") is False
    idr = b"\x00\x00\x00\x01\x67\x42" + b"\x00\x00\x01\x65\x88"
    delta = b"\x00\x00\x00\x01\x41\x9a"
    assert rtp.h264_is_keyframe(idr) and not rtp.h264_is_keyframe(delta)
    assert rtp.frame_is_keyframe("opus", b"x")


def test_turn_credentials_follow_coturn_use_auth_secret() -> None:
    backend = EmbeddedBackend(MediaSettings(turn_urls=("turn:t.example:3478",),
                                            turn_secret="s3cret", turn_ttl_secs=60))
    server = backend.client_config("peer-1").ice_servers[0]
    assert server["urls"] == ["turn:t.example:3478"]
    expiry, peer_id = server["username"].split(":")
    assert peer_id == "peer-1" and int(expiry) > 0
    digest = hmac.new(b"s3cret", server["username"].encode(), hashlib.sha1).digest()
    assert server["credential"] == base64.b64encode(digest).decode()
    assert EmbeddedBackend(MediaSettings()).client_config("p").ice_servers == []


def test_media_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SALON_ICE_HOSTS", "127.0.0.1, 10.0.0.5")
    monkeypatch.setenv("SALON_ICE_SERVERS", '[{"urls": ["stun:stun.example:3478"]}]')
    media = Settings().media()
    assert media.ice_hosts == ("127.0.0.1", "10.0.0.5")
    assert media.ice_servers == [{"urls": ["stun:stun.example:3478"]}]
    monkeypatch.setenv("SALON_ICE_SERVERS", "not json")
    with pytest.raises(ValueError):
        Settings()


async def test_a_server_without_media_says_so() -> None:
    server = start("", env={"SALON_MEDIA_BACKEND": "none"})
    try:
        async with admin_for(server) as admin:
            meeting = await admin.create_meeting(title="no media")
            person = await admin.add_participant(meeting["id"], "u1", "group_call_host")
            peer = await RealtimeClient.join(ws_url(server.url), person["token"])
            assert peer.joined["media"] == {"enabled": False}
            with pytest.raises(RealtimeError) as refused:
                await peer.request("media.publish", sdp="v=0", tracks={"0": "audio"})
            assert refused.value.code == "CONFLICT" and "disabled" in refused.value.message
            with pytest.raises(RealtimeError) as refused:
                await peer.request("media.prefer", data_saver=True)
            assert refused.value.code == "CONFLICT"
            assert (await peer.ping())["pong"]
            await peer.leave()
        assert "Traceback" not in server.log()
    finally:
        cleanup(server)
