"""Recording files that survive a killed recorder, and a recording's parts joined into
one file (salon.recording.parts, salon.recording.carry): real encodes with PyAV, a real
process killed with SIGKILL."""

import logging
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest

from salon.recording import carry, parts
from salon.recording.outputs import CompositeWriter, probe
from salon.recording.spec import AudioSpec, VideoSpec

VIDEO = VideoSpec(codec="H264", width=320, height=240)
FPS = VIDEO.fps

#: Records with the composite's own writer, then dies with SIGKILL, as with its node.
KILLED_WRITER = """
import os, signal, sys
from pathlib import Path
import numpy as np
import av
from salon.recording.outputs import CompositeWriter
from salon.recording.spec import AudioSpec, VideoSpec
writer = CompositeWriter(Path(sys.argv[1]), "meeting", VideoSpec(codec="H264", width=320,
                         height=240), AudioSpec(codec="AAC", channel="stereo",
                         export_file=True))
fps = writer.video_spec.fps
for index in range(int(float(sys.argv[2]) * fps)):
    frame = av.VideoFrame(320, 240, "yuv420p")
    writer.write_video(frame, index)
    writer.write_audio(np.zeros((2, 48000 // fps), dtype=np.float32))
os.kill(os.getpid(), signal.SIGKILL)
"""


def killed_recorder(directory: Path, seconds: float) -> None:
    """What a recorder killed with its node leaves after `seconds` of recording."""
    done = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(directory), str(seconds)],
                          capture_output=True, timeout=60)
    assert done.returncode == -9, done.stderr.decode()


def finished_recording(directory: Path, seconds: float) -> Path:
    """A recording written to its end by the composite's writer: its final MP4."""
    writer = CompositeWriter(directory, "meeting", VIDEO,
                             AudioSpec(codec="AAC", channel="stereo", export_file=True))
    for index in range(int(seconds * FPS)):
        writer.write_video(av.VideoFrame(320, 240, "yuv420p"), index)
        writer.write_audio(np.zeros((2, 48000 // FPS), dtype=np.float32))
    done = dict((role, path) for path, role in writer.close())
    return done["composite"]


def timestamps_rise(path: Path) -> bool:
    with av.open(str(path)) as container:
        last: dict[int, int] = {}
        for packet in container.demux():
            if packet.dts is None:
                continue
            if packet.dts <= last.get(packet.stream.index, -1):
                return False
            last[packet.stream.index] = packet.dts
    return True


def test_a_killed_recorder_s_work_file_still_plays(tmp_path: Path) -> None:
    killed_recorder(tmp_path, 3.0)
    work = tmp_path / ".meeting.mp4.part"
    assert work.exists() and not (tmp_path / "meeting.mp4").exists()
    repaired = parts.repair(work, tmp_path / "meeting.mp4")
    assert repaired is not None
    played = probe(repaired, "composite")
    # Up to its last whole fragment (about a second each): most of what was recorded.
    assert 1.5 <= played.duration_secs <= 3.1
    with av.open(str(repaired)) as container:
        assert sum(1 for _ in container.decode(video=0)) >= 1.5 * FPS
    audio = parts.repair(tmp_path / ".meeting.m4a.part", tmp_path / "meeting.m4a")
    assert audio is not None and probe(audio, "audio").duration_secs >= 1.5


def test_a_finished_recording_is_a_faststart_mp4(tmp_path: Path) -> None:
    path = finished_recording(tmp_path, 1.0)
    data = path.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")  # the index in front
    assert b"moof" not in data  # no longer fragmented
    with av.open(str(path)) as container:  # the frames' timing as written
        assert container.streams.video[0].average_rate == FPS
    assert not list(tmp_path.glob(".*.part"))


def test_two_parts_join_into_one_file_of_both_durations(tmp_path: Path) -> None:
    first = finished_recording(tmp_path / "a", 2.0)
    second = finished_recording(tmp_path / "b", 1.5)
    joined = tmp_path / "joined.mp4"
    duration = parts.join([first, second], joined)
    played = probe(joined, "composite")
    assert duration == pytest.approx(3.5, abs=0.15)
    assert played.duration_secs == pytest.approx(3.5, abs=0.15)
    assert timestamps_rise(joined)
    with av.open(str(joined)) as container:
        assert sum(1 for _ in container.decode(video=0)) == int(3.5 * FPS)


def test_carrying_on_joins_the_dead_recorder_s_part_before_the_new_one(
        tmp_path: Path) -> None:
    dead, here = tmp_path / "node-a", tmp_path / "node-b"
    killed_recorder(dead, 2.5)
    gathered = carry.gather(dead, here)
    assert [p.name for p in gathered] == ["000"]
    assert not list(dead.glob(".*.part"))  # moved into the carrier's parts
    earlier = probe(gathered[0] / "meeting.mp4", "composite").duration_secs
    # Each file was cut by the kill wherever its own last fragment ended.
    earlier_audio = probe(gathered[0] / "meeting.m4a", "audio").duration_secs
    latest = finished_recording(here, 1.5)
    files = carry.joined([probe(latest, "composite"),
                          probe(here / "meeting.m4a", "audio")], carry.parts_of(here))
    by_role = {file.role: file for file in files}
    assert set(by_role) == {"composite", "audio"}
    assert by_role["composite"].path == latest
    assert by_role["composite"].duration_secs == pytest.approx(earlier + 1.5, abs=0.15)
    assert by_role["audio"].duration_secs == pytest.approx(earlier_audio + 1.5, abs=0.2)
    assert timestamps_rise(latest)


def test_a_second_failover_keeps_every_part_in_order(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    finished_recording(a, 1.0)
    carry.gather(a, b)
    killed_recorder(b, 2.5)  # node B carried on, then died too
    gathered = carry.gather(b, c)
    assert [p.name for p in gathered] == ["000", "001"]
    assert probe(gathered[0] / "meeting.mp4", "composite").duration_secs == \
        pytest.approx(1.0, abs=0.1)
    files = carry.left_behind(c, c)  # nobody records after: what there is, joined
    composite = next(f for f in files if f.role == "composite")
    assert 2.5 <= composite.duration_secs <= 3.6


def test_an_unreadable_earlier_part_leaves_the_part_after_alone(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    here = tmp_path / "here"
    with caplog.at_level(logging.WARNING, "salon.recording"):
        assert carry.gather(tmp_path / "another-machine", here) == []
    assert "cannot be read" in caplog.text
    latest = finished_recording(here, 1.0)
    files = carry.joined([probe(latest, "composite")], carry.parts_of(here))
    assert [f.duration_secs for f in files] == [pytest.approx(1.0, abs=0.1)]


def test_a_work_file_with_nothing_playable_is_left_out(tmp_path: Path) -> None:
    dead = tmp_path / "dead"
    dead.mkdir()
    (dead / ".meeting.mp4.part").write_bytes(b"\x00\x00\x00\x1cftypisom")
    gathered = carry.gather(dead, tmp_path / "here")
    assert [list(p.iterdir()) for p in gathered] == [[]]

