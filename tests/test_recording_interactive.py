"""Interactive recordings at unit level: the composite's one encode as HLS segments with
timed ID3 tags, packed into a tar; read back with PyAV and mutagen (independent readers)."""

import io
import json
import tarfile
from pathlib import Path

import av
import numpy as np
from mutagen.id3 import ID3

from salon.recording import carry, interactive
from salon.recording.outputs import CompositeWriter, probe
from salon.recording.spec import AudioSpec, InteractiveSpec, LiveSpec, VideoSpec


def tone(start: int, count: int) -> np.ndarray:
    t = (start + np.arange(count)) / 48000
    wave = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    return np.stack([wave, wave])


def frame(shade: int) -> av.VideoFrame:
    picture = np.full((180, 320, 3), shade, np.uint8)
    return av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p")


def record(tmp_path: Path, seconds: int, tags: list[tuple[float, object]],
           segment_secs: int = 2, fps: int = 10) -> Path:
    """`seconds` of video and audio with `tags` [(at, payload)] written as they come due,
    as the recorder's encoder thread does; the tar's path."""
    writer = CompositeWriter(tmp_path, "talk", VideoSpec(width=320, height=180, fps=fps),
                             AudioSpec(), interactive=InteractiveSpec(segment_secs))
    pending = sorted(tags, key=lambda tag: tag[0])
    for index in range(seconds * fps):
        while pending and pending[0][0] <= index / fps:
            at, payload = pending.pop(0)
            writer.write_tag(interactive.id3_tag(payload), at)
        writer.write_video(frame(index % 256), index)
        writer.write_audio(tone(index * 4800, 48000 // fps))
    [(path, role)] = writer.close()
    assert role == "composite"
    return path


def unpack(path: Path, into: Path) -> list[str]:
    with tarfile.open(path) as tar:
        names = tar.getnames()
        tar.extractall(into, filter="data")
    return names


def cues(playlist: Path) -> list[tuple[float, str]]:
    """Every ID3 tag of every segment: (seconds from the first video frame, TXXX value)."""
    found, first_video = [], None
    for name in interactive.segments(playlist):
        with av.open(str(playlist.parent / name)) as container:
            for packet in container.demux():
                if packet.pts is None:
                    continue
                seconds = float(packet.pts * packet.time_base)
                if packet.stream.type == "video" and first_video is None:
                    first_video = seconds
                if packet.stream.type == "data":
                    [frame] = ID3(io.BytesIO(bytes(packet))).getall("TXXX")
                    assert frame.desc == "ID3Data"
                    found.append((seconds, frame.text[0]))
    assert first_video is not None
    return [(round(seconds - first_video, 2), text) for seconds, text in found]


def test_an_interactive_recording_is_a_tar_of_hls_segments_with_timed_tags(
        tmp_path: Path) -> None:
    path = record(tmp_path, 7, [(1.0, "chapter one"), (3.5, {"poll": "p1", "open": True}),
                                (6.2, [1, 2])])
    assert path == tmp_path / "talk.tar"
    assert not list(tmp_path.glob(".*"))  # no work directory or temporary tar left

    names = unpack(path, tmp_path / "out")
    assert names[0] == "index.m3u8" and len(names) == 5  # the playlist and 4 segments
    playlist = tmp_path / "out" / "index.m3u8"
    text = playlist.read_text()
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in text and text.rstrip().endswith("#EXT-X-ENDLIST")
    assert interactive.segments(playlist) == names[1:]
    durations = [float(line[8:].split(",")[0]) for line in text.splitlines()
                 if line.startswith("#EXTINF:")]
    assert durations[:3] == [2.0, 2.0, 2.0] and abs(sum(durations) - 7.0) < 0.15

    # Each tag at its time; a string payload as it is, anything else as JSON.
    assert cues(playlist) == [(1.0, "chapter one"), (3.5, '{"poll":"p1","open":true}'),
                              (6.2, "[1,2]")]

    with av.open(str(tmp_path / "out" / names[1])) as segment:
        kinds = sorted(s.type for s in segment.streams)
        assert kinds == ["audio", "data", "video"]
        assert segment.streams.video[0].codec_context.name == "h264"
        assert segment.streams.audio[0].codec_context.name == "aac"
        assert next(segment.decode(video=0)).key_frame  # every segment starts on one

    composite = probe(path, "composite")
    assert composite.content_type == "application/x-tar"
    assert composite.size == path.stat().st_size
    assert abs(composite.duration_secs - 7.0) < 0.15


def test_a_tag_in_the_payload_survives_any_text(tmp_path: Path) -> None:
    """Unicode, quotes, newlines and NULs round-trip through the tag."""
    payload = {"text": "Zoë says \"hi\"\nline two", "nul": "a\u0000b", "n": 1.5}
    tag = interactive.id3_tag(payload)
    [frame] = ID3(io.BytesIO(tag)).getall("TXXX")
    assert json.loads(frame.text[0]) == payload
    assert tag[:5] == b"ID3\x04\x00"  # ID3v2.4


def test_a_recording_without_tags_still_plays(tmp_path: Path) -> None:
    path = record(tmp_path, 3, [])
    unpack(path, tmp_path / "out")
    assert cues(tmp_path / "out" / "index.m3u8") == []
    with av.open(str(tmp_path / "out" / "index.m3u8")) as playlist:
        assert len(list(playlist.decode(video=0))) == 30


def test_a_killed_recorders_segments_are_carried_on_and_joined(tmp_path: Path) -> None:
    """A recorder killed mid-recording leaves its HLS work directory: the node carrying the
    recording on packs what it holds and joins it with what it records itself, into one
    playlist with a discontinuity between the two recorders."""
    earlier, here = tmp_path / "node-a", tmp_path / "node-b"
    killed = CompositeWriter(earlier, "talk", VideoSpec(width=320, height=180, fps=10),
                             AudioSpec(), interactive=InteractiveSpec(2))
    for index in range(70):  # 7 s, never closed: the node died
        if index == 15:
            killed.write_tag(interactive.id3_tag("before"), 1.5)
        killed.write_video(frame(index), index)
        killed.write_audio(tone(index * 4800, 4800))
    assert (earlier / ".talk.hls" / "index.m3u8").exists()

    parts = carry.gather(earlier, here)
    assert not (earlier / ".talk.hls").exists()
    [salvaged] = [p / "talk.tar" for p in parts]
    assert unpack(salvaged, tmp_path / "salvaged")[1:] == ["seg_00000.ts", "seg_00001.ts"]
    assert (tmp_path / "salvaged" / "index.m3u8").read_text().endswith("#EXT-X-ENDLIST\n")

    after = record(here, 3, [(0.5, "after")])
    [joined] = carry.joined([probe(after, "composite")], parts)
    assert joined.path == here / "talk.tar" and joined.content_type == "application/x-tar"
    assert abs(joined.duration_secs - 7.0) < 0.2  # 4 s salvaged, 3 s after
    names = unpack(joined.path, tmp_path / "joined")
    playlist = tmp_path / "joined" / "index.m3u8"
    text = playlist.read_text()
    assert names[1:] == [f"seg_{n:05d}.ts" for n in range(4)] == interactive.segments(playlist)
    assert text.count("#EXT-X-DISCONTINUITY") == 1 and "PLAYLIST-TYPE:VOD" in text
    assert text.index("seg_00001.ts") < text.index("#EXT-X-DISCONTINUITY") \
        < text.index("seg_00002.ts")
    assert [value for _, value in cues(playlist)] == ["before", "after"]


def test_a_tag_stamped_before_the_last_one_is_written_at_the_last_ones_time(
        tmp_path: Path) -> None:
    """The muxer refuses a stream that goes back: such a tag is moved up, not lost, and
    the recording is not harmed."""
    writer = CompositeWriter(tmp_path, "talk", VideoSpec(width=320, height=180, fps=10),
                             AudioSpec(), interactive=InteractiveSpec(2))
    for index in range(30):
        if index == 20:
            writer.write_tag(interactive.id3_tag("late"), 2.0)
            writer.write_tag(interactive.id3_tag("earlier"), 1.5)
            writer.write_tag(interactive.id3_tag("same"), 2.0)
        writer.write_video(frame(index), index)
        writer.write_audio(tone(index * 4800, 4800))
    [(path, _)] = writer.close()
    unpack(path, tmp_path / "out")
    assert cues(tmp_path / "out" / "index.m3u8") == [(2.0, "late"), (2.0, "earlier"),
                                                    (2.0, "same")]


def test_a_livestreamed_interactive_recording_feeds_both_from_one_encode(
        tmp_path: Path) -> None:
    """A livestream's HLS and an interactive recording's from the same encode: each gets
    every frame and all the audio."""
    writer = CompositeWriter(tmp_path, "talk", VideoSpec(width=320, height=180, fps=10),
                             AudioSpec(), live=LiveSpec(hls_dir=tmp_path / "live", hls_time=1,
                                                        hls_list_size=0),
                             interactive=InteractiveSpec(2))
    for index in range(30):
        writer.write_video(frame(index * 8), index)
        writer.write_audio(tone(index * 4800, 4800))
    [(path, _)] = writer.close()
    unpack(path, tmp_path / "out")
    for playlist in (tmp_path / "out" / "index.m3u8", tmp_path / "live" / "index.m3u8"):
        with av.open(str(playlist)) as container:
            frames = list(container.decode(video=0))
        with av.open(str(playlist)) as container:
            audio = sum(f.samples for f in container.decode(audio=0))
        assert len(frames) == 30, playlist
        assert abs(audio / 48000 - 3.0) < 0.1, playlist
