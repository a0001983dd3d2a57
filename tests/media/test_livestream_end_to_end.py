"""A real meeting livestreamed: a peer publishes a red picture and a 440 Hz tone, the
livestream is started over REST, the real recorder engine joins as the hidden
livestreamer and encodes once into HLS; the playlist and segments are fetched over HTTP
like a player and decoded. When everyone leaves and the session ends, the livestream
stops with it and the playlist ends."""

import asyncio
import io
from typing import Any

import av
import httpx
import numpy as np

from tests.live import Meeting
from tests.media.test_recording_end_to_end import share_of
from tests.media.test_recording_engine import Colour, Tone, publisher, spectrum_peaks


async def livestream(room: Meeting, livestream_id: str) -> dict[str, Any]:
    return await room.admin.call("GET", f"/livestreams/{livestream_id}")


async def until(check: Any, timeout: float = 40) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.25)


async def test_a_meeting_livestreamed_to_hls_and_ended_with_its_session(
        room: Meeting, sessions: list) -> None:
    await publisher(room, sessions, "Red", Colour((230, 30, 30)), Tone(440.0, 0.5))
    started = await room.admin.call("POST", f"/meetings/{room.id}/livestreams", json={
        "name": "All hands", "video_config": {"width": 320, "height": 180}})
    assert started["status"] == "INVOKED"
    livestream_id, playlist_url = started["id"], started["playback_url"]

    async def live() -> bool:
        return (await livestream(room, livestream_id))["livestream"]["status"] in (
            "LIVE", "ERRORED")

    await until(live)
    shown = await livestream(room, livestream_id)
    assert shown["livestream"]["status"] == "LIVE", shown
    assert shown["session"]["started_time"] is not None

    async with httpx.AsyncClient(timeout=10) as http:
        async def three() -> list[str] | None:
            answer = await http.get(playlist_url)
            names = [line for line in answer.text.splitlines()
                     if line and not line.startswith("#")] if answer.status_code == 200 else []
            return names if len(names) >= 3 else None

        names = await until(three)
        base = playlist_url.rsplit("/", 1)[0]
        segment = await http.get(f"{base}/{names[-1]}")
        assert segment.status_code == 200 and segment.headers["content-type"] == "video/mp2t"
        with av.open(io.BytesIO(segment.content), format="mpegts") as container:
            frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
        with av.open(io.BytesIO(segment.content), format="mpegts") as container:
            pcm = np.concatenate([f.to_ndarray().mean(axis=0)
                                  for f in container.decode(audio=0)])
        assert 20 <= len(frames) <= 30 and frames[-1].shape == (180, 320, 3)
        assert share_of(frames[-1], (230, 30, 30)) > 0.2
        tone, other = spectrum_peaks(pcm[-24000:], 48000, [440, 660])
        assert tone == 1 and other < 0.05

        # Everyone leaves: the session ends after its keep-alive, and the livestream too.
        await room.close()

        async def idle() -> bool:
            return (await livestream(room, livestream_id))["livestream"]["status"] == "IDLE"

        await until(idle, timeout=30)
        ended = await http.get(playlist_url)
        assert ended.text.rstrip().endswith("#EXT-X-ENDLIST")
    done = await livestream(room, livestream_id)
    assert done["session"]["stopped_time"] is not None
    assert done["session"]["ingest_seconds"] >= 2


async def test_a_recording_with_rtmp_out_pushes_its_one_encode(room: Meeting,
                                                               sessions: list) -> None:
    """POST /recordings with `rtmp_out_config`: the real recorder records the meeting and,
    from the same encode, pushes it to an RTMP server on loopback (FFmpeg's, listening);
    the pushed stream decodes to the peer's colour, and the file is still UPLOADED."""
    from tests.media.test_recording_end_to_end import reaches
    from tests.test_livestream_api import RtmpReceiver

    await publisher(room, sessions, "Red", Colour((230, 30, 30)), Tone(440.0, 0.5))
    receiver = RtmpReceiver()
    await asyncio.sleep(0.3)
    started = await room.admin.call("POST", "/recordings", json={
        "meeting_id": room.id, "video_config": {"width": 320, "height": 180},
        "rtmp_out_config": {"rtmp_url": receiver.url}})
    rid = started["id"]
    assert (await reaches(room, rid, "RECORDING", "ERRORED", timeout=40))["status"] == \
        "RECORDING"
    await until(lambda: _true(receiver.video >= 60))
    await room.admin.call("PUT", f"/recordings/{rid}", json={"action": "stop"})
    done = await reaches(room, rid, "UPLOADED", "ERRORED")
    assert done["status"] == "UPLOADED", done
    await asyncio.to_thread(receiver.thread.join, 15)
    assert receiver.size == (320, 180) and receiver.audio >= 50, vars(receiver)
    assert share_of(receiver.last, (230, 30, 30)) > 0.2


async def _true(value: bool) -> bool:
    return value
