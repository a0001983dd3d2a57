"""Benchmark of livestreaming: one meeting livestreamed to HLS, then N viewers at once.

Run it inside a private network namespace (loopback only):

    unshare -rn sh -c 'ip link set lo up && .venv/bin/python bench/livestream.py'

Starts `salon serve` (SQLite, `SALON_ICE_HOSTS=127.0.0.1`) through tests/servers.py and
a meeting with one publisher in this process: a 640x360 25 fps camera (aiortc, VP8) that
draws the wall clock (ms, 32 bits as white/black blocks) into every frame. The
livestream is started over REST at 1280x720 (RealtimeKit's default; `--width`,
`--height`); the real recorder engine joins as the hidden livestreamer and encodes once
into HLS (1 s segments).

Figures:
- `hls_latency_p50_s` (glass-to-glass): a probe viewer polls the playlist every 100 ms,
  fetches each new segment as soon as it is listed, decodes every frame and reads the
  clock drawn into it. A player that holds `HOLDBACK` segments behind the live edge (the
  meeting page's hls.js: `liveSyncDurationCount` 2) shows a frame of segment k when
  segment k+HOLDBACK-1 is listed, plus the frame's offset in its segment; the latency is
  that moment minus the clock in the frame. `hls_edge_latency_p50_s` is the same for a
  player at the live edge (holding nothing back).
- `encoder_cpu_pct`: utime+stime of the livestreamer process (decoding, composing,
  x264), % of one core, while the viewers run; `encoder_cpu_idle_pct` without viewers
  (the baseline measured first in the same run).
- `hls_viewers`: viewers (a separate load-generator process, keep-alive HTTP/1.1, each
  polling the playlist once a segment and fetching every new segment) that received
  every segment listed during the window; `viewer_fetch_p99_ms`: p99 of their segment
  fetch times (request sent → last byte), against `viewer_fetch_p99_ms_baseline`, the
  same with `--baseline-viewers` (10) in the same run.
The last line is one JSON object. Targets on 2 cores: latency p50 ≤ 6 s; 1000 viewers
with segment fetch p99 < 200 ms while the meeting and its encode run.

    .venv/bin/python bench/livestream.py [--viewers 1000] [--seconds 20]
"""

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from bench.media import machine_cpu, only_loopback, process_cpu  # noqa: E402

WIDTH, HEIGHT, FPS = 640, 360, 25
BITS = 32
BLOCK = WIDTH // BITS  # 20 px
CODE_Y = 40            # the code's row (clear of the name label at the bottom left)
HOLDBACK = 2
WARMUP_S = 3.0


# === the publisher's clock ===================================================================

def clock_track():
    """A camera that draws `time.time()` in ms (mod 2^32) as BITS blocks into each frame."""
    import av
    import numpy as np
    from aiortc.mediastreams import VideoStreamTrack

    class Clock(VideoStreamTrack):
        def __init__(self) -> None:
            super().__init__()
            self.base = np.full((HEIGHT, WIDTH, 3), 70, np.uint8)

        async def recv(self) -> av.VideoFrame:
            pts, time_base = await self.next_timestamp()
            ms = int(time.time() * 1000) & 0xFFFFFFFF
            rgb = self.base.copy()
            for bit in range(BITS):
                if ms >> (BITS - 1 - bit) & 1:
                    rgb[CODE_Y:CODE_Y + BLOCK, bit * BLOCK:(bit + 1) * BLOCK] = 255
                else:
                    rgb[CODE_Y:CODE_Y + BLOCK, bit * BLOCK:(bit + 1) * BLOCK] = 0
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
            frame.pts, frame.time_base = pts, time_base
            return frame

    return Clock()


def read_clock(gray) -> int | None:
    """The ms drawn into a decoded frame (luma), or None if the code is not readable. The
    camera fills the livestream's picture (one person, same aspect): scaled by its width."""
    scale = gray.shape[1] / WIDTH
    y = int((CODE_Y + BLOCK // 2) * scale)
    value = 0
    for bit in range(BITS):
        x = int((bit * BLOCK + BLOCK // 2) * scale)
        level = int(gray[y - 3:y + 3, x - 3:x + 3].mean())
        if 60 < level < 195:
            return None  # a blend (a transition frame): not a clean reading
        value = value << 1 | (level >= 128)
    return value


# === the probe viewer: when each segment is listed, what clock its frames show =============

async def probe(playlist_url: str, seconds: float) -> list[tuple[float, list[tuple[float, int]]]]:
    """[(listed at (wall s), [(frame offset in segment s, drawn ms)…])] per new segment."""
    import io

    import av
    import httpx

    seen: set[str] = set()
    found = []
    base = playlist_url.rsplit("/", 1)[0]
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(timeout=5) as http:
        first = True
        while time.monotonic() < deadline:
            answer = await http.get(playlist_url)
            listed_at = time.time()
            names = [line for line in answer.text.splitlines()
                     if line and not line.startswith("#")]
            for name in names:
                if name in seen:
                    continue
                seen.add(name)
                if first:
                    continue  # already there when we came: its listing time is unknown
                data = (await http.get(f"{base}/{name}")).content
                frames = []
                with av.open(io.BytesIO(data), format="mpegts") as container:
                    start = None
                    for frame in container.decode(video=0):
                        at = float(frame.pts * frame.time_base)
                        start = at if start is None else start
                        drawn = read_clock(frame.to_ndarray(format="gray"))
                        if drawn is not None:
                            frames.append((at - start, drawn))
                found.append((listed_at, frames))
            first = False
            await asyncio.sleep(0.1)
    return found


def latencies(found: list[tuple[float, list[tuple[float, int]]]], holdback: int) -> list[float]:
    """Glass-to-glass per frame for a player `holdback` segments behind the edge."""
    out = []
    for k, (_, frames) in enumerate(found):
        shown = k + holdback - 1
        if shown >= len(found):
            break
        listed_at = found[shown][0]
        for offset, drawn in frames:
            at_ms = int((listed_at + offset) * 1000)
            out.append(((at_ms - drawn) & 0xFFFFFFFF) / 1000)
    return [x for x in out if x < 60]  # a misread code would be absurd: dropped


# === the viewers (a separate process) =======================================================

async def _get(reader, writer, path: str) -> tuple[int, bytes]:
    writer.write(f"GET {path} HTTP/1.1\r\nHost: salon\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return status, await reader.readexactly(length)


async def _viewer(port: int, playlist: str, until: float, stats: dict[str, Any],
                  start_delay: float) -> None:
    await asyncio.sleep(start_delay)
    base = playlist.rsplit("/", 1)[0]
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        stats["failed"] += 1
        return
    seen: set[str] | None = None
    mine = {"segments": 0, "missed": 0}
    try:
        while time.monotonic() < until:
            began = time.monotonic()
            status, body = await _get(reader, writer, playlist)
            if status != 200:
                stats["errors"] += 1
                await asyncio.sleep(1)
                continue
            names = [line for line in body.decode().splitlines()
                     if line and not line.startswith("#")]
            if seen is None:
                seen = set(names[:-1])  # start at the live edge, as a player would
            for name in names:
                if name in seen:
                    continue
                seen.add(name)
                sent = time.monotonic()
                status, _ = await _get(reader, writer, f"{base}/{name}")
                if status == 200:
                    stats["fetch_ms"].append(1000 * (time.monotonic() - sent))
                    mine["segments"] += 1
                else:
                    mine["missed"] += 1
            await asyncio.sleep(max(0.05, 1.0 - (time.monotonic() - began)))
    except (OSError, asyncio.IncompleteReadError):
        stats["errors"] += 1
        mine["missed"] += 1
    finally:
        writer.close()
    stats["viewers"].append(mine)


def viewers_main(port: int, playlist: str, count: int, seconds: float, queue: Any) -> None:
    """The load generator's process: `count` viewers for `seconds`, then its figures."""
    import uvloop

    async def run() -> dict[str, Any]:
        stats: dict[str, Any] = {"fetch_ms": [], "viewers": [], "errors": 0, "failed": 0}
        until = time.monotonic() + seconds
        ramp = min(2.0, seconds / 4)  # spread the arrivals over the first seconds
        await asyncio.gather(*(_viewer(port, playlist, until, stats, ramp * i / count)
                               for i in range(count)))
        return stats

    queue.put(uvloop.run(run()))


def run_viewers(port: int, playlist: str, count: int, seconds: float) -> tuple[Any, int]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=viewers_main, args=(port, playlist, count, seconds, queue))
    process.start()
    return (process, queue), process.pid


def p99(values: list[float]) -> float | None:
    if len(values) < 2:
        return values[0] if values else None
    return statistics.quantiles(values, n=100)[98]


# === the run ==================================================================================

def livestreamer_pid(server_pid: int) -> int | None:
    """The recorder process the server spawned for the livestream."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        if ppid == server_pid and b"spawn_main" in cmdline:
            return int(entry.name)
    return None


async def orchestrate(args: argparse.Namespace) -> dict[str, Any]:
    from tests.live import admin_for
    from tests.servers import cleanup, free_port, start

    from salon.client import RealtimeClient, ws_url
    from salon.client.media import MediaSession

    server = start("", env={"SALON_ICE_HOSTS": "127.0.0.1", "SALON_RTMP_PORT": str(free_port())})
    media = None
    try:
        async with admin_for(server) as admin:
            meeting = await admin.create_meeting(title="livestream bench")
            person = await admin.add_participant(meeting["id"], "speaker", "group_call_host",
                                                 name="Speaker")
            peer = await RealtimeClient.join(ws_url(server.url), person["token"])
            media = await MediaSession.attach(peer, ice_hosts=["127.0.0.1"])
            await media.publish("video", clock_track())
            started = await admin.call("POST", f"/meetings/{meeting['id']}/livestreams",
                                       json={"video_config": {"width": args.width,
                                                              "height": args.height}})
            playlist_url = started["playback_url"]
            deadline = time.monotonic() + 60
            while (await admin.call("GET", f"/livestreams/{started['id']}"))["livestream"][
                    "status"] != "LIVE":
                assert time.monotonic() < deadline, "the livestream did not go LIVE in 60 s"
                await asyncio.sleep(0.5)
            encoder = livestreamer_pid(server.process.pid)
            assert encoder is not None, "no livestreamer process found"
            await asyncio.sleep(WARMUP_S)
            path = "/" + playlist_url.split("/", 3)[3]

            print(f"baseline: no viewers, then {args.baseline_viewers} viewers, "
                  f"{args.baseline_seconds:g} s each ...", flush=True)
            t0, c0 = time.monotonic(), process_cpu(encoder)
            baseline_found = await probe(playlist_url, args.baseline_seconds)
            idle_cpu = 100 * (process_cpu(encoder) - c0) / (time.monotonic() - t0)
            (proc, queue), _ = run_viewers(server.port, path, args.baseline_viewers,
                                           args.baseline_seconds)
            base_stats = await asyncio.to_thread(queue.get, True, args.baseline_seconds + 60)
            proc.join(10)

            print(f"{args.viewers} viewers, {args.seconds:g} s ...", flush=True)
            (proc, queue), gen_pid = run_viewers(server.port, path, args.viewers, args.seconds)
            await asyncio.sleep(min(2.0, args.seconds / 4) + 1)  # the viewers have arrived
            t0, c0 = time.monotonic(), process_cpu(encoder)
            s0, g0, m0 = process_cpu(server.process.pid), process_cpu(gen_pid), machine_cpu()
            found = await probe(playlist_url, args.seconds - min(2.0, args.seconds / 4) - 2)
            window = time.monotonic() - t0
            encoder_cpu = 100 * (process_cpu(encoder) - c0) / window
            server_cpu = 100 * (process_cpu(server.process.pid) - s0) / window
            gen_cpu = 100 * (process_cpu(gen_pid) - g0) / window
            box_cpu = 100 * (machine_cpu() - m0) / window
            stats = await asyncio.to_thread(queue.get, True, args.seconds + 120)
            proc.join(10)
            await admin.call("POST", f"/meetings/{meeting['id']}/active-livestream/stop")
    finally:
        if media is not None:
            with contextlib.suppress(Exception):
                await media.close()
                await media.peer.close()
        cleanup(server)

    # Each probe run on its own: a segment's successor must come from the same run.
    held = latencies(baseline_found, HOLDBACK) + latencies(found, HOLDBACK)
    edge = latencies(baseline_found, 1) + latencies(found, 1)
    served = sum(1 for v in stats["viewers"] if v["segments"] >= 3 and not v["missed"])
    fetch_p99 = p99(stats["fetch_ms"])
    base_p99 = p99(base_stats["fetch_ms"])
    print(f"  latency (holdback {HOLDBACK}): p50 {statistics.median(held):.2f} s, "
          f"p95 {statistics.quantiles(held, n=20)[-1]:.2f} s over {len(held)} frames; "
          f"at the live edge p50 {statistics.median(edge):.2f} s", flush=True)
    print(f"  encoder {encoder_cpu:.0f} % of a core with viewers, {idle_cpu:.0f} % without "
          f"(ratio {encoder_cpu / max(idle_cpu, 0.1):.2f}); server {server_cpu:.0f} %, viewers' "
          f"generator {gen_cpu:.0f} %, whole box {box_cpu:.0f} % of one core", flush=True)
    print(f"  viewers served every segment: {served}/{args.viewers} "
          f"({stats['errors']} errors, {stats['failed']} could not connect); segment fetch "
          f"p50 {statistics.median(stats['fetch_ms']):.1f} ms, p99 {fetch_p99:.1f} ms over "
          f"{len(stats['fetch_ms'])} fetches; with {args.baseline_viewers} viewers p99 "
          f"{base_p99:.1f} ms (ratio {fetch_p99 / max(base_p99, 0.1):.1f})", flush=True)
    return {"hls_latency_p50_s": round(statistics.median(held), 2),
            "hls_edge_latency_p50_s": round(statistics.median(edge), 2),
            "encoder_cpu_pct": round(encoder_cpu, 1),
            "encoder_cpu_idle_pct": round(idle_cpu, 1),
            "hls_viewers": served,
            "viewer_fetch_p99_ms": round(fetch_p99, 1),
            "viewer_fetch_p99_ms_baseline": round(base_p99, 1),
            "segment_fetches": len(stats["fetch_ms"]),
            "server_cpu_pct": round(server_cpu, 1), "box_cpu_pct": round(box_cpu, 1),
            "output": f"{args.width}x{args.height}@25, 1 s segments"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewers", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--baseline-viewers", type=int, default=10)
    parser.add_argument("--baseline-seconds", type=float, default=8.0)
    parser.add_argument("--width", type=int, default=1280, help="the livestream's (1280)")
    parser.add_argument("--height", type=int, default=720, help="the livestream's (720)")
    args = parser.parse_args()
    if not only_loopback():
        print("NOTE: not in a network namespace; run it under "
              "unshare -rn sh -c 'ip link set lo up && …' (ICE uses 127.0.0.1 only)")
    summary = asyncio.run(orchestrate(args))
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
