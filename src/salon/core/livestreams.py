"""Livestreams: the request bodies, the statuses and the rules of their lifecycle
(reference recording-and-ai §1.1, §1.6–1.7, §6 "Livestream"). Plain data, no I/O.

A livestream session goes INVOKED (queued, waiting for an encoder) → LIVE (media
reaches viewers) → IDLE (stopped), or ERRORED; the livestream's own `status` is its
latest session's (IDLE when it has none running).
"""

from typing import Annotated, Literal

from pydantic import Field

from salon.core.schema import Int, Strict, text

Status = Literal["LIVE", "IDLE", "ERRORED", "INVOKED"]
#: A session in one of these is running (or about to): one per livestream at a time.
ACTIVE: frozenset[str] = frozenset({"INVOKED", "LIVE"})
#: Why a session stopped (kept in `stop_reason`; the API shows `err_message` only).
StopReason = Literal["API_CALL", "ALL_PEERS_LEFT", "INTERNAL_ERROR", "INGEST_ENDED"]

#: Livestream defaults: small enough that one encode costs well under a core.
DEFAULT_WIDTH = 1280
DEFAULT_HEIGHT = 720
#: Seconds per HLS segment: with a 6-segment sliding list, players start about three
#: segments behind the live edge (docs/livestreaming.md, "Latency").
HLS_TIME = 1
HLS_LIST_SIZE = 6


def first_segment_after(live_secs: float, hls_time: int = HLS_TIME) -> int:
    """The first segment number of an encoder that takes over a session LIVE for
    `live_secs`: past any number the earlier encoder(s) can have used. Each segment
    runs from keyframe to keyframe, `hls_time` apart, so that is at most one a
    `hls_time`; twice that, as a segment can come out short where the encoder's clock
    jumped, and a restarted encoder's numbers must never go back."""
    return int(2 * max(0.0, live_secs) / hls_time) + 1


def with_discontinuity_sequence(playlist: str, takeovers: int) -> str:
    """A media playlist as served after `takeovers` encoders took its session over
    (RFC 8216 §4.4.3.3, §6.2.2). Each takeover's playlist starts with
    `#EXT-X-DISCONTINUITY`, which leaves as that first segment slides out; the muxer
    then writes no `#EXT-X-DISCONTINUITY-SEQUENCE`, so a player that joined later would
    number the segments' discontinuity from 0 again. The sequence counts the
    discontinuities no longer listed: every earlier takeover's, and this one's once
    its tag is gone. A master playlist (no media sequence), a playlist that already
    has the tag, and one never taken over are served as they are."""
    if takeovers <= 0 or "#EXT-X-DISCONTINUITY-SEQUENCE" in playlist:
        return playlist
    lines = playlist.split("\n")
    at = next((i for i, line in enumerate(lines)
               if line.startswith("#EXT-X-MEDIA-SEQUENCE:")), None)
    if at is None:
        return playlist
    listed = "#EXT-X-DISCONTINUITY" in lines
    sequence = takeovers - 1 if listed else takeovers
    if sequence == 0:
        return playlist
    lines.insert(at + 1, f"#EXT-X-DISCONTINUITY-SEQUENCE:{sequence}")
    return "\n".join(lines)

#: The heights `livestream_viewer_qualities` may ask for, and their widths at 16:9.
QUALITY_WIDTHS = {240: 426, 360: 640, 480: 854, 720: 1280, 1080: 1920}

Dimension = Annotated[Int, Field(ge=16, le=1920, multiple_of=2)]


class VideoConfig(Strict):
    width: Dimension | None = None
    height: Annotated[Int, Field(ge=16, le=1080, multiple_of=2)] | None = None


class StartLivestream(Strict):
    """POST /meetings/{meeting_id}/livestreams (`LivestreamStartLivestreamingAMeetingParams`)."""

    name: text(200, name=True) | None = None
    video_config: VideoConfig | None = None


class CreateLivestream(Strict):
    """POST /livestreams: an independent livestream (RealtimeKit's docs; not in SDK 5.9.0)."""

    name: text(200, name=True) | None = None


def can_move(current: str, new: str) -> bool:
    """INVOKED → LIVE, IDLE, ERRORED; LIVE → IDLE, ERRORED; IDLE/ERRORED are final for a
    session (a new start is a new session)."""
    return new in {"INVOKED": ("LIVE", "IDLE", "ERRORED"),
                   "LIVE": ("IDLE", "ERRORED")}.get(current, ())


def qualities(asked: list[int] | None, height: int) -> list[int]:
    """The renditions viewers get besides the source: the preset's
    `livestream_viewer_qualities` below the source height, highest first."""
    return sorted({q for q in asked or [] if q < height and q in QUALITY_WIDTHS},
                  reverse=True)
