"""Benchmark: does the dashboard's "live now" page hurt a 500-peer meeting?

Starts `salon serve` (SQLite) on 127.0.0.1, joins `--peers` peers to one meeting with
the lean load client of bench/realtime.py, then measures realtime fan-out (`--senders`
peers broadcast `--rate` messages/s in total for `--seconds`, like realtime.py's fixed
phase) in alternating rounds, in the same run and against the same room:

  without   no dashboard open
  with      `--dashboards` dashboards open on the live page, each polling
            GET /{app}/live_sessions every 2 s (views/live.js's POLL_MS), as the page does:
            its default `peer_limit` (200 of the 500 peers listed), no meeting filter

The pollers run in a thread of their own (sync httpx), so their requests are real HTTP
to the same server but do not share the load client's event loop. Each poll's latency
(request -> whole body read) is kept: `dashboard_live_poll_ms_p99`.

Printed: per round, fan-out p50/p99, deliveries lost, server CPU and the CPU other
processes used meanwhile (`noisy` past 20% of a core, as in realtime.py); the poll latency and
answer size; the ratio of fan-out p99 with the dashboard to without (1.0 = no effect).
The last line is one JSON object: `fanout_p99_ms_without_dashboard`,
`fanout_p99_ms_with_dashboard`, `dashboard_live_poll_ms_p99`, and more. Bounded: the
run is capped like realtime.py's, and the pollers stop with each round.

    .venv/bin/python bench/dashboard.py [--peers 500] [--senders 5] [--rate 10]
        [--seconds 10] [--rounds 2] [--dashboards 1]
"""

import argparse
import asyncio
import contextlib
import json
import sys
import threading
import time
from array import array
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.servers import SalonServer, cleanup, start  # noqa: E402

from bench.realtime import (  # noqa: E402
    FIXED_DRAIN_CAP_S,
    NOISY_OTHER_PCT,
    RUN_CAP_S,
    Load,
    ServerRun,
    Tally,
    fanout,
    join_all,
    keepalive,
    make_tokens,
    percentile_ms,
    raise_fd_limit,
    rnd,
    run_load,
    settle,
)

#: The live page's polling period (src/salon/web/dashboard/views/live.js, POLL_MS).
POLL_S = 2.0


class Pollers:
    """`count` dashboards polling the live view every POLL_S, staggered, in one thread."""

    def __init__(self, server: SalonServer, count: int) -> None:
        self.url = f"{server.app_url}/live_sessions"
        self.headers = server.headers
        self.count = count
        self.latencies = array("d")
        self.sizes: list[int] = []
        self.failures = 0
        self.sessions_seen = 0
        self.peers_listed = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="dashboard-pollers", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)

    def _run(self) -> None:
        with httpx.Client(headers=self.headers, timeout=10) as client:
            began = time.perf_counter()
            n = 0
            while not self._stop.is_set():
                # Dashboard i polls at began + k*POLL_S + i*POLL_S/count.
                due = began + n * POLL_S / self.count
                if self._stop.wait(max(0.0, due - time.perf_counter())):
                    break
                sent = time.perf_counter()
                try:
                    answer = client.get(self.url)
                    body = answer.content
                    if answer.status_code != 200:
                        self.failures += 1
                    else:
                        self.latencies.append(time.perf_counter() - sent)
                        self.sizes.append(len(body))
                        data = json.loads(body)["data"]["sessions"]
                        self.sessions_seen = len(data)
                        self.peers_listed = sum(len(s["peers"]) for s in data)
                except httpx.HTTPError:
                    self.failures += 1
                n += 1


async def run(server: SalonServer, args: argparse.Namespace) -> dict:
    tokens = await make_tokens(server, args.peers)
    load = Load(ServerRun("salon"))
    pinger = asyncio.create_task(keepalive(load))
    pollers = Pollers(server, args.dashboards)
    rounds: list[tuple[str, Tally]] = []
    try:
        async with asyncio.timeout(RUN_CAP_S):
            await join_all(load, server.port, "/realtime/v1", tokens, True, server.process.pid)
            joined = len(load.peers)
            print(f"  joined {joined}/{args.peers} in {load.run.join.all_s:.1f} s")
            if joined < 2:
                raise RuntimeError("too few peers joined")
            senders = load.peers[:args.senders]
            phase = 0
            for r in range(args.rounds):
                for label in ("without", "with"):
                    phase += 1
                    if label == "with":
                        pollers.start()
                        await asyncio.sleep(0.5)  # the first polls are in flight
                    tally = await fanout(load, phase, f"{label} {r + 1}", senders, args.rate,
                                         args.seconds, FIXED_DRAIN_CAP_S, server.process.pid)
                    if label == "with":
                        await asyncio.to_thread(pollers.stop)
                    rounds.append((label, tally))
                    other = tally.cpu_pct(tally.other_cpu)
                    print(f"  round {r + 1} {label:<7} dashboard: p50"
                          f" {percentile_ms(tally.latencies, 0.5) or 0:.1f} ms, p99"
                          f" {percentile_ms(tally.latencies, 0.99) or 0:.1f} ms, lost"
                          f" {tally.lost}, server cpu {tally.cpu_pct(tally.server_cpu):.0f}%,"
                          f" other processes {other:.0f}%"
                          f"{' (noisy)' if other > NOISY_OTHER_PCT else ''}")
                    await settle(load)
    finally:
        pollers.stop()
        load.closing = True
        pinger.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pinger
        for peer in load.peers:
            peer.close()
        await asyncio.sleep(0.2)

    def merged(label: str) -> array:
        out = array("d")
        for name, tally in rounds:
            if name == label:
                out.extend(tally.latencies)
        return out

    without, with_ = merged("without"), merged("with")
    p99_without = percentile_ms(without, 0.99)
    p99_with = percentile_ms(with_, 0.99)
    poll_p50 = percentile_ms(pollers.latencies, 0.5)
    poll_p99 = percentile_ms(pollers.latencies, 0.99)
    size = max(pollers.sizes) if pollers.sizes else 0
    ratio = p99_with / p99_without if p99_with and p99_without else None
    print(f"\nfan-out over {len(without)} / {len(with_)} deliveries (without / with):")
    print(f"  p50 ms  {percentile_ms(without, 0.5) or 0:8.1f} {percentile_ms(with_, 0.5) or 0:8.1f}")
    print(f"  p99 ms  {p99_without or 0:8.1f} {p99_with or 0:8.1f}   ratio with/without"
          f" {ratio or 0:.2f}")
    print(f"dashboard polls: {len(pollers.latencies)} answered, {pollers.failures} failed;"
          f" p50 {poll_p50 or 0:.1f} ms, p99 {poll_p99 or 0:.1f} ms; answer {size} bytes"
          f" ({pollers.sessions_seen} live session, {pollers.peers_listed} peers listed)")
    return {
        "peers": args.peers,
        "dashboards": args.dashboards,
        "fanout_p99_ms_without_dashboard": rnd(p99_without),
        "fanout_p99_ms_with_dashboard": rnd(p99_with),
        "fanout_p99_ratio": rnd(ratio, 2),
        "fanout_p50_ms_without_dashboard": rnd(percentile_ms(without, 0.5)),
        "fanout_p50_ms_with_dashboard": rnd(percentile_ms(with_, 0.5)),
        "lost_without": sum(t.lost for n, t in rounds if n == "without"),
        "lost_with": sum(t.lost for n, t in rounds if n == "with"),
        "dashboard_live_poll_ms_p50": rnd(poll_p50),
        "dashboard_live_poll_ms_p99": rnd(poll_p99),
        "dashboard_live_poll_bytes": size,
        "dashboard_polls": len(pollers.latencies),
        # Rounds during which other processes used more than NOISY_OTHER_PCT of a core:
        # their figures say more about the machine than about the dashboard.
        "noisy_rounds": sum(1 for _, t in rounds if t.cpu_pct(t.other_cpu) > NOISY_OTHER_PCT),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peers", type=int, default=500)
    parser.add_argument("--senders", type=int, default=5)
    parser.add_argument("--rate", type=float, default=10.0, help="broadcasts/s in total")
    parser.add_argument("--seconds", type=float, default=10.0, help="per round and mode")
    parser.add_argument("--rounds", type=int, default=2, help="without/with pairs")
    parser.add_argument("--dashboards", type=int, default=1, help="live pages polling")
    args = parser.parse_args()
    if not 2 <= args.peers <= 1000 or not 1 <= args.rounds <= 5 or not 1 <= args.dashboards <= 50:
        raise SystemExit("--peers 2..1000, --rounds 1..5, --dashboards 1..50")
    raise_fd_limit(args.peers)
    print(f"dashboard benchmark: {args.peers} peers, {args.senders} senders at {args.rate:g}"
          f" msg/s for {args.seconds:g} s per mode, {args.rounds} rounds, {args.dashboards}"
          f" dashboard(s) polling every {POLL_S:g} s in the 'with' mode")
    server = start("")
    try:
        figures = run_load(run(server, args))
    finally:
        cleanup(server)
    print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
