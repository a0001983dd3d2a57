"""The recorder end to end: a real salon server, aiortc peers publishing solid colours and
tones, the hidden recorder participant running `run_recording`, and the files it wrote
decoded back with PyAV (docs/recording.md)."""

import asyncio
import fractions
import itertools
import threading
from pathlib import Path

import av
import numpy as np
import pytest
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack

from salon.client import RealtimeClient, ws_url
from salon.client.media import MediaSession
from salon.client.media.sources import FileSource
from salon.client.media.testmedia import make_test_media
from salon.recording.engine import Recorder, run_recording
from salon.recording.layout import arrange
from salon.recording.process import RecorderProcess
from salon.recording.spec import AudioSpec, RecordingSpec, StopReason, VideoSpec
from tests.live import Meeting, eventually

#: It measures frame rates, bitrates or timings: it runs alone (scripts/test-netns).
pytestmark = pytest.mark.solo

LOOPBACK = ["127.0.0.1"]
_names = itertools.count(1)


class Colour(VideoStreamTrack):
    """A camera showing one solid colour (encoded live by aiortc, small and cheap)."""

    def __init__(self, rgb: tuple[int, int, int]) -> None:
        super().__init__()
        picture = np.zeros((120, 160, 3), dtype=np.uint8)
        picture[:] = rgb
        self.picture = av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(
            format="yuv420p")

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = self.picture.reformat(format="yuv420p")  # a fresh frame object
        frame.pts, frame.time_base = pts, time_base
        return frame


class Tone(AudioStreamTrack):
    """A steady sine tone at `frequency`, `amplitude` of full scale."""

    def __init__(self, frequency: float, amplitude: float) -> None:
        super().__init__()
        self.frequency, self.amplitude = frequency, amplitude

    async def recv(self) -> av.AudioFrame:
        frame = await super().recv()
        t = (frame.pts + np.arange(frame.samples)) / frame.sample_rate
        wave = (self.amplitude * 32767 * np.sin(2 * np.pi * self.frequency * t)).astype(np.int16)
        tone = av.AudioFrame.from_ndarray(wave.reshape(1, -1), format="s16", layout="mono")
        tone.sample_rate, tone.pts = frame.sample_rate, frame.pts
        tone.time_base = fractions.Fraction(1, frame.sample_rate)
        return tone


class Control:
    """The test's hand on the recording (thread-safe: the engine runs in a thread)."""

    def __init__(self) -> None:
        self._paused = threading.Event()
        self._started = threading.Event()
        self.reason: StopReason | None = None

    def paused(self) -> bool:
        return self._paused.is_set()

    def stop_requested(self) -> StopReason | None:
        return self.reason

    def started(self) -> None:
        assert not self._started.is_set(), "started() is called once"
        self._started.set()


async def recorder_token(room: Meeting) -> str:
    """A hidden recorder participant (RealtimeKit's recorder preset)."""
    preset = f"recorder-{next(_names)}-{room.id[:8]}"
    await room.admin.create_preset(preset, permissions={
        "is_recorder": True, "hidden_participant": True, "recorder_type": "RECORDER"},
        config={"max_video_streams": {"desktop": 9, "mobile": 9}})
    person = await room.admin.add_participant(room.id, "recorder", preset, name="Recorder")
    return person["token"]


async def publisher(room: Meeting, sessions: list, name: str, video=None,
                    audio=None) -> RealtimeClient:
    peer = await room.join("group_call_host", name=name)
    media = await MediaSession.attach(peer, ice_hosts=LOOPBACK)
    sessions.append(media)
    if video is not None:
        await media.publish("video", video)
    if audio is not None:
        await media.publish("audio", audio)
    return peer


def spec_for(room: Meeting, token: str, tmp_path: Path, **options) -> RecordingSpec:
    return RecordingSpec(recording_id="rec-1", gateway_url=ws_url(room.server.url),
                         token=token, output_dir=tmp_path, file_name="meeting", **options)


def colour_at(frame: np.ndarray, x: int, y: int) -> np.ndarray:
    return frame[y - 4:y + 4, x - 4:x + 4].reshape(-1, 3).mean(axis=0)


def spectrum_peaks(samples: np.ndarray, rate: int, frequencies: list[float]) -> list[float]:
    """For each frequency, its FFT magnitude relative to the strongest one."""
    window = samples * np.hanning(len(samples))
    magnitude = np.abs(np.fft.rfft(window))
    bins = np.fft.rfftfreq(len(samples), 1 / rate)
    return [magnitude[np.abs(bins - f) < 5].max() / magnitude.max() for f in frequencies]


def boxes(path: Path) -> list[str]:
    """The MP4's top-level boxes in file order."""
    data, at, found = path.read_bytes(), 0, []
    while at + 8 <= len(data):
        size = int.from_bytes(data[at:at + 4], "big")
        found.append(data[at + 4:at + 8].decode("latin-1"))
        if size == 1:
            size = int.from_bytes(data[at + 8:at + 16], "big")
        if size < 8:
            break
        at += size
    return found


PEOPLE = [("Red", (230, 30, 30), 440.0, 0.5), ("Green", (30, 200, 30), 660.0, 0.2),
          ("Blue", (30, 30, 230), 1000.0, 0.15)]


async def test_a_composite_shows_everyone_mixes_everyone_and_a_pause_leaves_no_gap(
        room: Meeting, sessions, tmp_path: Path) -> None:
    peers = [await publisher(room, sessions, name, Colour(rgb), Tone(freq, amp))
             for name, rgb, freq, amp in PEOPLE]
    spec = spec_for(room, await recorder_token(room), tmp_path, kind="composite",
                    video=VideoSpec(width=640, height=360, fps=15),
                    audio=AudioSpec(codec="MP3", channel="mono", export_file=True))
    control = Control()
    loop = asyncio.get_running_loop()
    recording = asyncio.ensure_future(asyncio.to_thread(run_recording, spec, control))
    await eventually(control._started.is_set, timeout=15)
    began = loop.time()
    await asyncio.sleep(2.5)
    control._paused.set()
    await asyncio.sleep(1.5)
    control._paused.clear()
    await asyncio.sleep(2.0)
    everyone_until = loop.time() - began - 1.5  # recorded time
    await peers[2].leave()  # Blue leaves: its tile and its tone go
    await asyncio.sleep(1.5)
    control.reason = "API_CALL"
    ended = loop.time()
    outcome = await asyncio.wait_for(recording, 20)
    assert outcome.error is None and outcome.stop_reason == "API_CALL"
    recorded = ended - began - 1.5
    composite = next(f for f in outcome.files if f.role == "composite")
    audio_file = next(f for f in outcome.files if f.role == "audio")
    assert composite.path == tmp_path / "meeting.mp4" and composite.content_type == "video/mp4"
    assert composite.size == composite.path.stat().st_size > 10_000
    assert abs(composite.duration_secs - recorded) < 0.5, (composite, recorded)
    assert abs(outcome.duration_secs - recorded) < 0.5
    assert boxes(composite.path).index("moov") < boxes(composite.path).index("mdat")
    assert not list(tmp_path.glob(".*.part"))

    with av.open(str(composite.path)) as container:
        video = container.streams.video[0]
        assert video.codec_context.name == "h264" and (video.width, video.height) == (640, 360)
        assert video.average_rate == 15
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert abs(len(frames) - recorded * 15) < 8, len(frames)
    colours = {p.peer_id: rgb for p, (_, rgb, _, _) in zip(peers, PEOPLE, strict=True)}

    def shows(frame: np.ndarray, people: list[RealtimeClient]) -> bool:
        tiles = arrange(640, 360, [p.peer_id for p in people], speaker=peers[0].peer_id)
        return all(np.abs(colour_at(frame, tile.rect.x + tile.rect.width // 2,
                                    tile.rect.y + tile.rect.height // 3)
                          - colours[tile.peer_id]).max() < 40 for tile in tiles)

    # Red (the loudest) speaks in the main area, the others in the strip, in the second
    # before Blue leaves (a late keyframe may hold a tile back a moment on a busy
    # machine); once Blue has left, Red and Green share the picture side by side.
    before_leaving = frames[int((everyone_until - 1.2) * 15):int((everyone_until - 0.2) * 15)]
    assert any(shows(frame, peers) for frame in before_leaving), "no frame shows everyone"
    assert shows(frames[-1], peers[:2])

    with av.open(str(composite.path)) as container:
        pcm = np.concatenate([f.to_ndarray().mean(axis=0) for f in container.decode(audio=0)])
    assert abs(len(pcm) / 48000 - recorded) < 0.5
    everyone = pcm[int((everyone_until - 1.8) * 48000):int((everyone_until - 0.1) * 48000)]
    # each tone at its level (0.5, 0.2, 0.15), and nothing where no one plays
    loud, mid, soft, nothing = spectrum_peaks(everyone, 48000, [440, 660, 1000, 550])
    assert loud == 1 and 0.25 < mid < 0.6 and 0.15 < soft < 0.45 and nothing < 0.01
    loud, mid, gone = spectrum_peaks(pcm[-48000:], 48000, [440, 660, 1000])
    assert loud == 1 and 0.25 < mid < 0.6 and gone < 0.01

    assert audio_file.path == tmp_path / "meeting.mp3"
    with av.open(str(audio_file.path)) as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.codec.id == av.codec.Codec("mp3").id and stream.codec_context.channels == 1
    assert abs(audio_file.duration_secs - recorded) < 0.5


def packets_of(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(audio=0) if p.size]


async def test_a_track_recording_copies_each_chosen_participants_opus_packets(
        room: Meeting, sessions, tmp_path: Path) -> None:
    media = make_test_media(tmp_path / "media", seconds=4)
    sent = packets_of(media["opus"])
    ada = await publisher(room, sessions, "Ada", audio=FileSource(media["opus"]))
    await publisher(room, sessions, "Bob", audio=FileSource(media["speech"]))
    ada_id = ada.joined["self"]["participant_id"]
    spec = spec_for(room, await recorder_token(room), tmp_path / "out", kind="track",
                    user_ids=(ada_id,), track_prefix="layer1")
    control = Control()
    recording = asyncio.ensure_future(asyncio.to_thread(run_recording, spec, control))
    await eventually(control._started.is_set, timeout=15)
    await asyncio.sleep(1.0)
    control._paused.set()
    await asyncio.sleep(1.0)
    control._paused.clear()
    await asyncio.sleep(2.0)
    await ada.kick_all()  # the session ends: so does the recording
    outcome = await asyncio.wait_for(recording, 20)
    assert outcome.error is None and outcome.stop_reason == "ALL_PEERS_LEFT"
    assert not outcome.lost_meeting  # the meeting ended: nothing to carry on
    [track] = outcome.files  # Bob was not asked for
    assert track.role == "track" and track.content_type == "video/webm"
    assert (track.participant_id, track.peer_id) == (ada_id, ada.peer_id)
    prefix, unix_ms = f"layer1_{ada_id}_{ada.peer_id}_peer_audio_", track.path.stem[-13:]
    assert track.path.name == f"{prefix}{unix_ms}.webm" and unix_ms.isdigit()
    with av.open(str(track.path)) as container:
        assert container.streams.audio[0].codec_context.name == "opus"
    written = packets_of(track.path)
    # a copy: every packet is byte for byte one the publisher sent, in the file's order
    assert set(written) <= set(sent)
    follows = {(a, b) for a, b in zip(sent, sent[1:] + sent[:1], strict=True)}
    in_sequence = sum((a, b) in follows for a, b in itertools.pairwise(written))
    assert in_sequence >= 0.9 * (len(written) - 1)
    # 50 packets a second of recorded time (the pause is not in the file)
    assert abs(len(written) - 50 * track.duration_secs) < 15
    assert 2.3 < track.duration_secs < 3.8, track.duration_secs
    assert abs(outcome.duration_secs - track.duration_secs) < 0.5


async def test_a_recorder_that_loses_its_connection_says_it_lost_the_meeting(
        room: Meeting, sessions, tmp_path: Path) -> None:
    """The connection goes without the meeting ending (its node died or handed the room
    over, docs/cluster.md "Recordings go on"): the recorder ends ALL_PEERS_LEFT with its
    file closed, and says it lost the meeting, so its node may leave the recording to
    the node that carries the meeting on."""
    await publisher(room, sessions, "Ada", audio=Tone(440, 0.3))
    spec = spec_for(room, await recorder_token(room), tmp_path / "out", kind="composite",
                    video=VideoSpec(width=320, height=180, fps=10))
    control = Control()
    recorder = Recorder(spec, control)
    loop = asyncio.new_event_loop()
    thread_outcome: list = []
    thread = threading.Thread(target=lambda: thread_outcome.append(
        loop.run_until_complete(recorder.run())), daemon=True)
    thread.start()
    try:
        await eventually(control._started.is_set, timeout=15)
        await asyncio.sleep(1.0)
        # cut, as a dead node's connection goes: no close frame, no room.ended
        loop.call_soon_threadsafe(lambda: recorder.peer.connection.transport.abort())
        await asyncio.to_thread(thread.join, 20)
    finally:
        if thread.is_alive():
            control.reason = "API_CALL"
            await asyncio.to_thread(thread.join, 10)
    [outcome] = thread_outcome
    assert outcome.error is None and outcome.stop_reason == "ALL_PEERS_LEFT", outcome
    assert outcome.lost_meeting
    [composite] = outcome.files
    assert composite.duration_secs >= 0.5
    with av.open(str(composite.path)) as container:  # closed cleanly: it plays
        assert container.streams.video[0].frames > 0 or container.duration


async def test_a_vp8_recording_in_its_own_process_stops_at_max_seconds(
        room: Meeting, sessions, tmp_path: Path) -> None:
    """WebM (VP8 + Opus) with a watermark, through process.py; a screenshare takes the main
    area, a camera that is off shows initials; the recording ends by itself at
    max_seconds."""
    solo = await publisher(room, sessions, "Solo", Colour((30, 200, 30)), Tone(660, 0.3))
    await sessions[-1].publish("screenshare", Colour((220, 30, 220)))
    zed = await room.join("group_call_host", name="Zed Quiet")  # no camera: initials
    mark = tmp_path / "mark.png"
    from PIL import Image
    Image.new("RGBA", (40, 20), (255, 255, 255, 255)).save(mark)
    spec = spec_for(room, await recorder_token(room), tmp_path, kind="composite",
                    max_seconds=3,
                    video=VideoSpec(codec="VP8", width=640, height=360, fps=15,
                                    watermark_path=mark, watermark_position="right top"))
    recorder = RecorderProcess.start(spec)
    try:
        assert await asyncio.to_thread(recorder.wait_started, 20)
        outcome = await asyncio.to_thread(recorder.outcome, 30)
    finally:
        recorder.kill()
    assert outcome.error is None and outcome.stop_reason == "MAX_SECONDS", outcome
    [composite] = outcome.files
    assert composite.path.name == "meeting.webm" and composite.content_type == "video/webm"
    assert abs(composite.duration_secs - 3) < 0.2 and outcome.duration_secs == 3
    with av.open(str(composite.path)) as container:
        assert container.streams.video[0].codec_context.name == "vp8"
        assert container.streams.audio[0].codec_context.name == "opus"
        last = [f for f in container.decode(video=0)][-1].to_ndarray(format="rgb24")
    # the screenshare in the main area, Solo's camera and Zed's initials in the strip
    tiles = arrange(640, 360, [solo.peer_id, zed.peer_id], screenshare=solo.peer_id)
    main, camera, initials = (t.rect for t in tiles)
    assert np.abs(colour_at(last, main.x + main.width // 2, 180) - (220, 30, 220)).max() < 40
    assert np.abs(colour_at(last, camera.x + camera.width // 2, camera.y + camera.height // 3)
                  - (30, 200, 30)).max() < 40
    tile = colour_at(last, initials.x + 8, initials.y + 8)
    assert np.abs(tile - (30, 200, 30)).max() > 60 and tile.std() > 10  # a palette colour
    assert colour_at(last, 640 - 16 - 20, 16 + 10).min() > 200  # the white watermark
