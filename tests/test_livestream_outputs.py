"""One encode, several outputs: `CompositeWriter` with live outputs (the file kept for
a recording with RTMP out; no file for a livestream), and the RTMP front's pieces."""

import io
import time
from pathlib import Path

import av
import numpy as np
import pytest

from salon.core.livestreams import first_segment_after, with_discontinuity_sequence
from salon.livestream import amf, rtmp
from salon.recording.outputs import CompositeWriter
from salon.recording.spec import AudioSpec, LiveSpec, VideoSpec
from tests.fake_livestreamer import picture
from tests.servers import free_port
from tests.test_livestream_api import RtmpReceiver, decode, segments_of

VIDEO = VideoSpec(width=160, height=96, fps=10)


def _write(writer: CompositeWriter, frames: int) -> None:
    for index in range(frames):
        writer.write_video(picture(index, VIDEO.width, VIDEO.height), index)
        writer.write_audio(np.zeros((2, 4800), dtype=np.float32))


def test_a_recording_pushes_its_encode_over_rtmp_and_keeps_its_file(tmp_path: Path) -> None:
    receiver = RtmpReceiver()
    time.sleep(0.3)
    writer = CompositeWriter(tmp_path, "rec", VIDEO, AudioSpec(),
                             LiveSpec(rtmp_urls=(receiver.url,), hls_time=2, keep_file=True))
    _write(writer, 40)
    files = writer.close()
    receiver.thread.join(10)
    assert [role for _, role in files] == ["composite"]
    with av.open(str(files[0][0])) as container:
        assert sum(1 for _ in container.decode(video=0)) == 40
    assert receiver.video == 40 and receiver.size == (160, 96) and receiver.audio >= 30


def test_a_livestream_writes_hls_and_no_file(tmp_path: Path) -> None:
    hls = tmp_path / "hls"
    unreachable = f"rtmp://127.0.0.1:{free_port()}/live/k"
    writer = CompositeWriter(tmp_path / "work", "x", VIDEO, AudioSpec(),
                             LiveSpec(hls_dir=hls, rtmp_urls=(unreachable,)))
    _write(writer, 35)
    assert writer.live is not None and len(writer.live.failed) == 1
    assert "/live/…" in writer.live.failed[0] and "/k" not in writer.live.failed[0]
    assert writer.close() == []
    assert list((tmp_path / "work").iterdir()) == []
    playlist = (hls / "index.m3u8").read_text()
    assert playlist.rstrip().endswith("#EXT-X-ENDLIST")
    names = segments_of(playlist)
    assert len(names) == 4  # 35 frames at 10 fps, a segment a second
    video, audio, seconds = decode((hls / names[0]).read_bytes())
    assert video == 10 and audio >= 40 and 0.85 <= seconds <= 0.95


def test_a_taken_over_playlist_goes_on_after_a_discontinuity(tmp_path: Path) -> None:
    """An encoder that takes a LIVE session over numbers its segments past the earlier
    encoder's, in every quality, after `#EXT-X-DISCONTINUITY`: a player reloading the
    same playlist URL sees it go on, not start again."""
    first = first_segment_after(20.0)
    assert first > 20 and first_segment_after(0.0) == 1 and first_segment_after(-5) == 1
    assert first_segment_after(3600.0) > 3600  # never a number already used
    hls = tmp_path / "hls"
    writer = CompositeWriter(tmp_path / "work", "x", VideoSpec(width=320, height=180, fps=10),
                             AudioSpec(), LiveSpec(hls_dir=hls, qualities=(90,),
                                                   first_segment=first,
                                                   segment_prefix="0a1b2c3d"))
    for index in range(25):
        writer.write_video(picture(index, 320, 180), index)
        writer.write_audio(np.zeros((2, 4800), dtype=np.float32))
    writer.close()
    for name in ("q180", "q90"):
        playlist = (hls / name / "index.m3u8").read_text()
        assert f"#EXT-X-MEDIA-SEQUENCE:{first}" in playlist
        assert playlist.index("#EXT-X-DISCONTINUITY") < playlist.index("#EXTINF")
        assert segments_of(playlist)[0] == f"seg_0a1b2c3d_{first:05d}.ts"
    # a new session's playlist starts at 0, with no discontinuity
    fresh = tmp_path / "fresh"
    writer = CompositeWriter(tmp_path / "work2", "x", VIDEO, AudioSpec(),
                             LiveSpec(hls_dir=fresh))
    _write(writer, 15)
    writer.close()
    playlist = (fresh / "index.m3u8").read_text()
    assert "#EXT-X-MEDIA-SEQUENCE:0" in playlist and "DISCONTINUITY" not in playlist


def test_a_taken_over_playlist_counts_the_discontinuities_that_slid_out(
        tmp_path: Path) -> None:
    """Once the takeover's first segment (and its `#EXT-X-DISCONTINUITY`) leaves the
    sliding list, the playlist is served with `#EXT-X-DISCONTINUITY-SEQUENCE`, so a
    player joining then numbers the segments' discontinuities as one that watched
    throughout (RFC 8216 §6.2.2); the muxer itself writes none."""
    from salon.livestream import fast_path, playback

    hls = tmp_path / "hls"
    playback.write_takeovers(hls, 1)
    writer = CompositeWriter(tmp_path / "work", "x", VIDEO, AudioSpec(),
                             LiveSpec(hls_dir=hls, hls_list_size=3, first_segment=50))
    files = fast_path.HlsFiles()
    for index in range(40):
        writer.write_video(picture(index, VIDEO.width, VIDEO.height), index)
        writer.write_audio(np.zeros((2, 4800), dtype=np.float32))
        if index == 15:  # seg 50 still listed, after its discontinuity
            early = files.playlist(hls / "index.m3u8", hls).decode()
    writer.close()
    assert "#EXT-X-MEDIA-SEQUENCE:50\n#EXT-X-DISCONTINUITY\n" in early
    assert "DISCONTINUITY-SEQUENCE" not in early
    written = (hls / "index.m3u8").read_text()
    assert "DISCONTINUITY" not in written  # what the muxer wrote once seg 50 was gone
    served = files.playlist(hls / "index.m3u8", hls).decode()
    assert "#EXT-X-MEDIA-SEQUENCE:51\n#EXT-X-DISCONTINUITY-SEQUENCE:1\n" in served
    assert segments_of(served) == segments_of(written)
    assert playback.as_served(written.encode(), hls).decode() == served  # the route's
    # a third encoder: two discontinuities gone, or one while its own is listed
    playback.write_takeovers(hls, 2)
    assert "SEQUENCE:2\n" in playback.as_served(written.encode(), hls).decode()
    assert "SEQUENCE:1\n" in playback.as_served(early.encode(), hls).decode()
    # never taken over, a master playlist, or one that has the tag: as they are
    master = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nq180/index.m3u8\n"
    assert with_discontinuity_sequence(master, 2) == master
    assert with_discontinuity_sequence(written, 0) == written
    assert with_discontinuity_sequence(served, 5) == served
    (hls / playback.TAKEOVERS).unlink()
    assert playback.as_served(written.encode(), hls).decode() == written


def test_amf_round_trip_and_refusals() -> None:
    values = ["connect", 1.0, {"app": "live", "tcUrl": "rtmp://h/live", "n": None,
                               "ok": True}, None]
    assert amf.decode(amf.encode(*values)) == values
    with pytest.raises(amf.AmfError):
        amf.decode(b"\x02\x00\x10ab")  # a string longer than the data
    with pytest.raises(amf.AmfError):
        amf.decode(b"\x11")  # AMF3 marker: not AMF0


def test_flv_tags_of_media_and_metadata() -> None:
    video = rtmp.flv_tag(rtmp.Message(rtmp.VIDEO, 1, 0x01020304, b"\x17\x00abc"))
    assert video is not None
    assert video[0] == 9 and video[1:4] == (5).to_bytes(3, "big")
    assert video[4:7] == bytes([2, 3, 4]) and video[7] == 1  # 24 bits, then the high byte
    assert video[-4:] == (11 + 5).to_bytes(4, "big")
    meta = rtmp.flv_tag(rtmp.Message(rtmp.DATA, 1, 0, amf.encode(
        "@setDataFrame", "onMetaData", {"width": 320.0})))
    assert meta is not None and amf.decode(meta[11:-4]) == ["onMetaData", {"width": 320.0}]
    assert rtmp.flv_tag(rtmp.Message(rtmp.DATA, 1, 0, amf.encode("|RtmpSampleAccess"))) is None
    assert rtmp.flv_tag(rtmp.Message(rtmp.COMMAND, 1, 0, b"")) is None
    # A whole FLV made of such tags is what the remuxer reads.
    assert io.BytesIO(rtmp.FLV_HEADER + video).read(3) == b"FLV"


def test_viewer_qualities_under_a_master_playlist(tmp_path: Path) -> None:
    hls = tmp_path / "hls"
    video = VideoSpec(width=320, height=180, fps=10)
    writer = CompositeWriter(tmp_path / "work", "x", video, AudioSpec(),
                             LiveSpec(hls_dir=hls, qualities=(360, 144, 90)))
    for index in range(25):
        writer.write_video(picture(index, 320, 180), index)
        writer.write_audio(np.zeros((2, 4800), dtype=np.float32))
    writer.close()
    master = (hls / "index.m3u8").read_text()
    # 360 is above the source: left out; the source first, then lower qualities.
    assert segments_of(master) == ["q180/index.m3u8", "q144/index.m3u8", "q90/index.m3u8"]
    assert "RESOLUTION=320x180" in master and "RESOLUTION=256x144" in master
    assert "RESOLUTION=160x90" in master
    for name, size in (("q180", (320, 180)), ("q144", (256, 144)), ("q90", (160, 90))):
        playlist = (hls / name / "index.m3u8").read_text()
        first = segments_of(playlist)[0]
        data = (hls / name / first).read_bytes()
        with av.open(io.BytesIO(data), format="mpegts") as container:
            frames = list(container.decode(video=0))
        assert (frames[0].width, frames[0].height) == size and len(frames) == 10
        video_frames, audio, seconds = decode(data)
        assert audio >= 40 and 0.85 <= seconds <= 0.95, (name, audio, seconds)


def test_codecs_hls_cannot_carry_are_named() -> None:
    def video(first: int) -> rtmp.Message:
        return rtmp.Message(rtmp.VIDEO, 1, 0, bytes([first]) + b"\x00")

    def audio(first: int) -> rtmp.Message:
        return rtmp.Message(rtmp.AUDIO, 1, 0, bytes([first]) + b"\x00")

    assert rtmp.unsupported(video(0x17)) is None            # keyframe, AVC
    assert rtmp.unsupported(audio(0xAF)) is None            # AAC
    assert rtmp.unsupported(audio(0x2F)) is None            # MP3
    assert "not H.264" in rtmp.unsupported(video(0x12))     # FLV1 (Sorenson)
    assert "not H.264" in rtmp.unsupported(video(0x94))     # enhanced RTMP (HEVC/AV1)
    assert "not AAC or MP3" in rtmp.unsupported(audio(0xB6))  # Speex


def test_the_fast_paths_memory_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from salon.livestream import fast_path

    monkeypatch.setattr(fast_path, "SEGMENT_BYTES_KEPT", 3000)
    files = fast_path.HlsFiles()
    for index in range(5):
        (tmp_path / f"seg_{index:05d}.ts").write_bytes(bytes(1000))
        assert files.segment(tmp_path / f"seg_{index:05d}.ts") == bytes(1000)
    assert files.kept == 3000 and [p.name for p in files.segments] == [
        "seg_00002.ts", "seg_00003.ts", "seg_00004.ts"]
    assert files.segment(tmp_path / "seg_00009.ts") is None
    # a livestream started again writes seg_00000.ts anew: the new file is served
    fresh = tmp_path / "seg_00004.ts.tmp"
    fresh.write_bytes(b"new session")
    fresh.rename(tmp_path / "seg_00004.ts")
    assert files.segment(tmp_path / "seg_00004.ts") == b"new session"
    assert files.kept == 2000 + len(b"new session")
    (tmp_path / "seg_00004.ts").unlink()
    assert files.segment(tmp_path / "seg_00004.ts") is None and files.kept == 2000
    playlist = tmp_path / "index.m3u8"
    playlist.write_text("#EXTM3U\n")
    assert files.playlist(playlist, tmp_path) == b"#EXTM3U\n"
    playlist.write_text("#EXTM3U\nseg_00004.ts\n")
    import os
    os.utime(playlist, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
    assert files.playlist(playlist, tmp_path) == b"#EXTM3U\nseg_00004.ts\n"  # read again
    playlist.unlink()
    assert files.playlist(playlist, tmp_path) is None


def test_playback_urls_name_the_playback_base_else_the_public_url() -> None:
    from salon.livestream.service import urls_of
    from salon.settings import Settings

    plain = urls_of(Settings(public_url="https://node-1.example"))
    assert plain.playback("abc") == "https://node-1.example/live/abc/index.m3u8"
    balanced = urls_of(Settings(public_url="https://node-1.example",
                                livestream_playback_url="https://meet.example/"))
    assert balanced.playback("abc") == "https://meet.example/live/abc/index.m3u8"
    assert balanced.ingest_server == plain.ingest_server  # encoders still reach this node


def test_each_session_names_its_segments_apart() -> None:
    """A segment is served as immutable: a later session of the livestream, which numbers
    from 0 again, must not reuse a name a browser or a CDN has cached."""
    from salon.livestream.outputs import hls_options, segment_prefix
    from salon.livestream.playback import valid_name

    first, second = (segment_prefix(sid) for sid in (
        "0a1b2c3d-0000-4000-8000-000000000001", "9f8e7d6c-0000-4000-8000-000000000002"))
    assert (first, second) == ("0a1b2c3d", "9f8e7d6c")
    names = [hls_options(1, 6, Path("/x"), 0, prefix)["hls_segment_filename"]
             for prefix in (first, second)]
    assert names == ["/x/seg_0a1b2c3d_%05d.ts", "/x/seg_9f8e7d6c_%05d.ts"]
    livestream = "0a1b2c3d-0000-4000-8000-00000000000f"
    for name in ("seg_0a1b2c3d_00000.ts", "seg_00012.ts", "index.m3u8"):
        assert valid_name(livestream, name)
    for name in ("seg_0A1B2C3D_00000.ts", "seg_0a1b_00000.ts", "seg_0a1b2c3d_.ts",
                 "seg_../00000.ts", "seg_0a1b2c3d_00000.mp4"):
        assert not valid_name(livestream, name)
