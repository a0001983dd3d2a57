"""The fan-out of one encode to live outputs: an HLS playlist and RTMP pushes.

The composite is encoded once (`salon.recording.outputs.CompositeWriter`); every encoded
packet is muxed, unchanged, into each output here. Each output's streams are copies of
the encoder's parameters (`add_stream_from_template`), so they must be made after the
encoders are open (their SPS/PPS and AudioSpecificConfig exist only then).

An RTMP server that cannot be reached, or that drops the connection, costs only that
output: it is logged and closed, and HLS (and the file) go on.
"""

import logging
from pathlib import Path

import av

from salon.livestream.renditions import Rendition, folder, width_for, write_master

log = logging.getLogger("salon.livestream")

PLAYLIST = "index.m3u8"
#: Segments are written under a temporary name and renamed when complete, so a viewer
#: never fetches half a segment; the oldest are deleted as the window slides.
HLS_FLAGS = "delete_segments+independent_segments+temp_file"
#: How long an RTMP server may take to answer before the push is given up (s).
RTMP_TIMEOUT_SECS = 5.0


def hls_options(hls_time: int, list_size: int, directory: Path,
                first_segment: int = 0, prefix: str = "") -> dict[str, str]:
    """The `hls` muxer's options: a sliding list of `list_size` segments of `hls_time`
    seconds (each starts at a keyframe) named `seg_<prefix>_NNNNN.ts` in `directory`
    (`seg_NNNNN.ts` without a prefix), numbered from `first_segment` (the playlist's
    media sequence). The prefix names the livestream session (`segment_prefix`): a
    segment is served as immutable, so a later session must never reuse a name. A
    playlist that goes on from another encoder's (`first_segment` > 0, after a
    takeover) starts with `#EXT-X-DISCONTINUITY`: players reset their decoder there and
    play on."""
    flags = HLS_FLAGS + ("+discont_start" if first_segment > 0 else "")
    name = f"seg_{prefix}_%05d.ts" if prefix else "seg_%05d.ts"
    return {"hls_time": str(hls_time), "hls_list_size": str(list_size),
            "hls_flags": flags, "start_number": str(first_segment),
            "hls_segment_filename": str(directory / name)}


def segment_prefix(session_id: str) -> str:
    """What a livestream session's segment names start with: its id's first 8 hex
    digits (sessions of one livestream differ there but once in 4 billion)."""
    return session_id.replace("-", "")[:8]


class _Output:
    def __init__(self, name: str, container: av.container.OutputContainer,
                 templates: list[av.stream.Stream], where: str = "") -> None:
        self.name = name
        #: Where it goes, safe to log (an RTMP URL without its stream key).
        self.where = where
        self.container = container
        #: Encoder stream index → this container's copy of it.
        self.streams = {t.index: container.add_stream_from_template(t) for t in templates}


class LiveOutputs:
    """Every live output of one encode; `mux(packet)` sends a packet to each. With
    `qualities` (heights below the source's), each is a `Rendition` fed the composed
    frames (`write_video`) and the source's audio packets, under a master playlist."""

    def __init__(self, templates: list[av.stream.Stream], hls_dir: Path | None,
                 hls_time: int = 1, hls_list_size: int = 6,
                 rtmp_urls: tuple[str, ...] = (), qualities: tuple[int, ...] = (),
                 first_segment: int = 0, prefix: str = "") -> None:
        self.outputs: list[_Output] = []
        self.renditions: list[Rendition] = []
        #: Outputs given up, with why (an unreachable or lost RTMP server).
        self.failed: list[str] = []
        video, audio = templates[0], templates[1]
        self._audio_index = audio.index
        if hls_dir is not None:
            hls_dir.mkdir(parents=True, exist_ok=True)
            source = hls_dir
            width, height = video.codec_context.width, video.codec_context.height
            lower = sorted({q for q in qualities if q < height}, reverse=True)
            if lower:  # a master playlist, the source in its own folder
                source = hls_dir / folder(height)
                source.mkdir(exist_ok=True)
                fps = int(video.codec_context.framerate or 25)
                for quality in lower:
                    self.renditions.append(Rendition(
                        hls_dir / folder(quality), width_for(quality, width, height), quality,
                        fps, hls_time * fps, audio,
                        hls_options(hls_time, hls_list_size, hls_dir / folder(quality),
                                    first_segment, prefix)))
                write_master(hls_dir, [(width, height, video.codec_context.bit_rate or 0),
                                       *((r.width, r.height, r.video.bit_rate)
                                         for r in self.renditions)])
            container = av.open(str(source / PLAYLIST), "w", format="hls",
                                options=hls_options(hls_time, hls_list_size, source,
                                                    first_segment, prefix))
            self.outputs.append(_Output("hls", container, templates))
        for url in rtmp_urls:
            try:
                container = av.open(url, "w", format="flv",
                                    options={"flvflags": "no_duration_filesize"},
                                    timeout=RTMP_TIMEOUT_SECS)
                self.outputs.append(_Output("rtmp", container, templates, _safe(url)))
            except av.error.FFmpegError as exc:
                self._give_up(f"rtmp {_safe(url)}: {_reason(exc)}")

    def write_video(self, frame: av.VideoFrame, index: int) -> None:
        """A composed frame (number `index` on the fps clock) for the lower qualities."""
        for rendition in self.renditions:
            rendition.write_video(frame, index)

    def mux(self, packet: av.Packet) -> None:
        """The encoder's packet (its `stream` is the encoder's) into every output."""
        source = packet.stream.index
        if source == self._audio_index:
            for rendition in self.renditions:
                rendition.mux_audio(packet)
        for output in list(self.outputs):
            packet.stream = output.streams[source]
            try:
                output.container.mux(packet)
            except av.error.FFmpegError as exc:
                if output.name == "hls":
                    raise  # HLS is the livestream: its failure is the stream's
                self.outputs.remove(output)
                self._close(output)
                self._give_up(f"rtmp {output.where}: {_reason(exc)}")

    def close(self) -> None:
        for rendition in self.renditions:
            rendition.close()
        self.renditions = []
        for output in self.outputs:
            self._close(output)
        self.outputs = []

    def _close(self, output: _Output) -> None:
        try:
            output.container.close()
        except av.error.FFmpegError as exc:
            log.warning("closing the %s output %s failed: %s", output.name, output.where,
                        _reason(exc))

    def _give_up(self, why: str) -> None:
        log.warning("livestream output given up: %s", why)
        self.failed.append(why)


def _reason(exc: av.error.FFmpegError) -> str:
    """FFmpeg's error without the file name it names (an RTMP URL carries a key)."""
    return exc.strerror or type(exc).__name__


def _safe(url: str) -> str:
    """An RTMP URL without its last path part (usually the stream key: a secret)."""
    return url.rsplit("/", 1)[0] + "/…"
