"""The remuxer of an RTMP ingest, run as its own process by `salon.livestream.ingest`:
FLV on stdin (the encoder's H.264 and AAC, as the RTMP front received them) → HLS in a
directory, packets copied as they are (no decoding, no encoding).

    python -m salon.livestream.remux <hls_dir> <hls_time> [<segment prefix>]

One remuxer serves a whole livestream session: an encoder that reconnects within the
grace window is fed into the same stdin, its timestamps moved on past what was
written, so the playlist simply continues. The end of stdin ends the playlist
(`#EXT-X-ENDLIST`).
"""

import sys
from pathlib import Path

import av

from salon.livestream.outputs import PLAYLIST, hls_options


def remux(source: object, directory: Path, hls_time: int, list_size: int = 6,
          prefix: str = "") -> int:
    """Copy every audio and video packet of the FLV `source` into HLS; returns how many."""
    directory.mkdir(parents=True, exist_ok=True)
    options = hls_options(hls_time, list_size, directory, prefix=prefix)
    with av.open(source, "r", format="flv") as flv:
        streams = [s for s in flv.streams if s.type in ("video", "audio")]
        if not any(s.type == "video" for s in streams):
            raise SystemExit("the encoder sent no video")
        with av.open(str(directory / PLAYLIST), "w", format="hls", options=options) as hls:
            copies = {s.index: hls.add_stream_from_template(s) for s in streams}
            count = 0
            last: dict[int, int] = {}
            try:
                for packet in flv.demux(streams):
                    index = packet.stream.index
                    if packet.dts is None or index not in copies:
                        continue  # the demuxer's flush packet at the end
                    if packet.dts <= last.get(index, -1):
                        continue  # an encoder's timestamps went back: drop, don't fail
                    last[index] = packet.dts
                    packet.stream = copies[index]
                    hls.mux(packet)
                    count += 1
            except (av.error.EOFError, OSError):
                pass  # the encoder went away: what came is kept
    return count


def main() -> None:
    """The encoder's stream is user input: what it cannot remux ends this process with
    one line on stderr and status 1, never a traceback."""
    try:
        remux(sys.stdin.buffer, Path(sys.argv[1]), int(sys.argv[2]),
              prefix=sys.argv[3] if len(sys.argv) > 3 else "")
    except av.error.FFmpegError as exc:
        print(f"salon.livestream.remux: the encoder's stream cannot be remuxed: "
              f"{exc.strerror or type(exc).__name__}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
