"""`media.backlog`: the last seconds of a voice, kept for salon's transcriber, which joins a
session after it has started (docs/protocol.md "Captions", salon.media.embedded.backlog):
numbered as the transcriber's own stream, for bots only, and never what was said muted."""

import asyncio
import time
import uuid

import pytest
from aiortc.mediastreams import AudioStreamTrack

from salon.client import RealtimeClient, RealtimeError
from salon.client.media import MediaSession
from salon.transcription.voice import VoiceDecoder
from tests.live import Meeting

pytestmark = pytest.mark.asyncio

BOT = {"hidden_participant": True, "is_recorder": True, "recorder_type": "RECORDER"}
LOOPBACK = ["127.0.0.1"]
#: 20 ms of 48 kHz Opus: the RTP timestamp step between aiortc's audio packets.
FRAME = 960


async def _voice(room: Meeting, sessions: list) -> tuple[RealtimeClient, MediaSession]:
    alice = await room.join("group_call_host", name="Alice")
    media = await MediaSession.attach(alice, ice_hosts=LOOPBACK)
    sessions.append(media)
    await media.publish("audio", AudioStreamTrack())
    return alice, media


async def _transcriber(room: Meeting, sessions: list, track_id: str
                       ) -> tuple[RealtimeClient, MediaSession, object]:
    """A bot that receives `track_id`, and the first packet it takes from it."""
    preset = f"bot-{uuid.uuid4().hex[:8]}"
    await room.admin.create_preset(preset, permissions=BOT)
    bot = await room.join(preset, name="Transcriber")
    media = await MediaSession.attach(bot, ice_hosts=LOOPBACK)
    sessions.append(media)
    await media.subscribe("manual", [track_id])
    remote = await media.wait_track(*track_id.split(":"), timeout=10)
    first = await anext(remote.frames(maxsize=50))
    return bot, media, first


async def test_a_bot_gets_the_seconds_before_its_first_packet_as_its_own_stream(
        room: Meeting, sessions: list) -> None:
    alice, _ = await _voice(room, sessions)
    track_id = f"{alice.peer_id}:audio"
    published = time.time()
    await asyncio.sleep(2.0)
    bot, media, first = await _transcriber(room, sessions, track_id)
    asked = time.time()

    kept = await media.backlog(track_id, first.pts)
    assert len(kept) >= 90, len(kept)  # the ~2 s before the bot came, 50 packets a second
    stamps = [packet.pts for _, packet in kept]
    # One run of the bot's own numbering, straight into the packet it asked about.
    assert all((b - a) % 2**32 == FRAME for a, b in zip(stamps, stamps[1:], strict=False))
    assert (first.pts - stamps[-1]) % 2**32 == FRAME
    arrivals = [at for at, _ in kept]
    assert arrivals == sorted(arrivals)
    assert published - 0.5 < arrivals[0] and arrivals[-1] < asked
    assert asked - arrivals[0] <= 5.5  # at most the last 5 s
    decoder = VoiceDecoder()
    assert sum(decoder.decode(packet).size for _, packet in kept[:50]) > 0  # real Opus

    # With `since`, only what the server received after it (a transcriber started again).
    recent = await media.backlog(track_id, first.pts, since=arrivals[-1] - 0.5)
    assert 15 <= len(recent) <= 30 and all(at >= arrivals[-1] - 0.5 for at, _ in recent)
    assert [packet.pts for _, packet in recent] == stamps[-len(recent):]

    # Asked about an earlier point, the backlog ends before it.
    earlier = await media.backlog(track_id, stamps[10])
    assert [packet.pts for _, packet in earlier] == stamps[:10]

    # Only salon's bots may ask, only of what they receive, with a 32-bit timestamp.
    with pytest.raises(RealtimeError) as person:
        await alice.request("media.backlog", track_id=track_id, before=0)
    assert person.value.code == "FORBIDDEN" and "is_recorder" in person.value.message
    with pytest.raises(RealtimeError) as unknown:
        await bot.request("media.backlog", track_id=f"{alice.peer_id}:video", before=0)
    assert unknown.value.code == "NOT_FOUND"
    with pytest.raises(RealtimeError) as bad:
        await bot.request("media.backlog", track_id=track_id, before=2**32)
    assert bad.value.code == "INVALID"


async def test_what_was_said_muted_is_not_kept(room: Meeting, sessions: list) -> None:
    alice, voice = await _voice(room, sessions)
    track_id = f"{alice.peer_id}:audio"
    await asyncio.sleep(1.0)
    await voice.set_enabled("audio", False)
    muted = time.time()
    await asyncio.sleep(1.5)
    await voice.set_enabled("audio", True)
    unmuted = time.time()
    await asyncio.sleep(1.0)
    _, media, first = await _transcriber(room, sessions, track_id)

    arrivals = [at for at, _ in await media.backlog(track_id, first.pts)]
    assert arrivals and arrivals[0] < muted  # from before the mute ...
    assert not [at for at in arrivals if muted + 0.1 < at < unmuted - 0.1]  # ... none during
    assert [at for at in arrivals if at > unmuted]  # ... and again after it
