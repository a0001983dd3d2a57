"""The composite's encoders and muxers, and probing what was written.

One encode per stream: the composite's video (libx264 → MP4, or libvpx VP8/VP9 → WebM) and
its mixed audio (AAC in MP4, Opus in WebM). `audio.export_file` adds the mixed audio
alone (AAC in .m4a or MP3, mono or stereo as asked). Files are written under a temporary
name (`.{name}.part`) and get their final name when finalized, so a half-written file
never carries it. MP4s and M4As are written fragmented while recording, so a recorder
killed with its node leaves a file that still plays (`salon.recording.parts`), and are
remuxed on close to `movflags=+faststart` (the index in front, so players start before
the download ends). An interactive recording writes HLS segments instead of the MP4, packed
into a `.tar` on close (`salon.recording.interactive`).
"""

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import av
import numpy as np

from salon.livestream.outputs import LiveOutputs
from salon.recording import interactive as hls
from salon.recording.mixer import RATE
from salon.recording.parts import finalize, work_options, work_path
from salon.recording.spec import AudioSpec, InteractiveSpec, LiveSpec, OutputFile, VideoSpec

#: libx264's preset and tuning: veryfast with zerolatency (no lookahead, no B-frame
#: delay) costs about 15 % of a core for a 720p30 composite against 22 % without the
#: tuning, for ~3 % larger files; the whole recorder stays under 60 % (bench/recording.py).
X264_PRESET = "veryfast"
X264_TUNE = "zerolatency"
VIDEO_BITRATE = {"H264": 2_500_000, "VP8": 2_000_000, "VP9": 1_500_000}
#: libvpx in its realtime mode at its fastest speed, no frames held back: VP9 at speed 8
#: with row multithreading encodes a 720p30 composite at about the CPU of VP8 (measured
#: with PyAV 18.1 on 2 cores: 4.2 s against 5.8 s of CPU for 5 s of moving noise), and
#: its files are smaller for the same picture, so it gets the lower bitrate.
VPX_ENCODERS = {
    "VP8": ("libvpx", {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}),
    "VP9": ("libvpx-vp9", {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0",
                           "row-mt": "1"}),
}
AUDIO_BITRATE = 128_000
CONTENT_TYPES = {".mp4": "video/mp4", ".webm": "video/webm", ".m4a": "audio/mp4",
                 ".mp3": "audio/mpeg", ".tar": hls.CONTENT_TYPE}


class PacketSink(Protocol):
    """Where else an encoder's packets go: live outputs, an interactive recording's HLS."""

    def mux(self, packet: av.Packet) -> None: ...


def feed(sinks: list[PacketSink], packets: list[av.Packet]) -> None:
    """Each encoded packet into each sink, as the encoder made it: a sink points the
    packet at its own stream and the muxer moves its timestamps to that stream's clock,
    so both are put back before the next sink."""
    if not sinks:
        return
    for packet in packets:
        stream, time_base, pts, dts = packet.stream, packet.time_base, packet.pts, packet.dts
        for sink in sinks:
            sink.mux(packet)
            packet.stream, packet.time_base, packet.pts, packet.dts = \
                stream, time_base, pts, dts


class AudioEncoder:
    """Feeds an audio stream blocks of any length: cuts them into the encoder's frame
    size and numbers the samples, so timestamps never jump."""

    def __init__(self, container: av.container.OutputContainer, codec: str,
                 channels: int, bit_rate: int = AUDIO_BITRATE) -> None:
        self.container = container
        self.channels = channels
        layout = "stereo" if channels == 2 else "mono"
        self.stream = container.add_stream(codec, rate=RATE, layout=layout)
        self.stream.bit_rate = bit_rate
        self.stream.codec_context.time_base = Fraction(1, RATE)
        #: What each encoder takes: AAC planar float, Opus packed float, LAME planar s16.
        self.format = {"aac": "fltp", "libopus": "flt", "libmp3lame": "s16p"}[codec]
        self.stream.format = self.format
        self.samples = 0
        self._pending = np.zeros((channels, 0), dtype=np.float32)
        #: Other outputs fed the same packets (livestreaming, interactive recordings).
        self.sinks: list[PacketSink] = []

    @property
    def frame_size(self) -> int:
        return self.stream.codec_context.frame_size or 1024

    def write(self, pcm: np.ndarray) -> None:
        """Mixed samples (2 × n float32, stereo): downmixed if the stream is mono."""
        if self.channels == 1 and pcm.shape[0] == 2:
            pcm = pcm.mean(axis=0, keepdims=True)
        self._pending = np.concatenate([self._pending, pcm], axis=1)
        size = self.frame_size
        while self._pending.shape[1] >= size:
            self._encode(self._pending[:, :size])
            self._pending = self._pending[:, size:]

    def _encode(self, block: np.ndarray) -> None:
        if self.format == "s16p":
            block = (np.clip(block, -1, 1) * 32767).astype(np.int16)
        elif self.format == "flt":  # packed: one row of interleaved samples
            block = block.T.reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(block), format=self.format,
                                           layout="stereo" if self.channels == 2 else "mono")
        frame.sample_rate = RATE
        frame.pts, frame.time_base = self.samples, Fraction(1, RATE)
        self.samples += frame.samples
        self._mux(self.stream.encode(frame))

    def _mux(self, packets: list[av.Packet]) -> None:
        self.container.mux(packets)
        feed(self.sinks, packets)

    def flush(self) -> None:
        if self._pending.shape[1]:
            pad = np.zeros((self.channels, self.frame_size - self._pending.shape[1]),
                           dtype=np.float32)
            self._encode(np.concatenate([self._pending, pad], axis=1))
            self._pending = self._pending[:, :0]
        self._mux(self.stream.encode(None))


@dataclass
class _File:
    path: Path
    role: str
    container: av.container.OutputContainer


class CompositeWriter:
    """The composite file (video + mixed audio) and the optional audio-only file; with
    `live`, the same encoded packets also go to HLS and RTMP (`salon.livestream.outputs`),
    and the composite file is written only if `live.keep_file`; with `interactive`, they
    go to HLS segments packed into a `.tar`, which is the composite file."""

    def __init__(self, output_dir: Path, file_name: str, video: VideoSpec,
                 audio: AudioSpec, live: LiveSpec | None = None,
                 interactive: InteractiveSpec | None = None) -> None:
        output_dir.mkdir(parents=True, exist_ok=True)
        self.video_spec = video
        mp4 = video.codec == "H264"
        path = output_dir / f"{file_name}.{'mp4' if mp4 else 'webm'}"
        if interactive is not None or (live is not None and not live.keep_file):
            # The MP4 is not wanted: the encoders feed a muxer that writes nothing.
            container = av.open(os.devnull, "w", format="null")
            self.files = []
        else:
            container = av.open(str(work_path(path)), "w",
                                format="mp4" if mp4 else "webm", options=work_options(path))
            self.files = [_File(path, "composite", container)]
        self.main = container
        # A keyframe exactly every GOP when segments are cut (HLS, live or interactive):
        # segments of one length. A GOP of 2 s (1 s for a livestream that asks it) puts
        # one on every interactive segment's boundary too.
        segmented = live is not None or interactive is not None
        gop = (live.hls_time if live is not None else 2) * video.fps
        if mp4:
            x264 = {"preset": X264_PRESET, "tune": X264_TUNE, "profile": "high"}
            if segmented:
                x264["x264-params"] = f"keyint={gop}:min-keyint={gop}:scenecut=0"
            stream = container.add_stream("libx264", rate=video.fps, options=x264)
        else:
            name, options = VPX_ENCODERS[video.codec]
            stream = container.add_stream(name, rate=video.fps, options=options)
        stream.width, stream.height, stream.pix_fmt = video.width, video.height, "yuv420p"
        stream.bit_rate = VIDEO_BITRATE[video.codec]
        stream.codec_context.gop_size = gop
        stream.codec_context.time_base = Fraction(1, video.fps)
        self.video = stream
        self.audio = AudioEncoder(container, "aac" if mp4 else "libopus", 2)
        self.sinks: list[PacketSink] = []
        self.live: LiveOutputs | None = None
        self.interactive: hls.InteractiveOutput | None = None
        if segmented:
            for encoder in (stream, self.audio.stream):  # FLV and HLS need the headers
                encoder.codec_context.flags |= av.codec.context.Flags.global_header
            container.start_encoding()  # opens the encoders: their headers exist now
        if live is not None:
            self.live = LiveOutputs([stream, self.audio.stream], live.hls_dir,
                                    live.hls_time, live.hls_list_size, live.rtmp_urls,
                                    live.qualities, live.first_segment,
                                    live.segment_prefix)
            self.sinks.append(self.live)
        if interactive is not None:
            self.interactive = hls.InteractiveOutput(
                [stream, self.audio.stream], hls.hls_directory(output_dir, file_name),
                output_dir / f"{file_name}.tar", interactive.segment_secs)
            self.sinks.append(self.interactive)
        self.audio.sinks = self.sinks
        self.export: AudioEncoder | None = None
        if audio.export_file:
            aac = audio.codec == "AAC"
            export_path = output_dir / f"{file_name}.{'m4a' if aac else 'mp3'}"
            export = av.open(str(work_path(export_path)), "w", format="ipod" if aac else "mp3",
                             options=work_options(export_path))
            self.files.append(_File(export_path, "audio", export))
            self.export = AudioEncoder(export, "aac" if aac else "libmp3lame",
                                       1 if audio.channel == "mono" else 2)
        self.frames = 0

    def write_video(self, frame: av.VideoFrame, index: int) -> None:
        """Frame number `index` on the fps clock (numbers may skip when behind)."""
        frame.pts, frame.time_base = index, Fraction(1, self.video_spec.fps)
        self._mux(self.video.encode(frame))
        if self.live is not None:
            self.live.write_video(frame, index)
        self.frames += 1

    def _mux(self, packets: list[av.Packet]) -> None:
        self.main.mux(packets)
        feed(self.sinks, packets)

    def write_audio(self, pcm: np.ndarray) -> None:
        self.audio.write(pcm)
        if self.export is not None:
            self.export.write(pcm)

    def write_tag(self, tag: bytes, seconds: float) -> None:
        """An interactive recording's ID3 tag at `seconds` of recorded time (dropped
        by a recording that is not interactive)."""
        if self.interactive is not None:
            self.interactive.tag(tag, seconds)

    def close(self) -> list[tuple[Path, str]]:
        """Flush every encoder, finalize (an MP4's fragmented work file is remuxed to
        faststart here) and give the files their final names: [(path, role)]."""
        self._mux(self.video.encode(None))
        self.audio.flush()
        if self.export is not None:
            self.export.flush()
        if self.live is not None:
            self.live.close()
        done = []
        if self.interactive is not None:
            done.append((self.interactive.close(), "composite"))
        if all(file.container is not self.main for file in self.files):
            self.main.close()  # the null muxer of a live-only or interactive composite
        for file in self.files:
            file.container.close()
            finalize(work_path(file.path), file.path)
            done.append((file.path, file.role))
        return done

    def abandon(self) -> None:
        """Close without finalizing (a failure before anything useful was written)."""
        if self.live is not None:
            self.live.close()
        if self.interactive is not None:
            self.interactive.abandon()
        for file in self.files:
            try:
                file.container.close()
            except Exception:  # noqa: BLE001 - the file is being thrown away anyway
                pass
            work_path(file.path).unlink(missing_ok=True)


def probe(path: Path, role: str, participant_id: str | None = None,
          peer_id: str | None = None) -> OutputFile:
    """The file as written: its true size and duration (read back with PyAV)."""
    if path.suffix == ".tar":
        duration = hls.playlist_seconds(path)
    else:
        with av.open(str(path)) as container:
            duration = (container.duration or 0) / av.time_base
            if not duration:
                duration = max((float(s.duration * s.time_base) for s in container.streams
                                if s.duration), default=0.0)
    return OutputFile(path=path, role=role,  # type: ignore[arg-type]
                      content_type=CONTENT_TYPES.get(path.suffix, "application/octet-stream"),
                      size=path.stat().st_size, duration_secs=round(duration, 3),
                      participant_id=participant_id, peer_id=peer_id)
