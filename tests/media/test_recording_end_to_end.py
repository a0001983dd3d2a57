"""A recording through the whole of salon: started over REST, recorded by the real media
engine in its recorder process (the hidden recorder participant the control plane
creates), stopped over REST, stored, downloaded through its signed link, and the file
decoded: both people's colours in the picture, both tones in the sound; a track
recording's voices; an interactive recording's timed ID3 tags."""

import asyncio
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest

from salon.recording import interactive
from tests.live import Meeting
from tests.media.test_recording_engine import Colour, Tone, publisher, spectrum_peaks
from tests.test_recording_interactive import cues, unpack

#: It measures frame rates, bitrates or timings: it runs alone (scripts/test-netns).
pytestmark = pytest.mark.solo


async def recording(room: Meeting, recording_id: str) -> dict[str, Any]:
    return await room.admin.call("GET", f"/recordings/{recording_id}")


async def reaches(room: Meeting, recording_id: str, *statuses: str,
                  timeout: float = 30) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = await recording(room, recording_id)
        if found["status"] in statuses:
            return found
        assert asyncio.get_running_loop().time() < deadline, found
        await asyncio.sleep(0.2)


async def download(done: dict[str, Any], into: Path, content_type: str) -> Path:
    """A finished recording's file, fetched through its signed link into `into`."""
    async with httpx.AsyncClient(timeout=30) as http:
        answer = await http.get(done["download_url"])
    assert answer.status_code == 200 and answer.headers["content-type"] == content_type
    assert len(answer.content) == done["file_size"]
    path = into / done["output_file_name"]
    path.write_bytes(answer.content)
    return path


def share_of(frame: np.ndarray, rgb: tuple[int, int, int]) -> float:
    """The share of the picture within 40 of `rgb` on every channel."""
    return float((np.abs(frame.astype(int) - rgb).max(axis=2) < 40).mean())


async def test_a_recording_started_over_rest_is_recorded_stored_and_downloaded(
        room: Meeting, sessions: list, tmp_path: Path) -> None:
    await publisher(room, sessions, "Red", Colour((230, 30, 30)), Tone(440.0, 0.5))
    await publisher(room, sessions, "Green", Colour((30, 200, 30)), Tone(660.0, 0.3))
    started = await room.admin.call("POST", "/recordings", json={
        "meeting_id": room.id, "file_name_prefix": "standup",
        "video_config": {"width": 640, "height": 360}})
    assert started["status"] == "INVOKED"
    rid = started["id"]
    live = await reaches(room, rid, "RECORDING", "ERRORED", timeout=40)
    assert live["status"] == "RECORDING", live
    await asyncio.sleep(3)
    stopped = await room.admin.call("PUT", f"/recordings/{rid}", json={"action": "stop"})
    assert stopped["stop_reason"]["reason"] == "API_CALL"
    done = await reaches(room, rid, "UPLOADED", "ERRORED")
    assert done["status"] == "UPLOADED", done
    assert done["output_file_name"].startswith("standup") and done["output_file_name"].endswith(
        ".mp4")

    path = await download(done, tmp_path, "video/mp4")

    with av.open(str(path)) as container:
        seconds = float(container.duration or 0) / 1_000_000
        video = container.streams.video[0]
        assert (video.width, video.height) == (640, 360)
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert 2.5 < seconds < 6 and abs(done["recording_duration"] - seconds) <= 1, seconds
    last = frames[-1]
    assert share_of(last, (230, 30, 30)) > 0.05 and share_of(last, (30, 200, 30)) > 0.05

    with av.open(str(path)) as container:
        pcm = np.concatenate([f.to_ndarray().mean(axis=0) for f in container.decode(audio=0)])
    red, green, nobody = spectrum_peaks(pcm[-2 * 48000:], 48000, [440, 660, 550])
    assert red == 1 and 0.3 < green < 0.9 and nobody < 0.02


async def test_a_track_recording_over_rest_copies_each_voice(room: Meeting, sessions: list,
                                                             tmp_path: Path) -> None:
    """POST /recordings/track: each person's audio in its own WebM, Opus as it was sent,
    named by RealtimeKit's pattern, behind the track shape's links."""
    red = await publisher(room, sessions, "Red", audio=Tone(440.0, 0.5))
    green = await publisher(room, sessions, "Green", audio=Tone(660.0, 0.5))
    ids = {red.joined["self"]["participant_id"]: 440, green.joined["self"]["participant_id"]: 660}
    started = await room.admin.call("POST", "/recordings/track", json={
        "meeting_id": room.id, "layers": {"default": {"file_name_prefix": "voices",
                                                      "media_kind": "audio"}}})
    rid = started["recording"]["id"]
    assert (await reaches(room, rid, "RECORDING", "ERRORED", timeout=40))["status"] == \
        "RECORDING"
    await asyncio.sleep(2.5)
    await room.admin.call("PUT", f"/recordings/{rid}", json={"action": "stop"})
    done = await reaches(room, rid, "UPLOADED", "ERRORED")
    assert done["status"] == "UPLOADED", done
    [layer] = done["download_url"]
    assert layer["layer_name"] == "default" and len(layer["download_urls"]) == 2
    heard = {}
    async with httpx.AsyncClient(timeout=30) as http:
        for name, link in layer["download_urls"].items():
            prefix, user_id, _peer_id, stream, media, _ms = name.removesuffix(".webm").split("_")
            assert (prefix, stream, media) == ("voices", "peer", "audio") and user_id in ids
            answer = await http.get(link["download_url"])
            assert answer.status_code == 200
            path = tmp_path / name
            path.write_bytes(answer.content)
            with av.open(str(path)) as container:
                assert container.streams.audio[0].codec_context.name == "opus"
                pcm = np.concatenate([f.to_ndarray().mean(axis=0)
                                      for f in container.decode(audio=0)])
            heard[user_id] = spectrum_peaks(pcm[-48000:], 48000, [440, 660])
    for user_id, frequency in ids.items():
        own, other = heard[user_id] if frequency == 440 else heard[user_id][::-1]
        assert own == 1 and other < 0.01, heard


async def test_an_interactive_recording_carries_the_broadcasts_as_timed_id3(
        room: Meeting, sessions: list, tmp_path: Path) -> None:
    """`interactive_config: {type: "ID3"}`: HLS in a tar; each `ID3Data` broadcast sent
    while it records is an ID3 tag at its time, until `CLOSE_TRANSPORT`."""
    host = await publisher(room, sessions, "Red", Colour((230, 30, 30)), Tone(440.0, 0.5))
    started = await room.admin.call("POST", "/recordings", json={
        "meeting_id": room.id, "file_name_prefix": "webinar",
        "interactive_config": {"type": "ID3"}, "video_config": {"width": 640, "height": 360}})
    rid = started["id"]
    assert started["output_file_name"].endswith(".tar")
    assert (await reaches(room, rid, "RECORDING", "ERRORED", timeout=40))["status"] == \
        "RECORDING"
    await asyncio.sleep(1.5)
    loop = asyncio.get_running_loop()
    await host.request("broadcast", type="ID3Data", payload={"slide": 1})
    first = loop.time()
    await asyncio.sleep(2.0)
    await host.request("broadcast", type="reaction", payload="ignored: not ID3Data")
    await host.request("broadcast", type="ID3Data", payload="chapter two")
    second = loop.time()
    await host.request("broadcast", type="CLOSE_TRANSPORT", payload=None)
    await host.request("broadcast", type="ID3Data", payload="after the close")
    await asyncio.sleep(1.0)
    await room.admin.call("PUT", f"/recordings/{rid}", json={"action": "stop"})
    done = await reaches(room, rid, "UPLOADED", "ERRORED")
    assert done["status"] == "UPLOADED", done

    path = await download(done, tmp_path, "application/x-tar")
    unpack(path, tmp_path / "hls")
    playlist = tmp_path / "hls" / "index.m3u8"
    assert playlist.read_text().rstrip().endswith("#EXT-X-ENDLIST")
    tags = cues(playlist)
    assert [value for _, value in tags] == ['{"slide":1}', "chapter two"], tags
    assert abs((tags[1][0] - tags[0][0]) - (second - first)) < 0.3, (tags, second - first)
    seconds = interactive.playlist_seconds(path)
    assert 3.5 < seconds < 8 and abs(done["recording_duration"] - seconds) <= 1, seconds
    assert 0.5 < tags[0][0] < tags[1][0] < seconds

    with av.open(str(playlist)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert (frames[-1].shape[1], frames[-1].shape[0]) == (640, 360)
    assert share_of(frames[-1], (230, 30, 30)) > 0.3
