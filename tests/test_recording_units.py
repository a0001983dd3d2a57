"""The recorder's parts without a meeting: tile geometry, the compositor and the mixer
fed with synthetic frames, the roster's rules, the recorded clock, the process control."""

import multiprocessing
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from salon.recording import labels
from salon.recording.clock import RecordingClock
from salon.recording.compositor import Compositor
from salon.recording.layout import MAX_TILES, Rect, arrange, grid
from salon.recording.mixer import RATE, AudioMixer
from salon.recording.outputs import CompositeWriter, probe
from salon.recording.process import ProcessControl
from salon.recording.roster import Roster
from salon.recording.spec import AudioSpec, VideoSpec

W, H = 1280, 720


def overlaps(a: Rect, b: Rect) -> bool:
    return a.x < b.x + b.width and b.x < a.x + a.width and \
        a.y < b.y + b.height and b.y < a.y + a.height


def inside(r: Rect) -> bool:
    return r.x >= 0 and r.y >= 0 and r.x + r.width <= W and r.y + r.height <= H


# --- layout -------------------------------------------------------------------------------

@pytest.mark.parametrize("count", range(1, 12))
def test_tiles_never_overlap_and_stay_on_the_canvas(count: int) -> None:
    people = [f"p{i}" for i in range(count)]
    for speaker in (None, "p1" if count > 1 else None):
        for share in (None, "p0"):
            tiles = arrange(W, H, people, speaker, share)
            cameras = [t for t in tiles if t.role == "camera"]
            assert len(cameras) == min(count, MAX_TILES)
            assert all(inside(t.rect) for t in tiles)
            assert all(r.x % 2 == r.y % 2 == r.width % 2 == r.height % 2 == 0
                       for r in (t.rect for t in tiles))
            for i, a in enumerate(tiles):
                assert not any(overlaps(a.rect, b.rect) for b in tiles[i + 1:])


def test_one_person_fills_the_picture_and_two_share_it_side_by_side() -> None:
    [solo] = arrange(W, H, ["a"], margin=0)
    assert solo.rect == Rect(0, 0, W, H)
    left, right = arrange(W, H, ["a", "b"], margin=0)
    assert left.rect.width == right.rect.width == W // 2 and left.rect.x < right.rect.x


def test_the_active_speaker_takes_the_main_area_from_three_people_on() -> None:
    tiles = arrange(W, H, ["a", "b", "c", "d"], speaker="c")
    assert tiles[0].peer_id == "c" and tiles[0].rect.width > W / 2
    assert all(t.rect.width < W / 3 for t in tiles[1:])
    assert [t.peer_id for t in tiles[1:]] == ["a", "b", "d"]  # joining order
    even = arrange(W, H, ["a", "b", "c", "d"])  # no speaker yet: an equal grid
    assert len({(t.rect.width, t.rect.height) for t in even}) == 1


def test_a_screenshare_takes_the_main_area_and_everyone_goes_to_the_strip() -> None:
    tiles = arrange(W, H, ["a", "b", "c"], speaker="b", screenshare="a")
    assert (tiles[0].role, tiles[0].peer_id) == ("screenshare", "a")
    assert tiles[0].rect.width > W / 2
    assert [t.peer_id for t in tiles[1:]] == ["b", "a", "c"]  # the speaker first


def test_past_the_cap_the_speaker_is_still_shown() -> None:
    people = [f"p{i}" for i in range(15)]
    shown = [t.peer_id for t in arrange(W, H, people, speaker="p14")]
    assert len(shown) == MAX_TILES and shown[0] == "p14"


def test_a_grid_is_as_square_as_the_canvas_allows() -> None:
    cells = grid(Rect(0, 0, W, H), 9)
    assert len({c.y for c in cells}) == 3 and len({c.x for c in cells}) == 3


# --- compositor and labels ---------------------------------------------------------------

def solid(rgb: tuple[int, int, int], width: int = 320, height: int = 240) -> av.VideoFrame:
    picture = np.zeros((height, width, 3), dtype=np.uint8)
    picture[:] = rgb
    return av.VideoFrame.from_ndarray(picture, format="rgb24")


def at(picture: np.ndarray, rect: Rect) -> np.ndarray:
    cx, cy = rect.x + rect.width // 2, rect.y + rect.height // 3
    return picture[cy - 3:cy + 3, cx - 3:cx + 3].reshape(-1, 3).mean(axis=0)


def test_the_compositor_puts_each_picture_in_its_tile_and_initials_where_the_camera_is_off(
        ) -> None:
    compositor = Compositor(640, 360)
    compositor.set_frame("a:video", solid((220, 20, 20)))
    compositor.set_frame("b:video", solid((20, 20, 220), 640, 480))
    compositor.set_frame("c:video", solid((20, 220, 20)))  # c's camera is off
    tiles = arrange(640, 360, ["a", "b", "c"], speaker="b")
    names = {"a": "Ada", "b": "Bob", "c": "Cy Young"}
    picture = compositor.compose(tiles, names, {"a", "b"}).to_ndarray(format="rgb24")
    assert picture.shape == (360, 640, 3)
    by_peer = {t.peer_id: t.rect for t in tiles}
    assert np.abs(at(picture, by_peer["b"]) - (20, 20, 220)).max() < 30  # the speaker, big
    assert np.abs(at(picture, by_peer["a"]) - (220, 20, 20)).max() < 30
    initials = picture[by_peer["c"].y + 4, by_peer["c"].x + 4].astype(int)
    assert np.abs(initials - labels.colour_of("c")).max() < 30
    # the name label: a dark box with light text at the tile's bottom left
    r = by_peer["b"]
    label = picture[r.y + r.height - 30:r.y + r.height - 4, r.x + 4:r.x + 60]
    assert label.max() > 200 and label.min() < 60


def test_a_tile_repeats_its_last_frame_and_falls_back_when_its_track_ends() -> None:
    compositor = Compositor(320, 180)
    compositor.set_frame("a:video", solid((220, 20, 20)))
    tiles = arrange(320, 180, ["a"])
    first = compositor.compose(tiles, {"a": "Ada"}, {"a"}).to_ndarray(format="rgb24")
    again = compositor.compose(tiles, {"a": "Ada"}, {"a"}).to_ndarray(format="rgb24")
    assert np.array_equal(first, again)
    compositor.drop("a:video")
    after = compositor.compose(tiles, {"a": "Ada"}, {"a"}).to_ndarray(format="rgb24")
    assert np.abs(at(after, tiles[0].rect) - labels.colour_of("a")).max() < 30


def test_the_watermark_is_blended_in_its_corner(tmp_path: Path) -> None:
    from PIL import Image
    path = tmp_path / "mark.png"
    Image.new("RGBA", (60, 30), (255, 255, 255, 255)).save(path)
    mark = labels.watermark(path, (40, 20), (320, 180))
    picture = Compositor(320, 180, mark, "right bottom").compose([], {}, set())
    rgb = picture.to_ndarray(format="rgb24")
    x, y = labels.corner("right bottom", (40, 20), (320, 180))
    assert rgb[y + 10, x + 20].min() > 220 and rgb[10, 10].max() < 60


def test_initials() -> None:
    assert labels.initials("Ada Lovelace") == "AL"
    assert labels.initials("ada") == "A"
    assert labels.initials("  ") == "?"
    assert labels.initials("Jean-Luc de la Picard") == "JP"


# --- mixer ----------------------------------------------------------------------------------

def tone(frequency: float, start: int, count: int, amplitude: float = 0.3) -> np.ndarray:
    t = (start + np.arange(count)) / RATE
    wave = (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.float32)
    return np.stack([wave, wave])


def test_the_mixer_places_samples_by_rtp_time_not_by_arrival_jitter() -> None:
    mixer = AudioMixer()
    # 50 packets of 20 ms arriving with jitter (and in bursts); RTP says where they go
    for i in range(50):
        jitter = 0.03 * ((i * 7) % 5) / 4
        mixer.place("a:audio", tone(440, i * 960, 960), rtp=1000 + i * 960,
                    arrival=0.5 + i * 0.02 + jitter, epoch=0)
    mixed = mixer.render(0, RATE * 2)
    start = int(0.5 * RATE)
    assert np.abs(mixed[:, :start]).max() == 0
    expected = tone(440, 0, 50 * 960)
    assert np.allclose(mixed[:, start:start + 50 * 960], expected, atol=1e-6)


def test_the_mixer_sums_sources_and_clips() -> None:
    mixer = AudioMixer()
    mixer.place("a:audio", np.full((2, 960), 0.7, np.float32), 0, 0.0, 0)
    mixer.place("b:audio", np.full((2, 960), 0.2, np.float32), 5000, 0.0, 0)
    mixer.place("c:audio", np.full((2, 960), 0.5, np.float32), 0, 0.01, 0)
    mixed = mixer.render(0, 960 + 480)
    assert np.allclose(mixed[:, 0], 0.9) and np.allclose(mixed[:, 480:960], 1.0)
    assert np.allclose(mixed[:, 960:], 0.5)
    assert mixer.render(0, 960).max() == 0  # consumed


def test_a_late_anchor_moves_earlier_without_doubling_samples() -> None:
    mixer = AudioMixer()
    # the first packet waited 30 ms behind a busy moment; the next ones did not
    mixer.place("a:audio", np.full((2, 960), 0.5, np.float32), 0, 0.05, 0)
    for i in range(1, 5):
        mixer.place("a:audio", np.full((2, 960), 0.5, np.float32), i * 960,
                    0.02 + i * 0.02, 0)
    mixed = mixer.render(0, RATE // 5)
    assert mixed.max() == 0.5  # never two copies summed
    # the last packet sits where it arrived (0.10 s) and not 30 ms later
    assert mixed[0, int(0.12 * RATE) - 10] == 0.5 and mixed[0, int(0.12 * RATE) + 10] == 0


def test_after_a_pause_the_mixer_anchors_again() -> None:
    mixer = AudioMixer()
    mixer.place("a:audio", np.ones((2, 960), np.float32), 0, 1.0, epoch=0)
    # the publisher went on for 10 s of RTP time while the recording was paused
    mixer.place("a:audio", np.ones((2, 960), np.float32), 10 * RATE, 1.02, epoch=1)
    mixed = mixer.render(0, 2 * RATE)
    assert mixed[0, int(1.02 * RATE) + 10] == 1.0
    assert mixed[0, int(1.02 * RATE) + 1000] == 0.0


def test_the_mixer_decodes_opus_packets() -> None:
    encoder = av.CodecContext.create("libopus", "w")
    encoder.sample_rate, encoder.layout, encoder.format = RATE, "stereo", "s16"
    encoder.time_base = Fraction(1, RATE)
    mixer = AudioMixer()
    for i in range(25):
        pcm = (tone(1000, i * 960, 960) * 32767).astype(np.int16).T.reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm), format="s16",
                                           layout="stereo")
        frame.sample_rate, frame.pts = RATE, i * 960
        for packet in encoder.encode(frame):
            packet.pts = 960 * i
            mixer.push("a:audio", packet, arrival=0.1 + i * 0.02, epoch=0)
    mixed = mixer.render(0, RATE)
    spectrum = np.abs(np.fft.rfft(mixed[0]))
    assert abs(np.argmax(spectrum) - 1000) <= 2  # 1 Hz bins over one second


# --- outputs ---------------------------------------------------------------------------------

def test_the_writer_encodes_once_and_probes_true_durations(tmp_path: Path) -> None:
    writer = CompositeWriter(tmp_path, "clip", VideoSpec(width=320, height=180, fps=10),
                             AudioSpec(codec="AAC", channel="stereo", export_file=True))
    compositor = Compositor(320, 180)
    for index in range(20):
        writer.write_video(compositor.compose([], {}, set()), index)
        writer.write_audio(tone(440, index * 4800, 4800))
    files = {role: probe(path, role) for path, role in writer.close()}
    assert files["composite"].path.name == "clip.mp4"
    assert files["audio"].path.name == "clip.m4a"
    assert abs(files["composite"].duration_secs - 2.0) < 0.1
    assert abs(files["audio"].duration_secs - 2.0) < 0.1
    assert files["audio"].content_type == "audio/mp4"


@pytest.mark.parametrize(("codec", "decoder"), [("VP8", "vp8"), ("VP9", "vp9")])
def test_a_webm_composite_holds_the_codec_asked_for(tmp_path: Path, codec: str,
                                                    decoder: str) -> None:
    """VP8 or VP9 video with Opus in WebM; the picture survives the encode."""
    writer = CompositeWriter(tmp_path, "clip", VideoSpec(codec=codec, width=320, height=180,
                                                         fps=10),
                             AudioSpec(codec="AAC", channel="stereo", export_file=False))
    green = av.VideoFrame.from_ndarray(np.full((180, 320, 3), (30, 200, 30), np.uint8),
                                       format="rgb24").reformat(format="yuv420p")
    for index in range(20):
        writer.write_video(green, index)
        writer.write_audio(tone(440, index * 4800, 4800))
    [(path, role)] = writer.close()
    composite = probe(path, role)
    assert composite.path.name == "clip.webm" and composite.content_type == "video/webm"
    assert abs(composite.duration_secs - 2.0) < 0.15
    with av.open(str(path)) as container:
        assert container.streams.video[0].codec_context.name == decoder
        assert container.streams.audio[0].codec_context.name == "opus"
        frames = list(container.decode(video=0))
    assert len(frames) == 20
    middle = frames[-1].to_ndarray(format="rgb24")[90, 160].astype(int)
    assert np.abs(middle - (30, 200, 30)).max() < 25


# --- roster --------------------------------------------------------------------------------

def view(peer_id: str, **fields) -> dict:
    return {"peer_id": peer_id, "participant_id": f"u-{peer_id}", "name": peer_id.upper(),
            "stage_status": "OFF_STAGE", "audio": False, "video": False,
            "screenshare": False, **fields}


def test_the_roster_follows_joins_leaves_media_and_the_speaker() -> None:
    roster = Roster([view("a", video=True), view("b")])
    assert roster.scene().people == ("a", "b") and roster.scene().cameras_on == {"a"}
    assert roster.apply("peer.joined", {"peer": view("c", screenshare=True)})
    assert roster.scene().screenshare == "c"
    assert roster.apply("media.speaker", {"peer_id": "b"})
    assert not roster.apply("media.speaker", {"peer_id": None})  # silence: keep b
    assert roster.scene().speaker == "b"
    roster.apply("peer.updated", {"peer": view("c", screenshare=False, name="Cee")})
    assert roster.scene().screenshare is None and roster.scene().names["c"] == "Cee"
    roster.apply("peer.left", {"peer_id": "b", "reason": "left"})
    assert roster.scene().people == ("a", "c") and roster.scene().speaker is None


def test_with_a_stage_only_the_people_on_it_are_shown() -> None:
    roster = Roster([view("host", stage_status="ON_STAGE"), view("viewer"),
                     view("guest", stage_status="ON_STAGE", audio=True)])
    assert roster.scene().people == ("host", "guest")


# --- clock and process control -----------------------------------------------------------

def test_the_clock_stands_still_while_paused() -> None:
    clock = RecordingClock()
    assert clock.now() == 0
    clock.start()
    time.sleep(0.05)
    clock.pause()
    paused_at = clock.now()
    time.sleep(0.1)
    assert clock.now() == paused_at and clock.paused
    clock.resume()
    time.sleep(0.05)
    assert 0.09 < clock.now() < 0.14 and clock.epoch == 1


def test_the_process_control_crosses_a_process_boundary() -> None:
    control = ProcessControl(multiprocessing.get_context("spawn"))
    assert not control.paused() and control.stop_requested() is None
    control.pause()
    assert control.paused()
    control.resume()
    control.stop("MAX_SECONDS")
    control.stop("API_CALL")  # the first reason wins
    assert control.stop_requested() == "MAX_SECONDS"
    assert not control.is_started()
    control.started()
    assert control.wait_started(0.1)


# --- the media thread, fed encoded packets without a meeting ------------------------------

def encoded_colour(rgb: tuple[int, int, int], count: int) -> list[av.Packet]:
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = 160, 120, "yuv420p"
    encoder.time_base, encoder.gop_size = Fraction(1, 30), 30
    packets = []
    for index in range(count):
        frame = solid(rgb, 160, 120).reformat(format="yuv420p")
        frame.pts = index
        packets += encoder.encode(frame)
    return packets  # each with `is_keyframe`, as the pass-through receiver sets it


def test_the_media_thread_records_on_its_clock_and_a_pause_leaves_no_gap(
        tmp_path: Path) -> None:
    from salon.recording.pipeline import CompositePipeline
    from salon.recording.roster import Scene
    from salon.recording.spec import RecordingSpec
    spec = RecordingSpec(recording_id="r", kind="composite", gateway_url="ws://unused",
                         token="t", output_dir=tmp_path, file_name="clip", max_seconds=60,
                         video=VideoSpec(width=320, height=180, fps=10))
    clock = RecordingClock()
    pipeline = CompositePipeline(spec, clock)
    pipeline.scene = Scene(people=("a",), names={"a": "Ada"}, cameras_on=frozenset({"a"}))
    packets = encoded_colour((220, 20, 20), 60)
    clock.start()
    pipeline.start()
    began = time.monotonic()
    for index, packet in enumerate(packets[:30]):
        pipeline.video("a:video", "video/VP8", packet)
        time.sleep(max(0.0, began + (index + 1) / 30 - time.monotonic()))
    clock.pause()
    time.sleep(0.6)
    clock.resume()
    for packet in packets[30:45]:
        pipeline.video("a:video", "video/VP8", packet)
        time.sleep(1 / 30)
    assert pipeline.started.is_set()
    # what was recorded ends when it is stopped, not when its thread is done writing
    # (a busy machine took 0.3 s more to join it, and the test failed on that)
    recorded = time.monotonic() - began - 0.6
    pipeline.stop()
    pipeline.join(10)
    assert pipeline.error is None
    [(path, role), *_] = pipeline.files
    file = probe(path, role)
    assert abs(file.duration_secs - recorded) < 0.25, (file, recorded)
    with av.open(str(path)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert abs(len(frames) - recorded * 10) <= 3
    assert np.abs(at(frames[-1], arrange(320, 180, ["a"])[0].rect) - (220, 20, 20)).max() < 30


def test_a_recorder_that_cannot_join_reports_an_internal_error(tmp_path: Path) -> None:
    """Through the process entry point: the parent always hears back."""
    from salon.recording.process import RecorderProcess
    from salon.recording.spec import RecordingSpec
    spec = RecordingSpec(recording_id="r", kind="composite",
                         gateway_url="ws://127.0.0.1:9/realtime/v1", token="t",
                         output_dir=tmp_path, file_name="clip")
    recorder = RecorderProcess.start(spec)
    try:
        outcome = recorder.outcome(timeout=60)
    finally:
        recorder.kill()
    assert outcome.stop_reason == "INTERNAL_ERROR" and outcome.files == ()
    assert outcome.error is not None and outcome.error.startswith("ConnectionRefusedError")
    assert not recorder.control.is_started() and not list(tmp_path.iterdir())
