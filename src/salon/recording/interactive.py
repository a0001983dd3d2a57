"""Interactive recordings: the composite as HLS with timed metadata, packed in a tar.

RealtimeKit's `interactive_config: {"type": "ID3"}` records the meeting as an HLS
playlist of ten-second segments and delivers it as one `.tar`; apps put cue points on its
timeline by broadcasting messages of type `ID3Data` while it records. Each such message
becomes an ID3v2.4 tag on the segments' timed-metadata stream (MPEG-TS stream type 0x15,
what hls.js, Safari and ExoPlayer hand to the page as metadata cues), stamped with the
recording time the recorder received it, so it plays back where it happened.

The tag holds one `TXXX` frame: description `ID3Data`, value the broadcast's payload (a
string as it is, anything else as compact JSON). The tags are built with mutagen.

The segments are muxed from the composite's one encode (no second encode: the same H.264
and AAC packets, `salon.recording.outputs`); the encoder's two-second GOP puts a keyframe
on every ten-second boundary. The playlist is rewritten after every segment (an EVENT
playlist, which becomes a VOD one when it ends), and the muxer holds packets back at most
a second for the sparse metadata stream, so a recorder killed with its node leaves a
directory that plays up to its last whole segment: `salvage` packs it, and `join` makes
one recording of the tars of a recording carried on by another node
(`salon.recording.carry`).
"""

import io
import json
import logging
import shutil
import tarfile
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from mutagen.id3 import ID3, TXXX

log = logging.getLogger("salon.recording")

#: Seconds per segment: RealtimeKit's default for interactive recordings.
SEGMENT_SECS = 10
PLAYLIST = "index.m3u8"
#: The broadcast type whose payload becomes a tag, and the TXXX frame's description.
ID3_DATA = "ID3Data"
#: A broadcast of this type, or an `ID3Data` broadcast with this payload, ends the
#: recording's metadata: later `ID3Data` broadcasts are not written.
CLOSE_TRANSPORT = "CLOSE_TRANSPORT"
CONTENT_TYPE = "application/x-tar"
#: MPEG-TS time: the timed-metadata packets are stamped on its 90 kHz clock.
TS_CLOCK = Fraction(1, 90_000)


def id3_tag(payload: Any) -> bytes:
    """One broadcast's payload as a whole ID3v2.4 tag (header and one TXXX frame)."""
    text = payload if isinstance(payload, str) else json.dumps(
        payload, separators=(",", ":"), ensure_ascii=False)
    tag = ID3()
    tag.add(TXXX(encoding=3, desc=ID3_DATA, text=[text]))
    out = io.BytesIO()
    tag.save(out, v2_version=4, padding=lambda info: 0)
    return out.getvalue()


def closes(kind: Any, payload: Any) -> bool:
    """Whether a broadcast ends the recording's tags: of type `CLOSE_TRANSPORT`, or of
    type `ID3Data` with `CLOSE_TRANSPORT` as its payload."""
    return kind == CLOSE_TRANSPORT or (kind == ID3_DATA and payload == CLOSE_TRANSPORT)


def hls_directory(output_dir: Path, file_name: str) -> Path:
    """Where an interactive recording's segments are written until they are packed."""
    return output_dir / f".{file_name}.hls"


def tar_of(directory: Path) -> Path | None:
    """The tar a work directory (`hls_directory`) becomes; None: not one."""
    name = directory.name
    if not (name.startswith(".") and name.endswith(".hls")):
        return None
    return directory.with_name(f"{name[1:-len('.hls')]}.tar")


class InteractiveOutput:
    """The HLS muxer fed the composite's encoded packets (`mux`) and the tags (`tag`);
    `close` ends the playlist and packs the directory into `tar_path`."""

    def __init__(self, templates: list[av.stream.Stream], directory: Path, tar_path: Path,
                 segment_secs: int = SEGMENT_SECS) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.tar_path = tar_path
        self.container = av.open(str(directory / PLAYLIST), "w", format="hls", options={
            "hls_time": str(segment_secs), "hls_list_size": "0",
            "hls_playlist_type": "event", "hls_flags": "independent_segments+temp_file",
            "max_interleave_delta": "1000000",
            "hls_segment_filename": str(directory / "seg_%05d.ts")})
        #: Encoder stream index → this container's copy of it.
        self.streams = {t.index: self.container.add_stream_from_template(t) for t in templates}
        self.metadata = self.container.add_data_stream("timed_id3")
        self.tags = 0
        self._last_stamp = 0

    def mux(self, packet: av.Packet) -> None:
        """The encoder's packet (its `stream` is the encoder's)."""
        packet.stream = self.streams[packet.stream.index]
        self.container.mux(packet)

    def tag(self, tag: bytes, seconds: float) -> None:
        """An ID3 tag at `seconds` of recorded time, never before the last one (the
        muxer refuses a stream that goes back). A tag the muxer refuses anyway is logged
        and dropped: a cue point is not worth the recording."""
        stamp = max(round(seconds / TS_CLOCK), self._last_stamp)
        packet = av.Packet(tag)
        packet.stream = self.metadata
        packet.time_base = TS_CLOCK
        packet.pts = packet.dts = stamp
        try:
            self.container.mux(packet)
        except av.error.FFmpegError as exc:
            log.warning("an ID3 tag at %.3f s was not written: %s", seconds, exc)
            return
        self._last_stamp = stamp
        self.tags += 1

    def close(self) -> Path:
        """End the playlist and pack it with its segments; the directory is removed."""
        self.container.close()
        end(self.directory / PLAYLIST)
        return pack(self.directory, self.tar_path)

    def abandon(self) -> None:
        try:
            self.container.close()
        except av.error.FFmpegError:
            pass
        _remove(self.directory)


def pack(directory: Path, tar_path: Path) -> Path:
    """The playlist and its segments, in playlist order, as an uncompressed tar at
    `tar_path` (written under a temporary name, renamed when whole)."""
    temporary = tar_path.with_name(f".{tar_path.name}.packing")
    with tarfile.open(temporary, "w") as tar:
        tar.add(directory / PLAYLIST, arcname=PLAYLIST)
        for name in segments(directory / PLAYLIST):
            tar.add(directory / name, arcname=name)
    temporary.replace(tar_path)
    _remove(directory)
    return tar_path


def salvage(directory: Path, tar_path: Path) -> Path | None:
    """What a killed recorder's work directory holds (the segments its playlist had
    listed), packed at `tar_path` with the playlist ended; None if it holds no segment.
    The directory is removed either way."""
    playlist = directory / PLAYLIST
    if not playlist.exists() or not segments(playlist):
        _remove(directory)
        return None
    end(playlist)
    return pack(directory, tar_path)


def end(playlist: Path) -> None:
    """A finished recording's playlist: VOD (no segment will be added), ended."""
    text = playlist.read_text().replace("#EXT-X-PLAYLIST-TYPE:EVENT",
                                        "#EXT-X-PLAYLIST-TYPE:VOD")
    if "#EXT-X-ENDLIST" not in text:
        text = text.rstrip("\n") + "\n#EXT-X-ENDLIST\n"
    playlist.write_text(text)


def join(parts: list[Path], tar_path: Path) -> float:
    """Interactive recordings' tars, in order, as one tar at `tar_path`: one playlist
    whose parts are separated by `#EXT-X-DISCONTINUITY` (each recorder's timestamps start
    again; players reset their decoder there), the segments numbered on. The parts'
    files stay. Returns the joined recording's seconds."""
    with tempfile.TemporaryDirectory(dir=tar_path.parent, prefix=".joining-") as work:
        joined = Path(work) / "joined"
        joined.mkdir()
        body: list[str] = []
        target, count = 1, 0
        for index, part in enumerate(parts):
            unpacked = Path(work) / str(index)
            with tarfile.open(part) as tar:
                tar.extractall(unpacked, filter="data")
            if body:
                body.append("#EXT-X-DISCONTINUITY")
            for line in (unpacked / PLAYLIST).read_text().splitlines():
                if line.startswith("#EXT-X-TARGETDURATION:"):
                    target = max(target, int(line.split(":", 1)[1]))
                elif line.startswith(("#EXTINF:", "#EXT-X-DISCONTINUITY")):
                    body.append(line)  # a part joined before keeps its own breaks
                elif line.strip() and not line.startswith("#"):
                    name = f"seg_{count:05d}.ts"
                    shutil.move(unpacked / line.strip(), joined / name)
                    body.append(name)
                    count += 1
        (joined / PLAYLIST).write_text("\n".join([
            "#EXTM3U", "#EXT-X-VERSION:6", f"#EXT-X-TARGETDURATION:{target}",
            "#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-PLAYLIST-TYPE:VOD",
            "#EXT-X-INDEPENDENT-SEGMENTS", *body, "#EXT-X-ENDLIST", ""]))
        pack(joined, tar_path)
    return playlist_seconds(tar_path)


def segments(playlist: Path) -> list[str]:
    """The segment file names a playlist lists, in order."""
    return [line.strip() for line in playlist.read_text().splitlines()
            if line.strip() and not line.startswith("#")]


def playlist_seconds(tar_path: Path) -> float:
    """An interactive recording's length: the sum of its playlist's segment durations."""
    with tarfile.open(tar_path) as tar:
        member = tar.extractfile(PLAYLIST)
        text = member.read().decode() if member is not None else ""
    return sum(float(line.split(":", 1)[1].split(",", 1)[0])
               for line in text.splitlines() if line.startswith("#EXTINF:"))


def _remove(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)
