"""Lower qualities of a livestream (`livestream_viewer_qualities`): the composite scaled
down and encoded again, one x264 per quality, its AAC packets copied (audio is encoded
once for all). With renditions the livestream's `index.m3u8` is a master playlist that
lists the source and each quality (`q<height>/index.m3u8`); players pick among them by
bandwidth (hls.js's ABR), as RealtimeKit's viewers choose a quality.
"""

import os
from fractions import Fraction
from pathlib import Path

import av

#: Video bitrate per height (the source keeps the composite's own).
BITRATES = {240: 400_000, 360: 800_000, 480: 1_200_000, 720: 2_500_000, 1080: 4_500_000}
AUDIO_BITRATE = 128_000


def width_for(height: int, source_width: int, source_height: int) -> int:
    """The width of a lower quality at the source's aspect, even (x264 needs it)."""
    return max(2, round(source_width * height / source_height / 2) * 2)


def folder(height: int) -> str:
    return f"q{height}"


class Rendition:
    def __init__(self, directory: Path, width: int, height: int, fps: int, gop: int,
                 audio: av.stream.Stream, options: dict[str, str]) -> None:
        from salon.livestream.outputs import PLAYLIST  # outputs imports this module

        directory.mkdir(parents=True, exist_ok=True)
        self.width, self.height, self.fps = width, height, fps
        self.container = av.open(str(directory / PLAYLIST), "w", format="hls", options=options)
        self.video = self.container.add_stream("libx264", rate=fps, options={
            "preset": "veryfast", "tune": "zerolatency",
            "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0"})
        self.video.width, self.video.height, self.video.pix_fmt = width, height, "yuv420p"
        self.video.bit_rate = BITRATES.get(height, 1_000_000)
        self.video.codec_context.time_base = Fraction(1, fps)
        self.audio = self.container.add_stream_from_template(audio)

    def write_video(self, frame: av.VideoFrame, index: int) -> None:
        scaled = frame.reformat(width=self.width, height=self.height)
        scaled.pts, scaled.time_base = index, Fraction(1, self.fps)
        self.container.mux(self.video.encode(scaled))

    def mux_audio(self, packet: av.Packet) -> None:
        packet.stream = self.audio
        self.container.mux(packet)

    def close(self) -> None:
        self.container.mux(self.video.encode(None))
        self.container.close()


def write_master(directory: Path, variants: list[tuple[int, int, int]]) -> None:
    """`index.m3u8` listing each variant `(width, height, video bitrate)`, best first;
    written once, atomically."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:6", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for width, height, bitrate in sorted(variants, key=lambda v: -v[1]):
        lines += [f"#EXT-X-STREAM-INF:BANDWIDTH={bitrate + AUDIO_BITRATE},"
                  f"RESOLUTION={width}x{height},CODECS=\"avc1.640028,mp4a.40.2\"",
                  f"{folder(height)}/index.m3u8"]
    temporary = directory / ".index.m3u8.tmp"
    temporary.write_text("\n".join(lines) + "\n")
    os.replace(temporary, directory / "index.m3u8")
