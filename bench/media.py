"""Benchmark of the media plane: salon's pass-through SFU against a stock aiortc relay.

Runs everything inside a private network namespace (it re-executes itself under
`unshare -rn` with `lo` up; if namespaces are refused it runs on 127.0.0.1 and says so).
Starts `salon serve` (SQLite, `SALON_ICE_HOSTS=127.0.0.1`) as a subprocess through
tests/servers.py, sets up one meeting and its participants over REST, and drives media
from separate load-generator processes (`nice 5`, 4 MiB UDP receive buffers). Publishers
send pre-encoded files (`FileSource`: VP8 640x480 30 fps ~500 kbps + Opus 20 ms), so no
encoder runs in the generators; subscribers count encoded frames from RTP headers
(`MediaSession(count_only=True)`: marker bits, no reassembly, no decoding).

Phases (each bounded; server CPU = utime+stime of the server process from /proc over a
window of `--seconds` that starts 3 s after everyone receives):

  fan-out     1 publisher -> N subscribers (`--subscribers`, default 50) in
              max(1, N // 25) generator processes
  fan-out 10  the same with N = 10, for the baseline comparison (unless N is 10 already)
  fan-out-python  the 1 -> N fan-out again on a second server started with
              SALON_MEDIA_FAST_LANE=0 (every packet on the Python path;
              `--skip-python-path` leaves it out): `fast_lane_ratio` = packets/s per core
              with the C fast lane / without it, in the same run
  mesh        M peers (`--mesh`, default 8) each publishing VP8 + Opus and receiving all
              the others, in 2 generator processes (a manual `media.subscribe` to every
              track: auto mode stops at the preset's `max_video_streams`, 6)
  baseline    bench/media_baseline.py, a stock aiortc `MediaRelay` server (decoding
              receivers, every subscriber re-encodes), at N = 4 and N = 10 with the same
              generators; `baseline_cpu_ratio` = baseline CPU per stream / salon CPU per
              stream at N = 10
  network     bench/media_network.py (on by default; `--skip-network` leaves it out,
              `--network-only` runs it alone): 6 peers, two on constrained links, their
              cameras as simulcast (`make_simulcast_media`, `SimulcastSource`), then the
              top encoding alone (single-layer forwarding) in the same server
  browser     if tests/e2e/browser.py offers a join-to-first-frame measurement (and
              Chromium is there): its p50 over `--browser-runs` joins

Per phase: server CPU (% of one core), per forwarded video stream, subscriber video fps
(min / median), audio packets/s (min), RTP loss, the kernel's UDP `RcvbufErrors`, the
generators' CPU and everything else on the box ("other"; a phase is `noisy` when other
processes used more than 20 % of a core). The last line is one JSON object
(`subscribers`, `min_subscriber_fps`, `server_cpu_pct`, `mesh_peers`,
`mesh_server_cpu_pct`, `baseline_cpu_ratio`, `join_to_first_frame_p50_s`, ...).
Targets on 2 cores: 1 -> 50 with every subscriber >= 29 fps; 8-peer mesh < 50 % of a
core; join-to-first-frame p50 < 1 s. Every process it starts is stopped by PID, on errors
and Ctrl-C too, and generators exit by themselves when this process goes away.

    .venv/bin/python bench/media.py [--subscribers 50] [--mesh 8] [--seconds 12]
        [--skip-baseline] [--skip-python-path] [--quick] [--browser-runs 7]
        [--profile {fan-out,mesh}]
        [--skip-network | --network-only]

`--profile PHASE` samples the salon server with py-spy (250 Hz) over that phase's window
and prints the hottest functions; py-spy's own CPU then shows as "other".
"""

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from bench.realtime import Profiler as Sampler  # noqa: E402 - after the path set-up

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
NETNS_ENV = "SALON_BENCH_NETNS"  # set once re-executed inside the namespace
WARMUP_S = 3.0
NOISY_OTHER_PCT = 20.0
RCVBUF = 4 * 1024 * 1024
GEN_NICE = 5
PEERS_PER_GEN = 25
MESH_GENS = 2
CONNECT_CONCURRENCY = 5  # peers connecting at once in one generator
READY_TIMEOUT_S = 90.0  # a generator's peers all receiving
STEP_TIMEOUT_S = 30.0
RUN_CAP_S = 900.0  # the whole benchmark
KEEPALIVE_S = 15.0  # salon peers ping this often (the server drops silent ones at 45 s)
TARGET_FPS = 29.0
TARGET_MESH_CPU = 50.0
TARGET_JOIN_S = 1.0


# === shared helpers ==========================================================================

def process_cpu(pid: int) -> float:
    """User+system CPU seconds of a process (all its threads), from /proc/<pid>/stat."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_cpu() -> float:
    """CPU seconds all processes of the machine used (busy time summed over CPUs)."""
    with open("/proc/stat") as stat:
        ticks = [int(n) for n in stat.readline().split()[1:]]
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / CLOCK_TICKS


def udp_rcvbuf_errors() -> int:
    """The namespace's UDP RcvbufErrors counter (/proc/net/snmp)."""
    lines = [line.split() for line in Path("/proc/net/snmp").read_text().splitlines()
             if line.startswith("Udp:")]
    if len(lines) < 2 or "RcvbufErrors" not in lines[0]:
        return 0
    return int(lines[1][lines[0].index("RcvbufErrors")])


def only_loopback() -> bool:
    return {name for _, name in socket.if_nameindex()} <= {"lo"}


def run_loop(coroutine):
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


# === the load generator (a separate process: `bench/media.py --gen SPEC`) ==================

@dataclass
class Tally:
    """One received track: encoded frames (or audio packets) counted without decoding."""

    kind: str
    frames: int = 0
    keyframes: int = 0
    bytes: int = 0
    first_at: float | None = None

    def add(self, packet) -> None:
        if self.first_at is None:
            self.first_at = time.monotonic()
        self.frames += 1
        self.bytes += packet.size
        if packet.is_keyframe:
            self.keyframes += 1

    def snapshot(self) -> dict[str, Any]:
        return {"kind": self.kind, "frames": self.frames, "keyframes": self.keyframes,
                "bytes": self.bytes}


async def inbound_loss(pc) -> tuple[int, int]:
    """(packets lost, packets received) over a peer connection's inbound RTP streams."""
    lost = received = 0
    for stat in (await pc.getStats()).values():
        if getattr(stat, "type", "") == "inbound-rtp":
            lost += max(0, stat.packetsLost or 0)
            received += stat.packetsReceived or 0
    return lost, received


class BaselinePeer:
    """A peer of the stock relay: publishes the files, or receives everything (recvonly)."""

    def __init__(self, spec: dict[str, Any], index: int, files: dict[str, str]) -> None:
        self.spec, self.index, self.files = spec, index, files
        self.pcs: list = []
        self.tallies: list[Tally] = []
        self.readers: list[asyncio.Task] = []
        self.started = 0.0

    async def _exchange(self, pc, role: str) -> None:
        import aiohttp
        from aiortc import RTCSessionDescription
        await pc.setLocalDescription(await pc.createOffer())
        async with aiohttp.ClientSession() as http:
            async with http.post(self.spec["url"] + "/offer", json={
                    "sdp": pc.localDescription.sdp, "type": pc.localDescription.type,
                    "role": role}) as response:
                if response.status != 200:
                    raise RuntimeError(f"baseline /offer: {response.status} {await response.text()}")
                answer = await response.json()
        await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], answer["type"]))

    async def start(self, publish: bool, subscribe: bool) -> None:
        from salon.client.media.sources import FileSource
        from salon.media.embedded import hooks
        self.started = time.monotonic()
        if publish:
            pc = hooks.new_peer_connection()
            self.pcs.append(pc)
            for key in ("vp8", "opus"):
                source = FileSource(self.files[key])
                transceiver = pc.addTransceiver(source, direction="sendonly")
                _prefer(transceiver, source.mime_type)
            await self._exchange(pc, "publish")
        if subscribe:
            pc = hooks.new_peer_connection()
            self.pcs.append(pc)
            pc.on("track", self._on_track)
            for kind in ("video", "audio"):
                pc.addTransceiver(kind, direction="recvonly")
            await self._exchange(pc, "subscribe")

    def _on_track(self, track) -> None:
        from aiortc.mediastreams import MediaStreamError

        from salon.media.embedded import hooks
        hooks.mark_passthrough(track)
        tally = Tally(track.kind)
        self.tallies.append(tally)

        async def read() -> None:
            with contextlib.suppress(MediaStreamError):
                while True:
                    tally.add(await track.recv())
        self.readers.append(asyncio.ensure_future(read()))

    def receiving(self, publishers: int) -> bool:
        videos = [t for t in self.tallies if t.kind == "video" and t.frames]
        return len(videos) >= publishers

    def first_video_s(self) -> float | None:
        firsts = [t.first_at for t in self.tallies if t.kind == "video" and t.first_at]
        return min(firsts) - self.started if firsts else None

    async def snapshot(self) -> dict[str, Any]:
        lost = received = 0
        for pc in self.pcs:
            a, b = await inbound_loss(pc)
            lost, received = lost + a, received + b
        return {"tracks": [t.snapshot() for t in self.tallies], "lost": lost,
                "received": received}

    def describe(self) -> str:
        return (f"baseline peer {self.index}: pcs {[pc.connectionState for pc in self.pcs]},"
                f" tracks {[t.snapshot() for t in self.tallies]}")

    async def close(self) -> None:
        for reader in self.readers:
            reader.cancel()
        for pc in self.pcs:
            await pc.close()


def _prefer(transceiver, mime_type: str) -> None:
    from aiortc import RTCRtpSender
    kind = mime_type.split("/")[0]
    codecs = RTCRtpSender.getCapabilities(kind).codecs
    transceiver.setCodecPreferences(
        [c for c in codecs if c.mimeType in (mime_type, f"{kind}/rtx")])


class SalonPeer:
    """A salon peer: joins over the realtime WebSocket, publishes the files through a
    MediaSession and/or counts the encoded frames of every remote track it receives."""

    def __init__(self, spec: dict[str, Any], index: int, files: dict[str, str]) -> None:
        self.spec, self.index, self.files = spec, index, files
        self.token = spec["tokens"][index]
        self.client = None
        self.media = None
        self.started = 0.0

    async def start(self, publish: bool, subscribe: bool) -> None:
        from salon.client import RealtimeClient
        from salon.client.media import MediaSession
        from salon.client.media.sources import FileSource
        self.started = time.monotonic()
        self.client = await RealtimeClient.join(self.spec["url"], self.token)
        self.media = await MediaSession.attach(self.client, count_only=True,
                                               ice_hosts=["127.0.0.1"])
        # A subscribe offer sent right after the join can arrive before attach() adds its
        # listener; it then sits in the event queue unanswered. Hand it over.
        listener = self.client.listeners.get("media.subscribe_offer")
        if listener is not None:
            for offer in self.client.drain("media.subscribe_offer"):
                listener(offer)
        self.keepalive = asyncio.ensure_future(self._keepalive())
        if publish:
            await self.media.publish("video", self._camera())
            audio = self.spec.get("audio", "opus")
            offset = self.spec.get("audio_offset", 0.0) * (self.spec.get("first", 0)
                                                            + self.index)
            await self.media.publish("audio", FileSource(
                self.files[audio], dtx=self.spec.get("dtx", False), offset=offset))
        wait_for = self.spec.get("wait_for") or self.spec["expect"]
        if subscribe and wait_for > 1:
            await self._subscribe_all(wait_for)

    def _camera(self):
        """The file(s) to publish as the camera. The network phase's layered run sends
        `video: "simulcast"` (the `simulcast_q/h/f` files, each with its temporal layers
        named; a server that refuses simulcast gets `f` alone); its single-layer run
        sends `simulcast_f` with no layer named. `layered` with another file names that
        file's L1T2 layers."""
        from salon.client.media import SimulcastSource
        from salon.client.media.sources import FileSource
        from salon.client.media.testmedia import L1T2_PATTERN, SIMULCAST
        video = self.spec.get("video", "vp8")
        pattern = L1T2_PATTERN if self.spec.get("layered") else None
        if video == "simulcast":
            return SimulcastSource.from_files(
                {rid: self.files[f"simulcast_{rid}"] for rid in SIMULCAST},
                temporal_pattern=pattern)
        return FileSource(self.files[video], temporal_pattern=pattern)

    async def _keepalive(self) -> None:
        """The server drops a WebSocket that stays silent (45 s); media flows elsewhere."""
        with contextlib.suppress(Exception):
            while True:
                await asyncio.sleep(KEEPALIVE_S)
                await self.client.ping()

    async def _subscribe_all(self, videos: int) -> None:
        """Auto mode stops at the preset's max_video_streams (6): in a mesh, subscribe
        by hand to every track once all `videos` publishers are there."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            available = (await self.client.request("media.stats"))["available"]
            kinds = [t["kind"] for t in available]
            if kinds.count("video") >= videos and kinds.count("audio") >= videos:
                break  # every publisher's camera and microphone: none is left out
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {len(available)} tracks published after"
                                   f" {READY_TIMEOUT_S:g} s")
            await asyncio.sleep(0.25)
        chosen = [t["track_id"] for t in available]
        if self.spec.get("videos") is not None:  # a speaker view: this many videos
            videos = sorted(t["track_id"] for t in available if t["kind"] == "video")
            chosen = [t["track_id"] for t in available if t["kind"] != "video"]
            chosen += videos[:self.spec["videos"]]
        await self.media.subscribe("manual", chosen)

    def server_port(self) -> int | None:
        """The server's UDP port of this peer's subscribe connection (for `tc`)."""
        pc = self.media.sub_pc if self.media is not None else None
        if pc is None or not pc.getTransceivers():
            return None
        ice = pc.getTransceivers()[0].receiver.transport.transport
        pair = ice._connection._nominated.get(1)
        return pair.remote_addr[1] if pair is not None else None

    def impair(self, loss: float, jitter_ms: float) -> None:
        """Lose `loss` of the RTP/RTCP datagrams reaching this peer's subscribe socket and
        delay each by 0..`jitter_ms` (no netem in this kernel: done at the socket)."""
        import random
        pc = self.media.sub_pc
        ice = pc.getTransceivers()[0].receiver.transport.transport
        protocol = ice._connection._nominated[1].protocol
        original = protocol.datagram_received
        loop = asyncio.get_running_loop()
        rng = random.Random(self.index)

        def impaired(data: bytes, addr) -> None:
            if data and 128 <= data[0] < 192:
                if rng.random() < loss:
                    return
                if jitter_ms:
                    loop.call_later(rng.random() * jitter_ms / 1000, original, data, addr)
                    return
            original(data, addr)

        protocol.datagram_received = impaired

    def _remote(self) -> list:
        return list(self.media.remotes.values()) if self.media is not None else []

    def receiving(self, publishers: int) -> bool:
        videos = [t for t in self._remote() if t.kind == "video" and t.counters.frames]
        return len(videos) >= publishers

    def first_video_s(self) -> float | None:
        firsts = [t.counters.first_frame_at for t in self._remote()
                  if t.kind == "video" and t.counters.first_frame_at]
        return min(firsts) - self.started if firsts else None

    async def snapshot(self) -> dict[str, Any]:
        live = self.media.receiving()
        tracks = [{"kind": t.kind, "frames": t.counters.frames,
                   "keyframes": t.counters.keyframes, "bytes": t.counters.bytes,
                   "packets": t.counters.packets, "freeze_s": t.counters.freeze_s,
                   "live": t.track_id in live}
                  for t in self._remote()]
        lost = received = 0
        for pc in (self.media.pub_pc, self.media.sub_pc):
            if pc is None:
                continue
            a, b = await inbound_loss(pc)
            lost, received = lost + a, received + b
        snapshot = {"tracks": tracks, "lost": lost, "received": received}
        if self.media.published:  # the server's own counters for what this peer sends
            stats = await self.client.request("media.stats")
            snapshot["server"] = [
                {k: t.get(k, 0) for k in ("kind", "frames", "plis", "dropped")}
                for t in stats.get("tracks", [])]

        return snapshot

    def describe(self) -> str:
        media = self.media
        if media is None:
            return f"salon peer {self.index}: no media session"
        pc = media.sub_pc
        return (f"salon peer {self.client.peer_id}: sub_pc"
                f" {pc.connectionState if pc else None}, revision {media.revision},"
                f" mids {media.mids}, remotes"
                f" {[(t.track_id, t.counters.frames) for t in self._remote()]},"
                f" queued events {[name for name, _ in self.client.events][-10:]}")

    async def close(self) -> None:
        if getattr(self, "keepalive", None) is not None:
            self.keepalive.cancel()
        if self.media is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.media.close(), 5)
        if self.client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.client.close(), 5)


def emit(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def generator(spec: dict[str, Any]) -> None:
    """Connect the peers, report when all receive, then answer `mark` and `stop` lines."""
    from salon.media.embedded import hooks
    hooks.use_host_addresses(["127.0.0.1"])
    hooks.set_udp_receive_buffer(spec.get("rcvbuf", RCVBUF))
    kind = BaselinePeer if spec["server"] == "baseline" else SalonPeer
    peers = [kind(spec, i, spec["files"]) for i in range(spec["count"])]
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def connect(peer) -> None:
        async with gate:
            await peer.start(spec["publish"], spec["subscribe"])

    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str] = asyncio.Queue()
    main = asyncio.current_task()
    assert main is not None
    ready = False

    def parent_gone() -> None:
        if ready:
            lines.put_nowait("stop")
        else:
            main.cancel()  # still connecting: give up at once

    def read_stdin() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(lines.put_nowait, line.strip())
        loop.call_soon_threadsafe(parent_gone)

    threading.Thread(target=read_stdin, daemon=True).start()
    try:
        await asyncio.wait_for(asyncio.gather(*(connect(p) for p in peers)), READY_TIMEOUT_S)
        expect = spec["expect"]
        deadline = time.monotonic() + READY_TIMEOUT_S
        while expect and not all(p.receiving(expect) for p in peers):
            if time.monotonic() > deadline:
                missing = sum(not p.receiving(expect) for p in peers)
                for peer in peers:
                    if not peer.receiving(expect):
                        print(f"not receiving: {peer.describe()}", file=sys.stderr, flush=True)
                raise TimeoutError(f"{missing} of {len(peers)} peers not receiving"
                                   f" {expect} videos after {READY_TIMEOUT_S:g} s")
            await asyncio.sleep(0.05)
        impair = spec.get("impair")
        if impair:
            for peer in peers:
                peer.impair(impair.get("loss", 0.0), impair.get("jitter_ms", 0.0))
        ports = [p.server_port() for p in peers] if spec["server"] == "salon" else []
        emit({"ready": True, "first_video_s": [p.first_video_s() for p in peers],
              "ports": ports})
        ready = True
        while True:
            command = await lines.get()
            if command == "mark":
                snaps = [await p.snapshot() for p in peers]
                emit({"mark": {"t": time.monotonic(), "peers": snaps}})
            elif command == "layers":  # what each peer receives, per the server
                stats = [await p.client.request("media.stats") for p in peers]
                emit({"layers": [[r.get("layer") for r in s["receiving"]
                                  if r.get("layer") is not None] for s in stats],
                      # the simulcast encoding (RID) of each video slot, where there is one
                      "encodings": [[r["encoding"] for r in s["receiving"]
                                     if r.get("encoding") is not None] for s in stats]})
            elif command == "stop":
                break
    except Exception as error:
        emit({"error": f"{type(error).__name__}: {error}"})
        traceback.print_exc()
    finally:
        await asyncio.gather(*(p.close() for p in peers), return_exceptions=True)
        emit({"done": True})


def generator_main(spec_json: str) -> None:
    spec = json.loads(spec_json)
    os.nice(spec.get("nice", GEN_NICE))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
    run_loop(generator(spec))


# === the orchestrator ========================================================================

class Gen:
    """One generator process, driven over its stdin/stdout (JSON lines)."""

    def __init__(self, name: str, spec: dict[str, Any], log_dir: Path) -> None:
        self.name, self.spec = name, spec
        self.log_path = log_dir / f"gen-{name}.log"
        self.process: asyncio.subprocess.Process | None = None
        self.last: dict[str, Any] = {}  # the whole message `read` took its key from

    async def start(self) -> None:
        self.log = open(self.log_path, "ab")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, str(Path(__file__).resolve()), "--gen", json.dumps(self.spec),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=self.log,
            limit=2**24)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def read(self, key: str, timeout: float) -> Any:
        assert self.process is not None and self.process.stdout is not None
        async with asyncio.timeout(timeout):
            while True:
                line = await self.process.stdout.readline()
                if not line:
                    raise RuntimeError(f"generator {self.name} exited: {self.tail()}")
                message = json.loads(line)
                if "error" in message:
                    raise RuntimeError(f"generator {self.name}: {message['error']}")
                if key in message:
                    self.last = message
                    return message[key] if key != "ready" else message

    async def send(self, command: str) -> None:
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(command.encode() + b"\n")
        await self.process.stdin.drain()

    async def mark(self) -> dict[str, Any]:
        await self.send("mark")
        return await self.read("mark", STEP_TIMEOUT_S)

    async def stop(self) -> None:
        if self.process is None:
            return
        try:
            if self.process.returncode is None:
                with contextlib.suppress(Exception):
                    await self.send("stop")
                    await asyncio.wait_for(self.process.wait(), 15)
        finally:
            if self.process.returncode is None:
                self.process.kill()
                await self.process.wait()
            self.log.close()

    def tail(self) -> str:
        return " | ".join(self.log_path.read_text(errors="replace").splitlines()[-5:])


@dataclass
class Phase:
    """The figures of one phase against one server."""

    name: str
    server: str
    publishers: int
    subscribers: int  # receiving peers
    streams: int = 0  # forwarded video streams (publisher -> subscriber pairs)
    window_s: float = 0.0
    server_cpu_pct: float = 0.0
    gen_cpu_pct: float = 0.0
    other_cpu_pct: float = 0.0
    fps: list[float] = field(default_factory=list)  # per received video track
    audio_pps: list[float] = field(default_factory=list)
    lost: int = 0
    received: int = 0
    rcvbuf_errors: int = 0
    first_video_s: list[float] = field(default_factory=list)
    server_in_fps: list[float] = field(default_factory=list)  # salon: per published video
    server_plis: int = 0  # salon: keyframe requests sent to publishers in the window
    server_dropped: int = 0  # salon: frames its subscriber queues dropped in the window
    packets_per_s: float = 0.0  # RTP packets/s received by all subscribers (salon peers)
    error: str | None = None

    @property
    def pps_per_core(self) -> float | None:
        """RTP packets forwarded per second per core of server CPU (received packets
        stand for forwarded ones: loss is ~0 on loopback)."""
        cores = self.server_cpu_pct / 100
        return self.packets_per_s / cores if cores > 0 and self.packets_per_s else None

    @property
    def per_stream_pct(self) -> float | None:
        return self.server_cpu_pct / self.streams if self.streams else None

    @property
    def per_frame_ms(self) -> float | None:
        """Server CPU per delivered video frame (with its share of audio), in ms: fair to a
        saturated server that delivers fewer frames than it should."""
        delivered = sum(self.fps)
        return 10 * self.server_cpu_pct / delivered if delivered else None

    @property
    def loss_pct(self) -> float:
        total = self.lost + self.received
        return 100 * self.lost / total if total else 0.0

    @property
    def noisy(self) -> bool:
        return self.other_cpu_pct > NOISY_OTHER_PCT


def window_rates(before: list[dict], after: list[dict], seconds: float,
                 phase: Phase) -> None:
    """Per-track fps/pps and loss between two marks of the same generator."""
    for old, new in zip(before, after, strict=True):
        counts: dict[str, list[int]] = {"video": [], "audio": []}
        olds = old["tracks"]
        for i, track in enumerate(new["tracks"]):
            start = olds[i]["frames"] if i < len(olds) else 0
            counts[track["kind"]].append(track["frames"] - start)
            packets = olds[i].get("packets", 0) if i < len(olds) else 0
            phase.packets_per_s += (track.get("packets", 0) - packets) / seconds
        phase.fps += [n / seconds for n in counts["video"]]
        phase.audio_pps += [n / seconds for n in counts["audio"]]
        phase.lost += new["lost"] - old["lost"]
        phase.received += new["received"] - old["received"]
        for was, now in zip(old.get("server", []), new.get("server", []), strict=False):
            if now["kind"] == "video":
                phase.server_in_fps.append((now["frames"] - was["frames"]) / seconds)
            phase.server_plis += now["plis"] - was["plis"]
            phase.server_dropped += now["dropped"] - was["dropped"]


class Profiler(Sampler):
    """py-spy sampling the server over one phase's window (`--profile PHASE`)."""

    def __init__(self, pid: int) -> None:
        super().__init__(pid, native=False)

    def stop(self) -> None:
        super().stop()
        if self.out.exists():
            from bench.profile_api import hottest
            print(f"\npy-spy on the server during the window (its own CPU counts in 'other';"
                  f" collapsed stacks: {self.out}):")
            hottest(self.out, 25)


async def measure(phase: Phase, server_pid: int, gens: list[Gen], seconds: float,
                  profile: bool = False) -> None:
    """Warm up, then mark every generator, wait `seconds`, mark again: the window."""
    await asyncio.sleep(WARMUP_S)
    profiler = Profiler(server_pid) if profile else None
    if profiler is not None:
        await asyncio.sleep(1.0)  # let py-spy attach
    try:
        await _window(phase, server_pid, gens, seconds)
    finally:
        if profiler is not None:
            await asyncio.to_thread(profiler.stop)


async def _window(phase: Phase, server_pid: int, gens: list[Gen], seconds: float) -> None:
    pids = [g.pid for g in gens]
    marks0 = [await g.mark() for g in gens]
    t0, srv0, mach0 = time.monotonic(), process_cpu(server_pid), machine_cpu()
    gen0, own0, rcv0 = sum(process_cpu(p) for p in pids), _own_cpu(), udp_rcvbuf_errors()
    await asyncio.sleep(seconds)
    marks1 = [await g.mark() for g in gens]
    t1, srv1, mach1 = time.monotonic(), process_cpu(server_pid), machine_cpu()
    gen1, own1, rcv1 = sum(process_cpu(p) for p in pids), _own_cpu(), udp_rcvbuf_errors()
    span = t1 - t0
    phase.window_s = span
    phase.server_cpu_pct = 100 * (srv1 - srv0) / span
    phase.gen_cpu_pct = 100 * (gen1 - gen0) / span
    other = (mach1 - mach0) - (srv1 - srv0) - (gen1 - gen0) - (own1 - own0)
    phase.other_cpu_pct = max(0.0, 100 * other / span)
    phase.rcvbuf_errors = rcv1 - rcv0
    for m0, m1 in zip(marks0, marks1, strict=True):
        window_rates(m0["peers"], m1["peers"], m1["t"] - m0["t"], phase)


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system


async def run_phase(phase: Phase, server_pid: int, url: str, tokens: list[str],
                    files: dict[str, str], args: argparse.Namespace, log_dir: Path,
                    mesh: bool) -> Phase:
    """Publishers first (in their own generator), then the receivers; measure; stop all."""
    server = phase.server
    gens: list[Gen] = []

    def spec(chunk: list[str], publish: bool, subscribe: bool, expect: int) -> dict:
        return {"server": server, "url": url, "tokens": chunk, "count": len(chunk),
                "publish": publish, "subscribe": subscribe, "expect": expect,
                "files": files, "rcvbuf": RCVBUF, "nice": GEN_NICE}

    try:
        if mesh:
            n = phase.publishers
            procs = min(MESH_GENS, n)
            chunks = [tokens[i::procs] for i in range(procs)]
            for i, chunk in enumerate(chunks):
                gens.append(Gen(f"{phase.name}-{i}", spec(chunk, True, True, n - 1), log_dir))
            phase.streams = n * (n - 1)
        else:
            publisher = Gen(f"{phase.name}-pub", spec(tokens[:1], True, False, 0), log_dir)
            gens.append(publisher)
            await publisher.start()
            await publisher.read("ready", READY_TIMEOUT_S)
            subs = tokens[1:1 + phase.subscribers]
            procs = max(1, len(subs) // PEERS_PER_GEN)
            for i in range(procs):
                gens.append(Gen(f"{phase.name}-{i}", spec(subs[i::procs], False, True, 1),
                                log_dir))
            phase.streams = phase.subscribers
        receivers = gens if mesh else gens[1:]
        for gen in receivers:
            await gen.start()
        readies = await asyncio.gather(*(g.read("ready", READY_TIMEOUT_S + 30)
                                         for g in receivers))
        phase.first_video_s = sorted(s for r in readies for s in r["first_video_s"]
                                     if s is not None)
        await measure(phase, server_pid, gens, args.seconds,
                      profile=args.profile == phase.name and phase.server == "salon")
    except Exception as error:
        phase.error = str(error)
        traceback.print_exc()
    finally:
        await asyncio.gather(*(g.stop() for g in gens), return_exceptions=True)
    return phase


# --- salon ----------------------------------------------------------------------------------

async def salon_tokens(server, count: int, title: str) -> list[str]:
    from salon.client.admin import AdminClient
    async with AdminClient(server.url, server.account_id, server.app_id, server.api_token,
                           timeout=30) as admin:
        meeting = await admin.create_meeting(title=title)
        gate = asyncio.Semaphore(8)

        async def add(i: int) -> str:
            async with gate:
                participant = await admin.add_participant(
                    meeting["id"], f"media-{i}", "group_call_participant", name=f"Media {i}")
                return participant["token"]

        return list(await asyncio.gather(*(add(i) for i in range(count))))


async def bench_salon(server, files: dict[str, str], args: argparse.Namespace,
                      log_dir: Path, python_path: bool = False) -> list[Phase]:
    """The fan-out (and mesh) phases; with `python_path`, the fan-out alone, named
    `fan-out-python` (a server started with SALON_MEDIA_FAST_LANE=0)."""
    from salon.client import ws_url
    url = ws_url(server.url)
    pid = server.process.pid
    if python_path:
        plan: list[tuple[str, int, bool]] = [("fan-out-python", args.subscribers, False)]
    else:
        plan = [("fan-out", args.subscribers, False)]
        if not args.skip_baseline and args.subscribers != 10:
            plan.append(("fan-out-10", 10, False))
        if args.mesh >= 2:
            plan.append(("mesh", args.mesh, True))
    phases = []
    for name, n, mesh in plan:
        tokens = await salon_tokens(server, n if mesh else n + 1, f"media bench {name}")
        phase = Phase(name, "salon", n if mesh else 1, n)
        print(f"  {name}: {'mesh of ' + str(n) if mesh else '1 -> ' + str(n)} ...", flush=True)
        phases.append(await run_phase(phase, pid, url, tokens, files, args, log_dir, mesh))
        report_phase(phases[-1])
    return phases


# --- network (bench/media_network.py) -----------------------------------------------------

async def bench_network(server, files: dict[str, str], args: argparse.Namespace,
                        log_dir: Path) -> list:
    """The 6-peer meeting with two constrained peers, layered and single-layer."""
    from bench import media_network
    results = []
    for layered in (True, False):
        label = ("simulcast (3 encodings, each VP8 L1T2)" if layered
                 else "single-layer forwarding")
        print(f"  network: 6 peers, one at 300 kbit/s, one at 2 % loss + 80 ms jitter;"
              f" {label} ...", flush=True)
        results.append(await media_network.run(server, files, args, log_dir, layered))
        media_network.report(results[-1])
    return results


def network_figures(network: list) -> dict[str, Any]:
    """The network phase's JSON figures (None when it did not run or failed)."""
    layered = next((n for n in network if n.layered and not n.error), None)
    single = next((n for n in network if not n.layered and not n.error), None)
    out: dict[str, Any] = {
        "constrained_min_fps": None, "unconstrained_min_fps": None,
        "freeze_ms_per_min": None, "plis_per_publisher_per_s": None,
        "layer_switch_s": None, "layered_cpu_ratio": None}
    if layered is not None:
        c, u = layered.min_fps("slow", "lossy"), layered.min_fps("unconstrained")
        out.update(
            constrained_min_fps=round(c, 2) if c is not None else None,
            unconstrained_min_fps=round(u, 2) if u is not None else None,
            freeze_ms_per_min=round(max(layered.freeze_ms_per_min.values(), default=0)),
            plis_per_publisher_per_s=round(layered.plis_per_publisher_per_s, 2),
            layer_switch_s=(round(layered.layer_switch_s, 2)
                            if layered.layer_switch_s is not None else None),
            network_slow_kbps=round(layered.kbps.get("slow", 0)),
            network_server_cpu_pct=round(layered.server_cpu_pct, 1),
            network_pps_per_core=(round(layered.pps_per_core)
                                  if layered.pps_per_core else None))
    if single is not None:
        c = single.min_fps("slow", "lossy")
        out.update(single_layer_constrained_min_fps=round(c, 2) if c is not None else None,
                   single_layer_freeze_ms_per_min=round(
                       max(single.freeze_ms_per_min.values(), default=0)),
                   single_layer_server_cpu_pct=round(single.server_cpu_pct, 1))
    if layered is not None and single is not None and single.server_cpu_pct > 0:
        out["layered_cpu_ratio"] = round(layered.server_cpu_pct / single.server_cpu_pct, 2)
        print(f"\nlayered_cpu_ratio (network phase, server CPU with layers / single-layer):"
              f" {layered.server_cpu_pct:.1f}% / {single.server_cpu_pct:.1f}%"
              f" = {out['layered_cpu_ratio']:.2f}")
    return out


# --- baseline -------------------------------------------------------------------------------

@contextlib.contextmanager
def baseline_server(log_dir: Path):
    """bench/media_baseline.py in a process of its own; yields (url, pid)."""
    from tests.servers import free_port
    port = free_port()
    log = open(log_dir / "baseline.log", "ab")
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "media_baseline.py"), "--port", str(port),
         "--parent", str(os.getpid()), "--lifetime", "600"],
        stdout=subprocess.PIPE, stderr=log)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # {"listening": port}
        if not line:
            raise RuntimeError("the baseline server did not start")
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


async def bench_baseline(files: dict[str, str], args: argparse.Namespace,
                         log_dir: Path) -> list[Phase]:
    phases = []
    for n in (4, 10):
        with baseline_server(log_dir) as (url, pid):
            phase = Phase(f"baseline-{n}", "baseline", 1, n)
            print(f"  baseline: 1 -> {n} ...", flush=True)
            tokens = [f"baseline-{i}" for i in range(n + 1)]
            phases.append(await run_phase(phase, pid, url, tokens, files, args, log_dir,
                                          mesh=False))
            report_phase(phases[-1])
    return phases


# --- browser --------------------------------------------------------------------------------

async def browser_join_p50(server, runs: int) -> tuple[float | None, str]:
    """tests/e2e/browser.py's join-to-first-frame measurement, if it has one: one Chromium
    publishes its fake camera, another joins `runs` times as a new participant."""
    try:
        from tests.e2e import browser
    except Exception as error:  # not there, or Playwright missing
        return None, f"tests/e2e/browser.py not usable ({type(error).__name__}: {error})"
    measure_join = getattr(browser, "join_to_first_frame", None)
    if measure_join is None:
        return None, "tests/e2e/browser.py has no join_to_first_frame()"
    if not Path(getattr(browser, "CHROMIUM", "/usr/bin/chromium")).exists():
        return None, "Chromium is not installed"
    try:
        tokens = await salon_tokens(server, runs + 1, "media bench browser")
        times = await asyncio.wait_for(measure_join(server.url, tokens[0], tokens[1:]),
                                       60 + 30 * runs)
    except Exception as error:
        traceback.print_exc()
        return None, f"browser measurement failed: {type(error).__name__}: {error}"
    times = [t for t in times if t is not None]
    if not times:
        return None, "no browser run got a frame"
    return statistics.median(times), f"{len(times)} joins: " + ", ".join(f"{t:.2f}" for t in times)


# --- report ---------------------------------------------------------------------------------

def fmt(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def report_phase(p: Phase) -> None:
    if p.error:
        print(f"    FAILED: {p.error}")
        return
    fps = sorted(p.fps)
    first = statistics.median(p.first_video_s) if p.first_video_s else None
    print(f"    server cpu {p.server_cpu_pct:.1f}% ({fmt(p.per_stream_pct, '.2f')}% per video"
          f" stream, {p.streams} streams); video fps min {fmt(fps[0] if fps else None, '.2f')}"
          f" median {fmt(statistics.median(fps) if fps else None, '.2f')} over {len(fps)}"
          f" tracks; audio pkts/s min {fmt(min(p.audio_pps) if p.audio_pps else None, '.1f')};"
          f" loss {p.loss_pct:.2f}%; RcvbufErrors {p.rcvbuf_errors}; first video p50"
          f" {fmt(first, '.3f')} s; generators {p.gen_cpu_pct:.0f}%; other"
          f" {p.other_cpu_pct:.0f}%{' (noisy)' if p.noisy else ''}", flush=True)
    if p.pps_per_core:
        print(f"    forwarded {p.packets_per_s:,.0f} RTP packets/s ="
              f" {p.pps_per_core:,.0f} per core of server CPU", flush=True)
    if p.server_in_fps:
        print(f"    server side: publishers' video in at min {min(p.server_in_fps):.2f} fps;"
              f" {p.server_plis} PLIs to publishers, {p.server_dropped} frames dropped from"
              f" subscriber queues in the window", flush=True)


def summarize(args: argparse.Namespace, phases: list[Phase], join_p50: float | None,
              join_note: str, netns: bool, network: list | None = None) -> dict[str, Any]:
    by = {p.name: p for p in phases if not p.error}
    fan, mesh = by.get("fan-out"), by.get("mesh")
    salon10 = by.get("fan-out-10") or (fan if fan and fan.subscribers == 10 else None)
    base10, base4 = by.get("baseline-10"), by.get("baseline-4")
    print("\nphase        server    srv cpu  per stream  fps min  fps med  audio/s  loss %"
          "  rcvbuf  gen cpu  other  pkts/s/core")
    for p in phases:
        if p.error:
            print(f"  {p.name:<12} {p.server:<8} FAILED: {p.error}")
            continue
        fps = sorted(p.fps)
        print(f"  {p.name:<12} {p.server:<8} {p.server_cpu_pct:>6.1f}%"
              f" {fmt(p.per_stream_pct, '.2f'):>9}% {fmt(fps[0] if fps else None, '.2f'):>8}"
              f" {fmt(statistics.median(fps) if fps else None, '.2f'):>8}"
              f" {fmt(min(p.audio_pps) if p.audio_pps else None, '.1f'):>8}"
              f" {p.loss_pct:>7.2f} {p.rcvbuf_errors:>7} {p.gen_cpu_pct:>7.0f}%"
              f" {p.other_cpu_pct:>5.0f}% {fmt(p.pps_per_core, ',.0f'):>12}"
              f"{' noisy' if p.noisy else ''}")
    print("  (cpu: % of one core over the window; per stream: server cpu / forwarded video"
          " streams, each with its audio)")
    out: dict[str, Any] = {"subscribers": args.subscribers, "netns": netns}
    if fan:
        out.update(min_subscriber_fps=round(min(fan.fps), 2) if fan.fps else None,
                   median_subscriber_fps=round(statistics.median(fan.fps), 2) if fan.fps else None,
                   min_audio_pps=round(min(fan.audio_pps), 1) if fan.audio_pps else None,
                   server_cpu_pct=round(fan.server_cpu_pct, 1),
                   loss_pct=round(fan.loss_pct, 3), rcvbuf_errors=fan.rcvbuf_errors,
                   first_video_p50_s=round(statistics.median(fan.first_video_s), 3)
                   if fan.first_video_s else None)
    else:
        out.update(min_subscriber_fps=None, server_cpu_pct=None)
    out["mesh_peers"] = args.mesh
    if mesh:
        out.update(mesh_server_cpu_pct=round(mesh.server_cpu_pct, 1),
                   mesh_min_fps=round(min(mesh.fps), 2) if mesh.fps else None,
                   mesh_min_audio_pps=round(min(mesh.audio_pps), 1) if mesh.audio_pps else None,
                   mesh_loss_pct=round(mesh.loss_pct, 3),
                   mesh_rcvbuf_errors=mesh.rcvbuf_errors,
                   mesh_server_in_min_fps=round(min(mesh.server_in_fps), 2)
                   if mesh.server_in_fps else None)
    else:
        out["mesh_server_cpu_pct"] = None
    ratio = None
    if salon10 and base10 and salon10.per_stream_pct:
        ratio = base10.per_stream_pct / salon10.per_stream_pct
        print(f"\nbaseline_cpu_ratio (server CPU per stream at N = 10, stock relay / salon):"
              f" {base10.per_stream_pct:.2f}% / {salon10.per_stream_pct:.2f}% = {ratio:.1f}")
    out["baseline_cpu_ratio"] = round(ratio, 1) if ratio else None
    if salon10 and base10 and salon10.per_frame_ms and base10.per_frame_ms:
        frame_ratio = base10.per_frame_ms / salon10.per_frame_ms
        print(f"  per delivered video frame: {base10.per_frame_ms:.3f} ms /"
              f" {salon10.per_frame_ms:.3f} ms = {frame_ratio:.1f}")
        out["baseline_cpu_ratio_per_frame"] = round(frame_ratio, 1)
    if base10:
        out.update(baseline_cpu_pct_10=round(base10.server_cpu_pct, 1),
                   baseline_min_fps_10=round(min(base10.fps), 2) if base10.fps else None)
    if base4:
        out["baseline_cpu_pct_4"] = round(base4.server_cpu_pct, 1)
    if salon10 and salon10 is not fan:
        out["server_cpu_pct_10"] = round(salon10.server_cpu_pct, 1)
    out["forwarded_pps_per_core"] = (round(fan.pps_per_core) if fan and fan.pps_per_core
                                     else None)
    out["forwarded_pps_per_core_by_phase"] = {
        p.name: round(p.pps_per_core) for p in phases if not p.error and p.pps_per_core}
    python = by.get("fan-out-python")
    out["python_path_pps_per_core"] = (round(python.pps_per_core)
                                       if python and python.pps_per_core else None)
    out["fast_lane_ratio"] = None
    if python and python.pps_per_core and fan and fan.pps_per_core:
        out["fast_lane_ratio"] = round(fan.pps_per_core / python.pps_per_core, 2)
        print(f"\nfast_lane_ratio (1 -> {args.subscribers}, packets/s per core, C fast lane /"
              f" Python path, same run): {fan.pps_per_core:,.0f} / {python.pps_per_core:,.0f}"
              f" = {out['fast_lane_ratio']}")
    out.update(network_figures(network or []))
    out["join_to_first_frame_p50_s"] = round(join_p50, 3) if join_p50 is not None else None
    print(f"browser join to first frame: {fmt(join_p50, '.3f')} s ({join_note})")
    out["noisy"] = any(p.noisy for p in phases if not p.error)
    out["failed_phases"] = [p.name for p in phases if p.error]
    checks = [
        (f"1 -> {args.subscribers} every subscriber >= {TARGET_FPS:g} fps",
         out.get("min_subscriber_fps"), lambda v: v >= TARGET_FPS),
        (f"{args.mesh or 8}-peer mesh < {TARGET_MESH_CPU:g}% of a core",
         out.get("mesh_server_cpu_pct"), lambda v: v < TARGET_MESH_CPU),
        (f"join-to-first-frame p50 < {TARGET_JOIN_S:g} s",
         out.get("join_to_first_frame_p50_s"), lambda v: v < TARGET_JOIN_S),
        ("constrained_min_fps >= 15", out.get("constrained_min_fps"), lambda v: v >= 15),
        ("unconstrained_min_fps >= 29", out.get("unconstrained_min_fps"),
         lambda v: v >= 29),
        ("freeze_ms_per_min < 500", out.get("freeze_ms_per_min"), lambda v: v < 500),
        ("plis_per_publisher_per_s <= 1", out.get("plis_per_publisher_per_s"),
         lambda v: v <= 1),
        ("layer_switch_s <= 5", out.get("layer_switch_s"), lambda v: v <= 5),
        ("forwarded_pps_per_core >= 75,000 (1 -> N)", out.get("forwarded_pps_per_core"),
         lambda v: v >= 75_000),
    ]
    print("targets: " + "; ".join(
        f"{name}: {'-' if value is None else 'met' if ok(value) else 'MISSED'}"
        for name, value, ok in checks))
    if out["noisy"]:
        print(f"NOTE: other processes used > {NOISY_OTHER_PCT:g}% of a core during some"
              " phases; their figures are noisy")
    return out


# --- main -----------------------------------------------------------------------------------

async def orchestrate(args: argparse.Namespace, netns: bool) -> dict[str, Any]:
    from tests.servers import cleanup, start

    from salon.client.media.testmedia import make_simulcast_media, make_test_media
    log_dir = Path(tempfile.mkdtemp(prefix="salon-media-bench-"))
    cache = Path(tempfile.gettempdir()) / "salon-bench-media"
    began = time.monotonic()
    files = {k: str(v) for k, v in make_test_media(cache).items()}
    if not args.skip_network:  # the network phase's cameras: "simulcast_q", "_h", "_f"
        files.update({f"simulcast_{rid}": str(path)
                      for rid, path in make_simulcast_media(cache).items()})
    print(f"test media in {cache} ({time.monotonic() - began:.1f} s)")
    phases: list[Phase] = []
    network: list = []
    join_p50, join_note = None, "not run"
    server = None
    try:
        print("salon:")
        server = start("", env={"SALON_ICE_HOSTS": "127.0.0.1"})
        if not args.network_only:
            phases += await bench_salon(server, files, args, log_dir)
        if not args.network_only and not args.skip_python_path:
            # the same fan-out on the Python path alone: the fast lane's baseline
            print("salon, SALON_MEDIA_FAST_LANE=0:")
            python = start("", env={"SALON_ICE_HOSTS": "127.0.0.1",
                                    "SALON_MEDIA_FAST_LANE": "0"})
            try:
                phases += await bench_salon(python, files, args, log_dir, python_path=True)
            finally:
                cleanup(python)
        if not args.skip_network:
            network = await bench_network(server, files, args, log_dir)
        if args.browser_runs > 0:
            print("browser join:")
            join_p50, join_note = await browser_join_p50(server, args.browser_runs)
            print(f"  {join_note}")
    except Exception:
        traceback.print_exc()
        print("salon: benchmark failed (traceback on stderr)")
    finally:
        if server is not None:
            if any(p.error for p in phases):
                print("  salon server log, last lines:")
                for line in server.log().splitlines()[-10:]:
                    print(f"    {line}")
                shutil.copy(server.log_path, log_dir / "salon-server.log")
            cleanup(server)
    if not args.skip_baseline:
        print("baseline (stock aiortc MediaRelay, bench/media_baseline.py):")
        try:
            phases += await bench_baseline(files, args, log_dir)
        except Exception:
            traceback.print_exc()
            print("baseline: failed (traceback on stderr)")
    summary = summarize(args, phases, join_p50, join_note, netns, network)
    if not any(p.error for p in [*phases, *network]):
        shutil.rmtree(log_dir, ignore_errors=True)
    else:
        print(f"generator logs: {log_dir}")
    return summary


def reexec_in_netns() -> int | None:
    """Run this script again inside `unshare -rn` with lo up; None if refused."""
    probe = subprocess.run(["unshare", "-rn", "true"], capture_output=True)
    if probe.returncode != 0:
        return None
    env = {**os.environ, NETNS_ENV: "1"}
    command = ["unshare", "-rn", "sh", "-c", 'ip link set lo up && exec "$0" "$@"',
               sys.executable, str(Path(__file__).resolve()), *sys.argv[1:]]
    process = subprocess.Popen(command, env=env)
    # `unshare` and `sh` exec: this pid ends up being the benchmark inside the namespace
    signal.signal(signal.SIGTERM, lambda *_: process.send_signal(signal.SIGTERM))
    try:
        return process.wait()
    except KeyboardInterrupt:  # the terminal sent SIGINT to both of us
        return process.wait()


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--gen":
        generator_main(sys.argv[2])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=None, help="fan-out N (default 50)")
    parser.add_argument("--mesh", type=int, default=None, help="mesh peers M (default 8)")
    parser.add_argument("--seconds", type=float, default=None,
                        help="measurement window per phase (default 12)")
    parser.add_argument("--skip-baseline", action="store_true",
                        help="no stock-relay baseline (no baseline_cpu_ratio)")
    parser.add_argument("--quick", action="store_true",
                        help="10 subscribers, a 4-peer mesh, 5 s windows, 3 browser joins")
    parser.add_argument("--profile", choices=["fan-out", "fan-out-10", "mesh"],
                        help="sample the salon server with py-spy during this phase's window")
    parser.add_argument("--skip-python-path", action="store_true",
                        help="skip the fan-out on a server without the C fast lane")
    parser.add_argument("--skip-network", action="store_true",
                        help="no network phase (shaped links, temporal layers)")
    parser.add_argument("--network-only", action="store_true",
                        help="the network phase alone (no fan-out, mesh, baseline, browser)")
    parser.add_argument("--browser-runs", type=int, default=None,
                        help="browser joins to time (0: none; default 7)")
    args = parser.parse_args()
    if args.network_only:
        if args.skip_network:
            parser.error("--network-only and --skip-network exclude each other")
        args.skip_baseline, args.browser_runs = True, 0
    quick = args.quick
    args.subscribers = args.subscribers if args.subscribers is not None else (10 if quick else 50)
    args.mesh = args.mesh if args.mesh is not None else (4 if quick else 8)
    args.seconds = args.seconds if args.seconds is not None else (5.0 if quick else 12.0)
    if args.browser_runs is None:
        args.browser_runs = 3 if quick else 7
    if not 1 <= args.subscribers <= 200 or not (args.mesh == 0 or 2 <= args.mesh <= 16):
        parser.error("--subscribers must be 1..200, --mesh 0 or 2..16")
    if not 2 <= args.seconds <= 60:
        parser.error("--seconds must be in [2, 60]")

    netns = os.environ.get(NETNS_ENV) == "1"
    if not netns and not only_loopback():
        code = reexec_in_netns()
        if code is not None:
            sys.exit(code)
        print("NOTE: network namespaces are refused here (unshare -rn failed); running on"
              " 127.0.0.1 in the host's network: ICE uses only 127.0.0.1 host candidates")
    netns = netns or only_loopback()
    print(f"salon media benchmark: {os.cpu_count()} CPUs; fan-out 1 -> {args.subscribers},"
          f" mesh {args.mesh}, {args.seconds:g} s windows after {WARMUP_S:g} s warm-up;"
          f" baseline {'skipped' if args.skip_baseline else 'N = 4, 10'};"
          f" {'network namespace' if netns else 'host network, 127.0.0.1 only'}", flush=True)
    received: list[int] = []

    async def guarded() -> dict[str, Any]:
        # SIGTERM and Ctrl-C cancel the run, so every `finally` stops what it started
        task = asyncio.current_task()
        assert task is not None
        for number in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(
                number, lambda n=number: (received.append(n), task.cancel()))
        async with asyncio.timeout(RUN_CAP_S):
            return await orchestrate(args, netns)

    try:
        summary = asyncio.run(guarded())
    except (asyncio.CancelledError, TimeoutError):
        if received:
            sys.exit(128 + received[0])
        print(f"the benchmark hit its {RUN_CAP_S:g} s cap", flush=True)
        sys.exit(1)
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
