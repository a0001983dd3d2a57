"""The `network` phase of bench/media.py: a 6-peer meeting where two peers sit on
constrained links, run twice in the same server: layered (each camera as simulcast, salon
picks each subscriber's encoding and temporal layers) and with single-layer forwarding
(the top encoding alone, its layers not named), for the CPU ratio.

In the layered run every peer publishes its camera as simulcast from
`make_simulcast_media`'s files (`SimulcastSource`: RIDs q 160x120 ~110 kbit/s,
h 320x240 ~200 kbit/s, f 640x480 ~300 kbit/s, 30 fps, each L1T2 with its layers named;
a server that does not accept simulcast gets `f` alone, and can only drop its temporal
layer). In the single-layer run every peer sends the `f` file alone. Both add Opus
with DTX (`speech`: 1 s of sound every 4 s; in
silence one packet per 400 ms, as browsers send with the `usedtx=1` salon asks for;
each peer starts 4/6 s later into it, so one or two speak at a time).
Four peers receive every other peer's camera. The
two constrained peers:

- `slow`: its downlink is shaped to 300 kbit/s by `tc` (HTB class, 15 kB bfifo queue,
  filtered by the server's UDP port of its subscribe connection, on loopback); it shows
  a speaker view: one camera and every microphone (five cameras cannot fit 300 kbit/s
  at any layer);
- `lossy`: loses 2 % of the datagrams reaching it and each is delayed by 0..80 ms,
  at its own socket (this kernel has no netem, and a user namespace cannot load it); it
  receives every camera.

Figures (over the same window as the other phases): per subscriber fps, freeze time
(gaps between frames over 500 ms), received bitrate (against the link for `slow`),
keyframe requests per publisher per second (the server's PLI counter), server CPU, and
after the window, the time from lifting `slow`'s limit until it gets every layer again
(the top encoding, when the server reports encodings, with all its temporal layers).
Frames are counted per track as the subscriber receives it (one SSRC per m-line from
the SFU, whichever encoding it forwards), from RTP marker bits.
"""

import asyncio
import statistics
import time
from dataclasses import dataclass, field

from tests.shaping import shape, shaping_off, shaping_on

PEERS = 6
SLOW_RATE = "300kbit"
SLOW_BPS = 300_000
LOSSY = {"loss": 0.02, "jitter_ms": 80.0}
#: The estimator settles before the window opens (on top of the usual warm-up).
SETTLE_S = 4.0
SWITCH_TIMEOUT_S = 15.0
#: The RID of the simulcast set's highest encoding (testmedia.SIMULCAST, low to high).
TOP_ENCODING = "f"


@dataclass
class NetPhase:
    name: str
    layered: bool
    window_s: float = 0.0
    server_cpu_pct: float = 0.0
    fps: dict[str, list[float]] = field(default_factory=dict)  # role -> per video track
    freeze_ms_per_min: dict[str, float] = field(default_factory=dict)  # role -> worst
    kbps: dict[str, float] = field(default_factory=dict)  # role -> mean received kbit/s
    packets_per_s: float = 0.0
    plis_per_publisher_per_s: float = 0.0
    layer_switch_s: float | None = None
    error: str | None = None

    @property
    def pps_per_core(self) -> float | None:
        cores = self.server_cpu_pct / 100
        return self.packets_per_s / cores if cores > 0 else None

    def min_fps(self, *roles: str) -> float | None:
        values = [f for r in roles for f in self.fps.get(r, [])]
        return min(values) if values else None


def _tracks(before: dict, after: dict, seconds: float, phase: NetPhase, role: str) -> None:
    olds = before["tracks"]
    worst = phase.freeze_ms_per_min.get(role, 0.0)
    bits = 0.0
    for i, track in enumerate(after["tracks"]):
        old = olds[i] if i < len(olds) else {"frames": 0, "bytes": 0, "packets": 0,
                                             "freeze_s": 0.0}
        phase.packets_per_s += (track["packets"] - old.get("packets", 0)) / seconds
        bits += 8 * (track["bytes"] - old["bytes"])
        if track["kind"] != "video" or not track.get("live", True):
            continue  # audio, or a camera no longer subscribed to (the speaker view)
        phase.fps.setdefault(role, []).append((track["frames"] - old["frames"]) / seconds)
        frozen = track["freeze_s"] - old.get("freeze_s", 0.0)
        worst = max(worst, 1000 * frozen * 60 / seconds)
    phase.freeze_ms_per_min[role] = worst
    phase.kbps.setdefault(role, 0.0)
    phase.kbps[role] = max(phase.kbps[role], bits / seconds / 1000)


async def run(server, files: dict[str, str], args, log_dir, layered: bool) -> NetPhase:
    from bench.media import (
        READY_TIMEOUT_S,
        STEP_TIMEOUT_S,
        WARMUP_S,
        Gen,
        process_cpu,
        salon_tokens,
    )
    from salon.client import ws_url

    phase = NetPhase("network" if layered else "network-1layer", layered)
    url, pid = ws_url(server.url), server.process.pid
    tokens = await salon_tokens(server, PEERS, f"media bench {phase.name}")
    common = {"server": "salon", "url": url, "files": files, "publish": True,
              "subscribe": True, "video": "simulcast" if layered else "simulcast_f",
              "layered": layered,
              "audio": "speech", "dtx": True, "audio_offset": 4.0 / PEERS,
              "rcvbuf": 4 * 1024 * 1024, "nice": 5}
    roles = {
        "unconstrained": {**common, "tokens": tokens[:4], "count": 4, "expect": PEERS - 1},
        "slow": {**common, "tokens": tokens[4:5], "count": 1, "expect": 1, "first": 4,
                 "wait_for": PEERS - 1, "videos": 1},
        "lossy": {**common, "tokens": tokens[5:6], "count": 1, "expect": PEERS - 1,
                  "first": 5,
                  "impair": LOSSY},
    }
    gens = {role: Gen(f"{phase.name}-{role}", spec, log_dir) for role, spec in roles.items()}
    shaping_on()
    try:
        for gen in gens.values():
            await gen.start()
        readies = dict(zip(gens, await asyncio.gather(
            *(g.read("ready", READY_TIMEOUT_S + 30) for g in gens.values())), strict=True))
        port = readies["slow"]["ports"][0]
        if port is None:
            raise RuntimeError("the slow peer has no subscribe connection")
        shape(port, SLOW_RATE)
        await asyncio.sleep(WARMUP_S + SETTLE_S)
        marks0 = {r: await g.mark() for r, g in gens.items()}
        t0, cpu0 = time.monotonic(), process_cpu(pid)
        await asyncio.sleep(args.seconds)
        marks1 = {r: await g.mark() for r, g in gens.items()}
        t1, cpu1 = time.monotonic(), process_cpu(pid)
        phase.window_s = t1 - t0
        phase.server_cpu_pct = 100 * (cpu1 - cpu0) / phase.window_s
        plis: list[float] = []
        for role in gens:
            m0, m1 = marks0[role], marks1[role]
            seconds = m1["t"] - m0["t"]
            for before, after in zip(m0["peers"], m1["peers"], strict=True):
                _tracks(before, after, seconds, phase, role)
                for was, now in zip(before.get("server", []), after.get("server", []),
                                    strict=False):
                    if now["kind"] == "video":
                        plis.append((now["plis"] - was["plis"]) / seconds)
        phase.plis_per_publisher_per_s = max(plis) if plis else 0.0
        if layered:
            shape(port, "10gbit")  # the limit is lifted
            lifted = time.monotonic()
            while time.monotonic() - lifted < SWITCH_TIMEOUT_S:
                await gens["slow"].send("layers")
                layers = (await gens["slow"].read("layers", STEP_TIMEOUT_S))[0]
                # the encodings line comes with the layers line, already read; a slot
                # that has no encoding yet (its camera just changed with the speaker)
                # has not switched to anything: it does not count as the top one
                encodings = (gens["slow"].last.get("encodings") or [[]])[0]
                if (layers and all(layer == 3 for layer in layers) and encodings
                        and all(rid == TOP_ENCODING for rid in encodings)):
                    phase.layer_switch_s = time.monotonic() - lifted
                    break
                await asyncio.sleep(0.5)  # media.stats allows 2 a second
    except Exception as error:
        phase.error = f"{type(error).__name__}: {error}"
    finally:
        await asyncio.gather(*(g.stop() for g in gens.values()), return_exceptions=True)
        shaping_off()
    return phase


def report(p: NetPhase) -> None:
    if p.error:
        print(f"    FAILED: {p.error}")
        return
    for role in ("unconstrained", "slow", "lossy"):
        fps = sorted(p.fps.get(role, []))
        if not fps:
            continue
        link = f" on a {SLOW_BPS // 1000} kbit/s link" if role == "slow" else ""
        print(f"    {role:<13} video fps min {fps[0]:.2f} median {statistics.median(fps):.2f}"
              f" over {len(fps)} tracks; worst freeze {p.freeze_ms_per_min[role]:.0f} ms/min;"
              f" received {p.kbps[role]:.0f} kbit/s per peer (max){link}")
    ppc = p.pps_per_core
    print(f"    server cpu {p.server_cpu_pct:.1f}%; {p.packets_per_s:.0f} RTP packets/s"
          f" received by subscribers = {ppc:,.0f} per core of server CPU;"
          f" keyframe requests per publisher {p.plis_per_publisher_per_s:.2f}/s (max)"
          + (f"; limit lifted -> every layer again in {p.layer_switch_s:.1f} s"
             if p.layer_switch_s is not None else
             ("; limit lifted -> NOT back to every layer" if p.layered else "")),
          flush=True)
