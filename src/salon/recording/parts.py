"""Recording files that survive their recorder's death, and joining a recording's parts.

While it records, a recorder writes each MP4 (and M4A) as a *fragmented* MP4 under a
temporary name (`.{name}.part`): an empty `moov` up front, then self-contained fragments
of about a second (`WORK_MP4`). A recorder killed with its node (SIGKILL, power) leaves a
file that plays up to its last whole fragment, where a `+faststart` MP4 killed before its
close has no index at all and is lost. `finalize` turns the work file into the final
faststart MP4 by remuxing (packets copied, never re-encoded): one more pass over the
file's bytes at the end, against a lost recording.

A recording whose meeting's node died is carried on by another node (docs/cluster.md
"Jobs"): what the dead node recorded (`repair`: its work file, remuxed to a playable file)
and what was recorded after are joined into one file by `join`: again a remux, each
part's timestamps shifted to follow the previous part's end, so the outage is cut out.
"""

import logging
import os
from pathlib import Path

import av

log = logging.getLogger("salon.recording")

#: The muxer options of an MP4 or M4A work file: fragments at video keyframes and at
#: least every second (audio alone: every second), each readable without the ones after,
#: written out as they close. `delay_moov`, not `empty_moov`: the header waits for the
#: first fragment, when the encoders' delays are known (AAC's priming), else the muxer
#: shifts the video's timestamps and the frame rate read back is off.
WORK_MP4 = {"movflags": "+frag_keyframe+delay_moov+default_base_moof",
            "frag_duration": "1000000", "flush_packets": "1"}
#: MP4 and M4A files for delivery: the index in front, so playback starts at once.
FASTSTART = {"movflags": "+faststart"}
#: The container of each file type salon records.
FORMATS = {".mp4": "mp4", ".m4a": "ipod", ".webm": "webm", ".mp3": "mp3"}


def work_path(path: Path) -> Path:
    """Where the file that will be `path` is written while recording."""
    return path.with_name(f".{path.name}.part")


def final_path(work: Path) -> Path | None:
    """The file a work file becomes (None: not a work file)."""
    name = work.name
    if not (name.startswith(".") and name.endswith(".part")):
        return None
    return work.with_name(name[1:-len(".part")])


def work_options(path: Path) -> dict[str, str]:
    """The muxer options of the work file of `path` (a final name)."""
    return dict(WORK_MP4) if path.suffix in (".mp4", ".m4a") else {}


def finalize(work: Path, path: Path) -> Path:
    """A finished work file becomes `path`: MP4/M4A remuxed to faststart, anything else
    (WebM, MP3: written progressively already) renamed. The work file is removed."""
    if path.suffix in (".mp4", ".m4a"):
        remux([work], path)
        work.unlink()
    else:
        os.replace(work, path)
    return path


def repair(work: Path, path: Path) -> Path | None:
    """What a killed recorder's work file still holds, as a finished file at `path`
    (the work file is left as it was). None if nothing in it can be read."""
    try:
        if remux([work], path) > 0:
            return path
    except (av.error.FFmpegError, OSError, ValueError) as error:
        log.warning("the work file %s cannot be read: %s", work, error)
    path.unlink(missing_ok=True)
    return None


def join(parts: list[Path], path: Path) -> float:
    """The parts, in order, remuxed into the one file `path`; its duration in seconds."""
    return remux(parts, path)


def remux(parts: list[Path], path: Path) -> float:
    """Copy every packet of `parts` into `path` (written under a temporary name, renamed
    once closed), each part's timestamps shifted to start where the previous part ended.
    The parts must hold the same streams (the same recording's settings); a part that
    does not is skipped, and logged. Returns the output's duration in seconds."""
    temporary = path.with_name(f".{path.name}.joining")
    options = FASTSTART if path.suffix in (".mp4", ".m4a") else {}
    offset = 0.0  # where the next part starts, in seconds
    with av.open(str(temporary), "w", format=FORMATS.get(path.suffix), options=options) as out:
        streams: list[av.stream.Stream] = []
        shapes: list[tuple[object, ...]] = []
        for part in parts:
            with av.open(str(part)) as source:
                inputs = [s for s in source.streams if s.type in ("video", "audio")]
                if not streams:
                    streams = [out.add_stream_from_template(s) for s in inputs]
                    shapes = [_shape(s) for s in inputs]
                elif [_shape(s) for s in inputs] != shapes:
                    log.warning("recording part %s does not match the first part's streams; "
                                "left out", part)
                    continue
                offset = max(offset, _copy(source, inputs, streams, offset))
    os.replace(temporary, path)
    return offset


def _shape(stream: av.stream.Stream) -> tuple[object, ...]:
    """What must match for packets of two parts to go in one stream."""
    ctx = stream.codec_context
    return (stream.type, ctx.name, getattr(ctx, "width", None), getattr(ctx, "height", None),
            getattr(ctx, "sample_rate", None), getattr(ctx, "channels", None))


def _copy(source: av.container.InputContainer, inputs: list[av.stream.Stream],
          outputs: list[av.stream.Stream], offset: float) -> float:
    """Mux `source`'s packets, `offset` seconds later than written, each stream starting
    at its own first timestamp; returns where this part ends."""
    index = {s.index: i for i, s in enumerate(inputs)}
    first: dict[int, int] = {}
    end = offset
    for packet in source.demux(inputs):
        if packet.dts is None and packet.pts is None:
            continue  # the flush packet a demuxer ends each stream with
        which = index[packet.stream.index]
        base = packet.time_base
        start = first.setdefault(which, packet.dts if packet.dts is not None else packet.pts)
        shift = round(offset / base) - start
        if packet.pts is not None:
            packet.pts += shift
        if packet.dts is not None:
            packet.dts += shift
        stamp = packet.pts if packet.pts is not None else packet.dts
        end = max(end, float((stamp + (packet.duration or 0)) * base))
        packet.stream = outputs[which]
        outputs[which].container.mux(packet)
    return end
