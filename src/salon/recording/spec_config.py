"""A `RecordingSpec`'s video, watermark, live and interactive parts, read from a
recording's config (the request's `video_config`, `rtmp_out_config`, `interactive_config`
and the meeting's defaults)."""

from pathlib import Path
from typing import Any

from salon.core import recordings as rules
from salon.recording.spec import InteractiveSpec, LiveSpec, VideoSpec
from salon.recording.watermark import fetch_watermark


async def config_watermark(config: dict[str, Any], output_dir: Path) -> Path | None:
    url = (config.get("watermark") or {}).get("url")
    return await fetch_watermark(url, output_dir) if url else None


def config_live(kind: str, config: dict[str, Any]) -> LiveSpec | None:
    """A composite recording with `rtmp_out_config` (or the meeting's
    `live_streaming_config`) also pushes its one encode over RTMP while it records."""
    urls = rules.rtmp_urls(config)
    if kind != "composite" or not urls:
        return None
    return LiveSpec(rtmp_urls=tuple(urls), hls_time=2, keep_file=True)


def config_interactive(kind: str, config: dict[str, Any]) -> InteractiveSpec | None:
    """A composite recording with `interactive_config: {type: "ID3"}` is HLS with timed
    metadata in a tar (`salon.recording.interactive`)."""
    return InteractiveSpec() if kind == "composite" and rules.is_interactive(config) else None


def config_video(config: dict[str, Any], watermark_path: Path | None) -> VideoSpec:
    """The video part of the spec; the watermark as a local image (`salon.recording
    .watermark`), with its position and size."""
    watermark = config.get("watermark") or {}
    size = watermark.get("size") or {}
    return VideoSpec(
        codec=config.get("codec", "H264"), width=drawable_size(config.get("width", 1280)),
        height=drawable_size(config.get("height", 720)), watermark_path=watermark_path,
        watermark_position=watermark.get("position", "left top"),
        watermark_size=((size["width"], size["height"])
                        if size.get("width") and size.get("height") else None))


def drawable_size(size: int) -> int:
    """A size the API takes (recordings 1–1920, livestreams 16–1920) as the compositor
    draws it: rounded up to a multiple of 4 (1920 is one, so never past the bound)."""
    return max(4, -(-size // 4) * 4)
