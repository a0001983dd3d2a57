"""Benchmark of realtime fan-out: N peers join one session, then broadcasts reach them all.

Starts `salon serve` as a subprocess on 127.0.0.1, adds N participants to one meeting over
REST (setup, not measured), then drives the WebSocket gateway from this process with a
lean load client (raw WebSocket frames on asyncio; broadcast frames are found and
timestamped without parsing the JSON; send and receive times come from the same clock).
Phases:

  join        connect + join all N peers, 50 in flight: per-peer latency (connect -> join
              reply) and the wall time until all have joined (`join_all_s`); then wait
              until the join's peer.joined events have all been delivered (settle)
  fixed       `--senders` peers broadcast `--rate` messages/s in total for `--seconds`:
              delivery latency (receive - send) over all receivers, lost messages, server
              CPU. These are the `fanout_p50_ms`/`fanout_p99_ms` figures.
  saturation  `--sat-senders` peers each broadcast `--sat-rate` messages/s (salon allows
              5/s per peer) for `--sat-seconds`: more deliveries than a server can make,
              so delivered/s (deliveries / first send -> last delivery) is its capacity

Then it runs the same phases, with the same clients, senders and rates, against a
baseline: a minimal `websockets` server (in its own process) that sends every message it
receives to all other clients with `websockets.broadcast`. `fanout_ratio` is salon's
saturation delivered/s divided by the baseline's; `cpu_ratio` compares server CPU per
delivered message (baseline / salon), which depends less on the load generator and on
other processes sharing the CPUs (the `other` column: the machine's CPU use minus the
server's and this process's; a run is flagged `noisy` when it exceeds 20% of a core).
Clients offer permessage-deflate, as browsers and the `websockets` client do
(`--no-deflate` to turn that off).

The last line of output is one JSON object (`peers`, `join_all_s`, `join_p50_ms`,
`join_p99_ms`, `fanout_p50_ms`, `fanout_p99_ms`, `delivered_per_s`,
`baseline_delivered_per_s`, `fanout_ratio`, `lost`, `server_cpu_pct`, ...). Targets on
2 cores, 500 peers: all joined in < 10 s, fixed-rate fan-out p99 < 150 ms, fanout_ratio
>= 0.5. Everything is bounded: per-step timeouts, drain caps, an overall cap per server,
and the saturation phase offers at most 750,000 deliveries; the servers stop on errors,
Ctrl-C and SIGTERM, and the baseline process exits by itself if this one dies.

`--profile PHASE` samples the salon server with py-spy during that phase (`--native` adds
C frames). It samples without `--gil`: zlib releases the GIL, so `--gil` hides the cost of
permessage-deflate.

Run from the repo root:

    .venv/bin/python bench/realtime.py [--peers 500] [--senders 5] [--rate 10]
        [--seconds 10] [--sat-senders 100] [--sat-rate 5] [--sat-seconds 3]
        [--no-deflate] [--no-baseline] [--profile {join,fixed,saturation} [--native]]
    .venv/bin/python bench/realtime.py --webinar [--peers 3000] [--seconds 10]

`--webinar` runs the large-room benchmark of bench/webinar.py instead (5 on stage, N in
the audience, chat, polls; its own figures and JSON keys, see there).
"""

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import multiprocessing
import os
import resource
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import zlib
from array import array
from collections import Counter
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.servers import SalonServer, cleanup, start  # noqa: E402

from bench.api import own_cpu, process_cpu  # noqa: E402
from salon.client.admin import AdminClient  # noqa: E402

try:
    from websockets.speedups import apply_mask
except ImportError:  # pragma: no cover - pure Python fallback
    from websockets.utils import apply_mask

MAX_PEERS = 1000
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
NOISY_OTHER_PCT = 20.0  # other processes using more CPU than this make a phase noisy
TARGET_JOIN_ALL_S = 10.0
TARGET_FANOUT_P99_MS = 150.0
TARGET_RATIO = 0.5

SETUP_CONCURRENCY = 16  # REST add_participant calls in flight
JOIN_CONCURRENCY = 50  # connect+join in flight
JOIN_TIMEOUT_S = 30.0  # one peer's connect + join
JOIN_CAP_S = 150.0  # the whole join phase
SETTLE_QUIET_S = 1.0  # no frames for this long: the join's events are delivered
SETTLE_CAP_S = 60.0
STALL_S = 3.0  # a drain with no new delivery for this long gives up
FIXED_DRAIN_CAP_S = 10.0
SAT_DRAIN_CAP_S = 30.0
SAT_MAX_DELIVERIES = 750_000  # the saturation phase offers no more (memory, time)
KEEPALIVE_PERIOD_S = 15.0  # each salon peer pings this often (the server drops at 45 s idle)
RUN_CAP_S = 420.0  # one server's whole run
BASELINE_LIFETIME_S = 900.0  # the baseline process exits by itself after this

# Broadcast payload: the receiver finds these markers instead of parsing the JSON.
PHASE_MARK = b'"bench_p":'
TIME_OFFSET = len(b',"bench_t":')
SALON_SEND = '{"type":"broadcast","data":{"type":"bench","payload":{"bench_p":%d,"bench_t":%r}}}'
SALON_PING = b'{"type":"ping"}'
BASELINE_ACK = '{"type":"reply","id":1,"ok":true,"data":{}}'
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

T = TypeVar("T")


def client_frame(opcode: int, payload: bytes) -> bytes:
    """One final, masked client frame (RFC 6455 5.2)."""
    mask = os.urandom(4)
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
    elif size < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
    return head + mask + apply_mask(payload, mask)


def machine_cpu() -> float:
    """CPU seconds all processes of the machine used (busy time summed over CPUs)."""
    with open("/proc/stat") as stat:
        ticks = [int(n) for n in stat.readline().split()[1:]]
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / CLOCK_TICKS  # minus idle and iowait


def percentile_ms(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))
    return ordered[index] * 1000


# --- measurements ---------------------------------------------------------------------------


@dataclass
class Tally:
    """One fan-out phase against one server."""

    name: str
    fan: int = 0  # receivers per message
    offered_per_s: float = 0.0
    sent: int = 0
    unsent: int = 0  # the sender's connection was gone
    rejected: int = 0  # error replies (RATE_LIMITED, ...) during the phase
    latencies: array = field(default_factory=lambda: array("d"))  # s, one per delivery
    began: float = 0.0
    send_end: float = 0.0
    last_recv: float = 0.0
    elapsed: float = 0.0  # first send -> last delivery (at least the send window)
    measured: float = 0.0  # first send -> end of drain (CPU window)
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    other_cpu: float = 0.0  # everything else on the machine (other tests, ...)

    @property
    def expected(self) -> int:
        return max(0, self.sent - self.rejected) * self.fan

    @property
    def delivered(self) -> int:
        return len(self.latencies)

    @property
    def lost(self) -> int:
        return max(0, self.expected - self.delivered)

    @property
    def delivered_per_s(self) -> float:
        return self.delivered / self.elapsed if self.elapsed > 0 else 0.0

    def cpu_pct(self, seconds: float) -> float:
        return 100 * seconds / self.measured if self.measured > 0 else 0.0

    @property
    def server_us_per_delivery(self) -> float | None:
        """Server CPU per delivered message: depends less than delivered/s on the load
        generator keeping up and on other processes sharing the CPUs."""
        return 1e6 * self.server_cpu / self.delivered if self.delivered else None


@dataclass
class JoinResult:
    latencies: list[float] = field(default_factory=list)
    failed: int = 0
    all_s: float = 0.0
    settle_s: float = 0.0
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    other_cpu: float = 0.0


@dataclass
class ServerRun:
    """Everything measured against one server."""

    label: str
    join: JoinResult = field(default_factory=JoinResult)
    fixed: Tally | None = None
    saturation: Tally | None = None
    dropped: int = 0
    close_codes: Counter[int] = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)


class Load:
    """The shared state of all load peers of one run (one server)."""

    def __init__(self, run: ServerRun) -> None:
        self.run = run
        self.peers: list[LoadPeer] = []  # joined, in join order
        self.frames = 0  # messages received other than replies, for the settle check
        self.phases: dict[int, Tally] = {}
        self.current: Tally | None = None
        self.closing = False

    def open_peers(self) -> list["LoadPeer"]:
        return [peer for peer in self.peers if not peer.closed]

    def error(self, sample: str) -> None:
        if self.current is not None:
            self.current.rejected += 1
        if len(self.run.error_samples) < 5:
            self.run.error_samples.append(sample)


class LoadPeer(asyncio.Protocol):
    """A lean WebSocket client: handshake, frame parsing, timestamps of broadcast frames."""

    def __init__(self, load: Load, port: int, path: str, deflate: bool) -> None:
        loop = asyncio.get_running_loop()
        self.load = load
        self.port = port
        self.path = path
        self.offer_deflate = deflate
        self.key = base64.b64encode(os.urandom(16))
        self.transport: Any = None
        self.handshake: asyncio.Future[None] = loop.create_future()
        self.reply: asyncio.Future[None] | None = None
        self.upgraded = False
        self.buffer = bytearray()
        self.inflater: Any = None
        self.fragments: list[bytes] = []
        self.fragmented_compressed = False
        self.closed = False
        self.close_code: int | None = None

    # --- asyncio.Protocol -----------------------------------------------------------------

    def connection_made(self, transport: Any) -> None:  # uvloop's are not asyncio.Transport
        self.transport = transport
        extensions = ("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
                      if self.offer_deflate else "")
        transport.write(
            f"GET {self.path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {self.key.decode()}\r\nSec-WebSocket-Version: 13\r\n"
            f"{extensions}\r\n".encode())

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        if not self.upgraded:
            self.buffer += data
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > 65536:
                    self._fail("no end of the HTTP response headers")
                return
            head = bytes(self.buffer[:end]).decode("latin-1")
            del self.buffer[:end + 4]
            if not self._upgrade(head):
                return
            data = b""
        if self.buffer:
            self.buffer += data
            data = bytes(self.buffer)
            self.buffer.clear()
        pos, size = 0, len(data)
        while size - pos >= 2:
            first, length = data[pos], data[pos + 1] & 0x7F
            start = pos + 2
            if length == 126:
                if size - pos < 4:
                    break
                length = int.from_bytes(data[pos + 2:pos + 4], "big")
                start = pos + 4
            elif length == 127:
                if size - pos < 10:
                    break
                length = int.from_bytes(data[pos + 2:pos + 10], "big")
                start = pos + 10
            end = start + length
            if end > size:
                break
            self._frame(first, data[start:end], now)
            pos = end
        if pos < size:
            self.buffer += data[pos:]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.load.closing and self.upgraded and self.reply is not None \
                and self.reply.done():
            self.load.run.dropped += 1
            self.load.run.close_codes[self.close_code or 1006] += 1
        for waiter in (self.handshake, self.reply):
            if waiter is not None and not waiter.done():
                waiter.set_exception(ConnectionError(
                    f"connection closed (code {self.close_code}) {exc or ''}".strip()))

    # --- WebSocket ------------------------------------------------------------------------

    def _upgrade(self, head: str) -> bool:
        status, *lines = head.split("\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        accept = base64.b64encode(hashlib.sha1(self.key + WS_GUID).digest()).decode()
        if status.split(" ")[1:2] != ["101"] or headers.get("sec-websocket-accept") != accept:
            self._fail(f"handshake refused: {status!r}")
            return False
        if "permessage-deflate" in headers.get("sec-websocket-extensions", ""):
            self.inflater = zlib.decompressobj(wbits=-15)  # any server window up to 2**15
        self.upgraded = True
        self.handshake.set_result(None)
        return True

    def _fail(self, why: str) -> None:
        if not self.handshake.done():
            self.handshake.set_exception(ConnectionError(why))
        if self.transport is not None:
            self.transport.close()

    def _frame(self, first: int, payload: bytes, now: float) -> None:
        opcode = first & 0x0F
        if opcode in (0x1, 0x2):
            if first & 0x80:
                if first & 0x40:
                    payload = self.inflater.decompress(payload + b"\x00\x00\xff\xff")
                self._message(payload, now)
            else:
                self.fragments = [payload]
                self.fragmented_compressed = bool(first & 0x40)
        elif opcode == 0x0:
            self.fragments.append(payload)
            if first & 0x80:
                message = b"".join(self.fragments)
                self.fragments = []
                if self.fragmented_compressed:
                    message = self.inflater.decompress(message + b"\x00\x00\xff\xff")
                self._message(message, now)
        elif opcode == 0x9:  # ping: the servers close connections that do not answer
            self._write(client_frame(0xA, payload))
        elif opcode == 0x8:
            if len(payload) >= 2:
                self.close_code = int.from_bytes(payload[:2], "big")
            self._write(client_frame(0x8, payload[:2]))
            if self.transport is not None:
                self.transport.close()

    def _message(self, data: bytes, now: float) -> None:
        load = self.load
        if not data.startswith(b'{"type":"reply"'):  # not an answer to a ping or broadcast
            load.frames += 1
        i = data.find(PHASE_MARK)
        if i >= 0:
            j = data.find(b",", i)
            k = data.find(b"}", j)
            tally = load.phases.get(int(data[i + len(PHASE_MARK):j]))
            if tally is not None:
                tally.latencies.append(now - float(data[j + TIME_OFFSET:k]))
                tally.last_recv = now
            return
        reply = self.reply
        if reply is not None and not reply.done():  # the first message: the join reply
            if data.startswith(b'{"type":"reply"') and b'"ok":true' in data[:80]:
                reply.set_result(None)
            else:
                reply.set_exception(ConnectionError(f"join refused: {data[:300]!r}"))
            return
        if b'"ok":false' in data[:120]:
            load.error(data[:300].decode(errors="replace"))

    def _write(self, data: bytes) -> None:
        if self.transport is not None and not self.closed:
            self.transport.write(data)

    def send_text(self, text: bytes) -> None:
        self._write(client_frame(0x1, text))

    def close(self) -> None:
        if self.transport is not None and not self.closed:
            self._write(client_frame(0x8, struct.pack("!H", 1000)))
            self.transport.close()

    async def join(self, join_text: bytes) -> None:
        await self.handshake
        self.reply = asyncio.get_running_loop().create_future()
        self.send_text(join_text)
        await self.reply


# --- phases ---------------------------------------------------------------------------------


async def join_all(load: Load, port: int, path: str, tokens: list[str], deflate: bool,
                   server_pid: int, peer_class: type[LoadPeer] = LoadPeer) -> None:
    """Connect and join every peer, JOIN_CONCURRENCY at a time; then let events settle.

    `peer_class` is the client to connect with (bench/chat.py's adds chat messages)."""
    result = load.run.join
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(JOIN_CONCURRENCY)

    async def one(token: str) -> None:
        async with gate:
            began = time.perf_counter()
            peer: LoadPeer | None = None
            try:
                async with asyncio.timeout(JOIN_TIMEOUT_S):
                    _, peer = await loop.create_connection(
                        lambda: peer_class(load, port, path, deflate), "127.0.0.1", port)
                    join = {"id": 1, "type": "join", "data": {"token": token, "protocol": 1}}
                    await peer.join(json.dumps(join).encode())
            except asyncio.CancelledError:
                if peer is not None:
                    peer.close()
                raise
            except (OSError, TimeoutError) as error:
                result.failed += 1
                if len(load.run.error_samples) < 5:
                    load.run.error_samples.append(f"join: {error!r}")
                if peer is not None:
                    peer.close()
                return
            result.latencies.append(time.perf_counter() - began)
            load.peers.append(peer)

    server_before, client_before, machine_before = (process_cpu(server_pid), own_cpu(),
                                                    machine_cpu())
    began = time.perf_counter()
    tasks = [asyncio.ensure_future(one(token)) for token in tokens]
    try:
        async with asyncio.timeout(JOIN_CAP_S):
            await asyncio.gather(*tasks)
    except TimeoutError:
        print(f"  join phase hit its {JOIN_CAP_S:g} s cap")
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        result.failed = len(tokens) - len(load.peers)
    result.all_s = time.perf_counter() - began
    result.server_cpu = process_cpu(server_pid) - server_before
    result.client_cpu = own_cpu() - client_before
    result.other_cpu = machine_cpu() - machine_before - result.server_cpu - result.client_cpu
    result.settle_s = await settle(load) + result.all_s


async def settle(load: Load) -> float:
    """Wait until no message arrived for SETTLE_QUIET_S (capped); the seconds it took."""
    began = time.perf_counter()
    seen, quiet_since = load.frames, began
    while time.perf_counter() - began < SETTLE_CAP_S:
        await asyncio.sleep(0.1)
        now = time.perf_counter()
        if load.frames != seen:
            seen, quiet_since = load.frames, now
        elif now - quiet_since >= SETTLE_QUIET_S:
            return quiet_since - began
    print(f"  still receiving after {SETTLE_CAP_S:g} s; going on")
    return time.perf_counter() - began


async def send_paced(tally: Tally, senders: list[LoadPeer], rate: float, count: int,
                     template: str, phase: int, began: float) -> None:
    """Send `count` messages at `rate` a second from `began`, the senders taking turns;
    each carries its phase and its send time (`template % (phase, time)`), so a receiver
    knows its latency without parsing the JSON. A closed sender's turn is counted unsent."""
    tally.began = began
    for n in range(count):
        delay = began + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        sender = senders[n % len(senders)]
        if sender.closed:
            tally.unsent += 1
            continue
        sender.send_text((template % (phase, time.perf_counter())).encode())
        tally.sent += 1
    tally.send_end = time.perf_counter()


async def fanout(load: Load, phase: int, name: str, senders: list[LoadPeer], rate: float,
                 seconds: float, drain_cap: float, server_pid: int) -> Tally:
    """Senders take turns to broadcast `rate` messages/s in total for `seconds`."""
    tally = Tally(name, fan=len(load.open_peers()) - 1)
    if tally.fan < 1:
        raise RuntimeError(f"{name}: fewer than 2 connections left open")
    tally.offered_per_s = rate * tally.fan
    load.phases[phase] = tally
    load.current = tally
    count = max(1, round(rate * seconds))
    server_before, client_before, machine_before = (process_cpu(server_pid), own_cpu(),
                                                    machine_cpu())
    began = time.perf_counter()
    await send_paced(tally, senders, rate, count, SALON_SEND, phase, began)
    seen, progress_at = -1, tally.send_end
    while (now := time.perf_counter()) < tally.send_end + drain_cap:
        if tally.delivered >= tally.expected:
            break
        if tally.delivered != seen:
            seen, progress_at = tally.delivered, now
        elif now - progress_at > STALL_S:
            break
        await asyncio.sleep(0.02)
    end = time.perf_counter()
    tally.server_cpu = process_cpu(server_pid) - server_before
    tally.client_cpu = own_cpu() - client_before
    tally.other_cpu = machine_cpu() - machine_before - tally.server_cpu - tally.client_cpu
    tally.measured = end - began
    # Not shorter than the send window: a server that keeps up delivers the offered rate.
    tally.elapsed = max(tally.last_recv or end, began + count / rate) - began
    load.current = None
    return tally


async def keepalive(load: Load) -> None:
    """Each salon peer pings every KEEPALIVE_PERIOD_S, spread out evenly in time."""
    while True:
        peers = load.open_peers()
        if not peers:
            await asyncio.sleep(0.5)
            continue
        step = KEEPALIVE_PERIOD_S / len(peers)
        for peer in peers:
            peer.send_text(SALON_PING)
            await asyncio.sleep(step)


class Profiler:
    """py-spy sampling the salon server during one phase (`--profile`)."""

    def __init__(self, pid: int, native: bool) -> None:
        self.out = Path(tempfile.mkdtemp(prefix="salon-profile-")) / "stacks.txt"
        py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        self.process = subprocess.Popen(
            [py_spy, "record", "--pid", str(pid), "--rate", "250", "--format", "raw",
             "--threads", "--output", str(self.out), *(["--native"] if native else [])],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            _, err = self.process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, err = self.process.communicate()
        if not self.out.exists():
            print(f"py-spy wrote no profile: {err.decode(errors='replace')}")


async def drive(run: ServerRun, port: int, path: str, tokens: list[str], server_pid: int,
                args: argparse.Namespace, salon: bool) -> Profiler | None:
    """All phases against one server; every connection is closed on the way out."""
    load = Load(run)
    pinger = asyncio.create_task(keepalive(load)) if salon else None
    profiler: Profiler | None = None

    def profile(phase: str) -> None:
        nonlocal profiler
        if salon and args.profile == phase:
            profiler = Profiler(server_pid, args.native)
            time.sleep(1.0)  # let py-spy attach (blocks the loop, before the phase starts)

    def unprofile(phase: str) -> None:
        if profiler is not None and args.profile == phase:
            profiler.stop()

    try:
        profile("join")
        await join_all(load, port, path, tokens, args.deflate, server_pid)
        unprofile("join")
        if len(load.peers) < 2:
            raise RuntimeError(f"only {len(load.peers)} peers joined")
        senders = load.peers[:min(args.senders, len(load.peers) - 1)]
        profile("fixed")
        run.fixed = await fanout(load, 1, "fixed", senders, args.rate, args.seconds,
                                 FIXED_DRAIN_CAP_S, server_pid)
        unprofile("fixed")
        await settle(load)
        senders = load.peers[:min(args.sat_senders, len(load.peers) - 1)]
        profile("saturation")
        run.saturation = await fanout(load, 2, "saturation", senders,
                                      args.sat_rate * len(senders), args.sat_seconds,
                                      SAT_DRAIN_CAP_S, server_pid)
        unprofile("saturation")
    finally:
        if profiler is not None and profiler.process.poll() is None:
            profiler.stop()
        load.closing = True
        if pinger is not None:
            pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pinger
        for peer in load.peers:
            peer.close()
        await asyncio.sleep(0.2)
    return profiler


# --- the two servers ------------------------------------------------------------------------


async def make_tokens(server: SalonServer, peers: int) -> list[str]:
    """One meeting and `peers` participants over REST (setup, not measured)."""
    async with AdminClient(server.url, server.account_id, server.app_id, server.api_token,
                           timeout=30) as admin:
        meeting = await admin.create_meeting(title="realtime bench")
        gate = asyncio.Semaphore(SETUP_CONCURRENCY)

        async def add(i: int) -> str:
            async with gate:
                participant = await admin.add_participant(
                    meeting["id"], f"bench-{i}", "group_call_participant", name=f"Peer {i}")
                return participant["token"]

        return list(await asyncio.gather(*(add(i) for i in range(peers))))


async def bench_salon(server: SalonServer, args: argparse.Namespace) -> ServerRun:
    began = time.perf_counter()
    tokens = await make_tokens(server, args.peers)
    print(f"  setup: {len(tokens)} participants added over REST in"
          f" {time.perf_counter() - began:.1f} s")
    run = ServerRun("salon")
    async with asyncio.timeout(RUN_CAP_S):
        profiler = await drive(run, server.port, "/realtime/v1", tokens, server.process.pid,
                               args, salon=True)
    if profiler is not None and profiler.out.exists():
        from bench.profile_api import hottest
        print(f"\npy-spy on the salon server during the {args.profile} phase:")
        hottest(profiler.out, 30)
        print(f"collapsed stacks: {profiler.out}\n")
    return run


async def bench_baseline(port: int, pid: int, args: argparse.Namespace) -> ServerRun:
    run = ServerRun("baseline")
    tokens = [f"baseline-{i}" for i in range(args.peers)]
    async with asyncio.timeout(RUN_CAP_S):
        await drive(run, port, "/", tokens, pid, args, salon=False)
    return run


def baseline_main(conn: Connection, parent_pid: int) -> None:
    """Entry point of the baseline process (spawned): serve until told or orphaned."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us, also on Ctrl-C
    run_async(baseline_serve(conn, parent_pid))


async def baseline_serve(conn: Connection, parent_pid: int) -> None:
    """The minimal broadcast server: any first message is a join, then relay to all others."""
    from websockets.asyncio.server import ServerConnection, broadcast, serve
    from websockets.exceptions import ConnectionClosed

    clients: set[ServerConnection] = set()

    async def handler(websocket: ServerConnection) -> None:
        try:
            await websocket.recv()
            await websocket.send(BASELINE_ACK)
            clients.add(websocket)
            async for message in websocket:
                broadcast(clients - {websocket}, message)
        except ConnectionClosed:
            pass
        finally:
            clients.discard(websocket)

    async with serve(handler, "127.0.0.1", 0, max_size=2**20) as server:
        conn.send(server.sockets[0].getsockname()[1])
        loop = asyncio.get_running_loop()
        deadline = loop.time() + BASELINE_LIFETIME_S
        while os.getppid() == parent_pid and loop.time() < deadline:
            await asyncio.sleep(0.5)


@contextlib.contextmanager
def baseline_process():
    """The baseline server in a process of its own; yields (port, pid)."""
    context = multiprocessing.get_context("spawn")  # no fork of a process with a loop
    ours, theirs = context.Pipe()
    process = context.Process(target=baseline_main, args=(theirs, os.getpid()), daemon=True)
    process.start()
    try:
        if not ours.poll(30):
            raise RuntimeError("the baseline server did not start within 30 s")
        yield ours.recv(), process.pid
    finally:
        process.terminate()
        process.join(10)
        if process.is_alive():
            process.kill()
            process.join()


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """On uvloop when it is there, like the salon server."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def install_exit_handlers() -> None:
    """SIGTERM and Ctrl-C unwind as SystemExit, so the `finally` blocks stop the servers."""
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda received, _: sys.exit(128 + received))


def run_load(coroutine: Coroutine[Any, Any, T]) -> T:
    """`run_async`, stopped by SIGTERM or Ctrl-C through cancellation of the main task.

    An exception raised by a signal handler would land in whatever callback runs at the
    time, most often a protocol's `data_received`, where the event loop takes it for a
    broken connection; cancelling unwinds the `finally` blocks instead.
    """
    received: list[int] = []

    async def guarded() -> T:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None

        def stop(number: int) -> None:
            received.append(number)
            task.cancel()

        for number in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(number, stop, number)
        return await coroutine

    try:
        return run_async(guarded())
    except asyncio.CancelledError:
        if received:
            sys.exit(128 + received[0])
        raise
    finally:
        install_exit_handlers()  # closing the loop restored the default handlers


def raise_fd_limit(peers: int) -> None:
    """Each peer is a socket here and one in the server (which inherits this limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    if wanted < peers + 256:
        print(f"warning: file descriptor limit {wanted} is low for {peers} peers")


# --- report ---------------------------------------------------------------------------------


def rnd(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def fmt(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def report(args: argparse.Namespace, salon: ServerRun | None,
           baseline: ServerRun | None) -> dict[str, Any]:
    runs = [r for r in (salon, baseline) if r is not None]
    print(f"\njoin ({args.peers} peers, {JOIN_CONCURRENCY} in flight; latency = connect ->"
          " join reply; settle = until the join's events stop arriving):")
    print(f"  {'server':<9} {'joined':>6} {'failed':>6} {'p50 ms':>8} {'p99 ms':>8}"
          f" {'all s':>7} {'settle s':>8} {'srv cpu':>7} {'cli cpu':>7} {'other':>6}")
    noisy = False
    for r in runs:
        j = r.join
        pct = [100 * cpu / j.all_s if j.all_s else 0.0
               for cpu in (j.server_cpu, j.client_cpu, j.other_cpu)]
        noisy = noisy or pct[2] > NOISY_OTHER_PCT
        print(f"  {r.label:<9} {len(j.latencies):>6} {j.failed:>6}"
              f" {fmt(percentile_ms(j.latencies, 0.5)):>8}"
              f" {fmt(percentile_ms(j.latencies, 0.99)):>8} {j.all_s:>7.2f} {j.settle_s:>8.2f}"
              f" {pct[0]:>6.0f}% {pct[1]:>6.0f}% {pct[2]:>5.0f}%")
    print("\nfan-out (latency = receive - send over all receivers; delivered/s = deliveries"
          " / (first send -> last delivery)):")
    print(f"  {'server':<9} {'phase':<10} {'sent':>5} {'rej':>4} {'expected':>8} {'lost':>7}"
          f" {'offered/s':>9} {'deliv/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}"
          f" {'srv cpu':>7} {'cli cpu':>7} {'other':>6} {'srv us/deliv':>12}")
    for r in runs:
        for t in (r.fixed, r.saturation):
            if t is None:
                continue
            print(f"  {r.label:<9} {t.name:<10} {t.sent:>5} {t.rejected:>4} {t.expected:>8}"
                  f" {t.lost:>7} {t.offered_per_s:>9.0f} {t.delivered_per_s:>9.0f}"
                  f" {fmt(percentile_ms(t.latencies, 0.5)):>8}"
                  f" {fmt(percentile_ms(t.latencies, 0.99)):>8}"
                  f" {fmt(percentile_ms(t.latencies, 1.0)):>8}"
                  f" {t.cpu_pct(t.server_cpu):>6.0f}% {t.cpu_pct(t.client_cpu):>6.0f}%"
                  f" {t.cpu_pct(t.other_cpu):>5.0f}% {fmt(t.server_us_per_delivery, '.2f'):>12}")
            noisy = noisy or t.cpu_pct(t.other_cpu) > NOISY_OTHER_PCT
    print("  (cpu: % of one core; other = the rest of the machine; srv us/deliv = server CPU"
          " per delivered message)")
    if noisy:
        print(f"  NOTE: other processes used > {NOISY_OTHER_PCT:g}% of a core during some"
              " phases; their figures are noisy")
    for r in runs:
        if r.dropped:
            print(f"  {r.label}: {r.dropped} connections dropped after joining, close codes"
                  f" {dict(r.close_codes)}")
        for sample in r.error_samples:
            print(f"  {r.label} error: {sample}")

    out: dict[str, Any] = {"peers": args.peers, "deflate": args.deflate, "noisy": noisy}
    if salon is not None:
        j, fixed, sat = salon.join, salon.fixed, salon.saturation
        out.update(join_all_s=round(j.all_s, 2), join_p50_ms=rnd(percentile_ms(j.latencies, .5)),
                   join_p99_ms=rnd(percentile_ms(j.latencies, .99)), join_failed=j.failed,
                   join_settle_s=round(j.settle_s, 2))
        if fixed is not None:
            out.update(fanout_p50_ms=rnd(percentile_ms(fixed.latencies, .5)),
                       fanout_p99_ms=rnd(percentile_ms(fixed.latencies, .99)),
                       fixed_offered_per_s=round(fixed.offered_per_s),
                       fixed_delivered_per_s=round(fixed.delivered_per_s),
                       fixed_lost=fixed.lost,
                       server_cpu_pct=round(fixed.cpu_pct(fixed.server_cpu), 1))
        if sat is not None:
            out.update(delivered_per_s=round(sat.delivered_per_s),
                       sat_offered_per_s=round(sat.offered_per_s),
                       sat_p50_ms=rnd(percentile_ms(sat.latencies, .5)),
                       sat_p99_ms=rnd(percentile_ms(sat.latencies, .99)),
                       sat_lost=sat.lost, sat_rejected=sat.rejected,
                       sat_server_cpu_pct=round(sat.cpu_pct(sat.server_cpu), 1),
                       sat_client_cpu_pct=round(sat.cpu_pct(sat.client_cpu), 1),
                       server_us_per_delivery=rnd(sat.server_us_per_delivery, 2))
        out["lost"] = sum(t.lost for t in (fixed, sat) if t is not None)
        out["dropped"] = salon.dropped
    if baseline is not None:
        j, fixed, sat = baseline.join, baseline.fixed, baseline.saturation
        out.update(baseline_join_all_s=round(j.all_s, 2))
        if fixed is not None:
            out.update(baseline_fanout_p50_ms=rnd(percentile_ms(fixed.latencies, .5)),
                       baseline_fanout_p99_ms=rnd(percentile_ms(fixed.latencies, .99)),
                       baseline_fixed_delivered_per_s=round(fixed.delivered_per_s))
        if sat is not None:
            out.update(baseline_delivered_per_s=round(sat.delivered_per_s),
                       baseline_sat_p99_ms=rnd(percentile_ms(sat.latencies, .99)),
                       baseline_lost=sum(t.lost for t in (fixed, sat) if t is not None),
                       baseline_sat_server_cpu_pct=round(sat.cpu_pct(sat.server_cpu), 1),
                       baseline_sat_client_cpu_pct=round(sat.cpu_pct(sat.client_cpu), 1),
                       baseline_us_per_delivery=rnd(sat.server_us_per_delivery, 2))
    if out.get("delivered_per_s") is not None and out.get("baseline_delivered_per_s"):
        out["fanout_ratio"] = round(out["delivered_per_s"] / out["baseline_delivered_per_s"], 3)
        print(f"\nfanout_ratio (saturation delivered/s, salon / baseline):"
              f" {out['delivered_per_s']} / {out['baseline_delivered_per_s']}"
              f" = {out['fanout_ratio']:.3f}")
    if out.get("server_us_per_delivery") and out.get("baseline_us_per_delivery"):
        out["cpu_ratio"] = round(out["baseline_us_per_delivery"]
                                 / out["server_us_per_delivery"], 3)
        print(f"cpu_ratio (saturation server CPU per delivery, baseline / salon):"
              f" {out['baseline_us_per_delivery']} / {out['server_us_per_delivery']} us"
              f" = {out['cpu_ratio']:.3f}")
    checks = [
        ("all joined in < 10 s", out.get("join_all_s"),
         lambda v: v < TARGET_JOIN_ALL_S and not out.get("join_failed")),
        ("fixed-rate fan-out p99 < 150 ms", out.get("fanout_p99_ms"),
         lambda v: v < TARGET_FANOUT_P99_MS),
        ("fanout_ratio >= 0.5", out.get("fanout_ratio"), lambda v: v >= TARGET_RATIO),
    ]
    if args.peers == 500:
        print("targets (2 cores, 500 peers): " + "; ".join(
            f"{name}: {'-' if value is None else 'met' if ok(value) else 'MISSED'}"
            for name, value, ok in checks))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peers", type=int, default=500, help=f"2..{MAX_PEERS}")
    parser.add_argument("--senders", type=int, default=5, help="fixed-rate phase senders")
    parser.add_argument("--rate", type=float, default=10.0,
                        help="fixed-rate phase: messages/s in total (<= 5/s per sender)")
    parser.add_argument("--seconds", type=float, default=10.0, help="fixed-rate phase length")
    parser.add_argument("--sat-senders", type=int, default=100,
                        help="saturation phase senders")
    parser.add_argument("--sat-rate", type=float, default=5.0,
                        help="saturation phase: messages/s per sender (salon allows 5)")
    parser.add_argument("--sat-seconds", type=float, default=3.0,
                        help=f"saturation phase length (shortened to offer at most"
                             f" {SAT_MAX_DELIVERIES:,} deliveries)")
    parser.add_argument("--no-deflate", dest="deflate", action="store_false",
                        help="clients do not offer permessage-deflate")
    parser.add_argument("--no-baseline", dest="baseline", action="store_false",
                        help="skip the websockets baseline (no fanout_ratio)")
    parser.add_argument("--profile", choices=["join", "fixed", "saturation"],
                        help="sample the salon server with py-spy during this phase")
    parser.add_argument("--native", action="store_true",
                        help="with --profile: include C frames (zlib, socket writes)")
    parser.add_argument("--webinar", action="store_true",
                        help="the large-room mode instead (bench/webinar.py): 5 on stage,"
                             " --peers in the audience (default 3000), chat, polls")
    args = parser.parse_args()
    if args.webinar:
        from bench import webinar
        if "--peers" not in " ".join(sys.argv):
            args.peers = 3000
        install_exit_handlers()
        webinar.main(args)
        return
    if not 2 <= args.peers <= MAX_PEERS:
        parser.error(f"--peers must be 2..{MAX_PEERS}")
    if min(args.senders, args.sat_senders) < 1 or min(args.rate, args.sat_rate) <= 0:
        parser.error("senders and rates must be positive")
    if not (0 < args.seconds <= 60 and 0 < args.sat_seconds <= 30):
        parser.error("--seconds must be in (0, 60], --sat-seconds in (0, 30]")
    if args.rate / min(args.senders, args.peers - 1) > 5:
        print("warning: more than 5 broadcasts/s per sender; salon will reject some")
    install_exit_handlers()
    raise_fd_limit(args.peers)

    sat_senders = min(args.sat_senders, args.peers - 1)
    longest = SAT_MAX_DELIVERIES / (sat_senders * args.sat_rate * (args.peers - 1))
    if args.sat_seconds > longest:
        args.sat_seconds = round(longest, 2)
    print(f"salon realtime fan-out benchmark: {args.peers} peers, {os.cpu_count()} CPUs,"
          f" permessage-deflate {'offered' if args.deflate else 'off'};"
          f" fixed {args.rate:g} msg/s x {args.seconds:g} s from {args.senders} senders;"
          f" saturation {sat_senders} senders x {args.sat_rate:g}/s x {args.sat_seconds:g} s")
    salon: ServerRun | None = None
    baseline: ServerRun | None = None
    failed = False
    server: SalonServer | None = None
    try:
        print("salon:")
        server = start("")
        salon = run_load(bench_salon(server, args))
    except Exception:
        traceback.print_exc()
        print("salon: benchmark failed (traceback on stderr)")
        failed = True
    finally:
        if server is not None:
            if salon is not None and salon.dropped:
                print("  salon server log, last lines:")
                for line in server.log().splitlines()[-10:]:
                    print(f"    {line}")
            cleanup(server)
    if args.baseline:
        try:
            print("baseline (websockets.broadcast):")
            with baseline_process() as (port, pid):
                baseline = run_load(bench_baseline(port, pid, args))
        except Exception:
            traceback.print_exc()
            print("baseline: benchmark failed (traceback on stderr)")
            failed = True
    summary = report(args, salon, baseline)
    print(json.dumps(summary), flush=True)
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
