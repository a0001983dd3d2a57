"""Two transcribers capturing one session into one directory (one started again, or one
on the node that carries the session on after a failover, docs/cluster.md "Failover"):
each one's files land beside the other's, none overwritten, and the index lists them
all (salon.transcription.capture)."""

import json
from datetime import UTC, datetime
from pathlib import Path

import av
import numpy as np
import pytest

from salon.ai.recognizer import decode_audio
from salon.transcription.capture import MANIFEST, CapturedVoice, Speaker
from salon.transcription.segments import read_capture

ADA = Speaker(participant_id="u-ada", peer_id="p-ada", custom_participant_id="ada",
              name="Ada", joined_at=1_000.0)


def opus_packets(count: int) -> list[av.Packet]:
    """`count` real 20 ms Opus packets of a tone, their RTP timestamps in `pts`."""
    encoder = av.CodecContext.create("libopus", "w")
    encoder.sample_rate, encoder.layout, encoder.format = 48000, "stereo", "s16"
    packets: list[av.Packet] = []
    t = np.arange(960 * count) / 48000
    tone = (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16)
    for index in range(count):
        chunk = tone[index * 960:(index + 1) * 960]
        frame = av.AudioFrame.from_ndarray(np.repeat(chunk, 2).reshape(1, -1),
                                           format="s16", layout="stereo")
        frame.sample_rate, frame.pts = 48000, index * 960
        packets.extend(encoder.encode(frame))
    for rtp, packet in enumerate(packets):
        packet.pts = rtp * 960
    return packets


def test_two_runs_keep_their_files_side_by_side(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # Both files are named in the same millisecond: only the run tags tell them apart.
    monkeypatch.setattr("salon.recording.tracks.time.time", lambda: 1_700_000_000.0)
    packets = opus_packets(25)
    for run, arrived in (("a1b2c3-", 1_010.0), ("d4e5f6-", 1_060.0)):
        voice = CapturedVoice(tmp_path, ADA, run=run)
        for index, packet in enumerate(packets):
            voice.write(packet, arrived + index * 0.02)
        voice.close(left_at=arrived + 1.0)

    lines = (tmp_path / MANIFEST).read_text().splitlines()
    assert len(lines) == 2
    webms = sorted(path.name for path in tmp_path.glob("*.webm"))
    assert len(webms) == 2 and "a1b2c3-" in webms[0] and "d4e5f6-" in webms[1]
    capture = read_capture(tmp_path, datetime.fromtimestamp(1_000.0, UTC))
    assert capture.skipped == ()
    offsets = sorted(round(track.audio_offset_secs) for track in capture.tracks)
    assert offsets == [10, 60]  # each run's stretch where it was said
    for track in capture.tracks:
        with av.open(str(track.path)) as container:
            assert sum(1 for _ in container.demux(audio=0) if _.size) >= 20


def test_a_pause_is_not_a_leave(tmp_path: Path) -> None:
    """A voice that pauses for more than 2 s goes on in a new file; every file says the
    peer left when it did, not when the pause began."""
    packets = opus_packets(30)
    voice = CapturedVoice(tmp_path, ADA)
    for index, packet in enumerate(packets[:15]):
        voice.write(packet, 1_010.0 + index * 0.02)
    for index, packet in enumerate(packets[15:]):  # 5 s of silence before these
        voice.write(packet, 1_015.3 + index * 0.02)
    voice.close(left_at=1_020.0)
    capture = read_capture(tmp_path, datetime.fromtimestamp(1_000.0, UTC))
    assert len(capture.tracks) == 2
    assert [track.left_offset_secs for track in capture.tracks] == [20.0, 20.0]


def test_a_voice_that_never_pauses_is_kept_in_files_of_bounded_length(
        tmp_path: Path) -> None:
    """With DTX a voice sends all the time: its file is closed once it holds
    `max_file_secs` of audio, at the next quiet packet (a few bytes), or
    `quiet_wait_secs` later whatever the packet; each file starts where the last ended."""
    loud = opus_packets(160)  # 3.2 s of a tone, 20 ms a packet
    assert min(packet.size for packet in loud) > 10
    voice = CapturedVoice(tmp_path, ADA, run="r-", max_file_secs=1.0, quiet_wait_secs=0.5)
    for index, packet in enumerate(loud):
        if index in (30, 61):  # 0.6 s in (too soon to close), 1.22 s in: a DTX frame
            packet = av.Packet(b"\xf8\xff\xfe")
            packet.pts = index * 960
        voice.write(packet, 1_010.0 + index * 0.02)
    voice.close(left_at=1_013.2)

    starts = [round(json.loads(line)["started_at"] - 1_010.0, 2)
              for line in (tmp_path / MANIFEST).read_text().splitlines()]
    # (a file starts one 20 ms frame before its first packet arrived) the first file up
    # to the quiet packet at 1.22 s; the second, started at 1.20, closed 1.5 s later
    # (a second, and nothing quiet came in the next half); the third to the end
    assert starts == [-0.02, 1.2, 2.68]
    capture = read_capture(tmp_path, datetime.fromtimestamp(1_000.0, UTC))
    assert len(capture.tracks) == 3 and capture.skipped == ()
    for track in capture.tracks:
        with av.open(str(track.path)) as container:
            assert sum(1 for _ in container.demux(audio=0) if _.size) >= 20


def test_a_voices_quiet_stretches_are_silence_where_they_were(tmp_path: Path) -> None:
    """With DTX a quiet voice sends a one-byte frame every 400 ms: the file's timestamps
    keep the pauses, and decoding keeps them as silence (frame after frame, 12 s of a
    meeting decoded to 2.5 s, and what was said after a pause was placed that much too
    early in the transcript)."""
    tone = opus_packets(100)
    voice = CapturedVoice(tmp_path, ADA, run="r-")
    arrived, rtp = 1_010.0, 0
    for packet in tone[:50]:  # a second of a tone
        packet.pts = rtp
        voice.write(packet, arrived)
        rtp, arrived = rtp + 960, arrived + 0.02
    for _ in range(25):  # ten quiet seconds: a TOC byte alone every 400 ms
        quiet = av.Packet(bytes(tone[0])[:1])
        quiet.pts = rtp
        voice.write(quiet, arrived)
        rtp, arrived = rtp + 19_200, arrived + 0.4
    for packet in tone[50:]:  # the tone again
        packet.pts = rtp
        voice.write(packet, arrived)
        rtp, arrived = rtp + 960, arrived + 0.02
    voice.close(left_at=arrived)

    [path] = tmp_path.glob("*.webm")
    samples = decode_audio(path)
    assert abs(samples.size / 16_000 - 12.0) < 0.05
    loud = np.flatnonzero(np.abs(samples) > 0.05) / 16_000
    assert loud[0] < 0.05 and abs(loud[loud > 1.5][0] - 11.0) < 0.1
    assert not np.any((loud > 1.1) & (loud < 10.9))  # silence in between
