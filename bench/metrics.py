"""Benchmark: what scraping `/metrics` costs the server, with a live meeting going on.

Starts `salon serve` (SQLite) as a subprocess on 127.0.0.1, adds `--peers` participants
to one meeting and joins them all with bench/realtime.py's lean WebSocket clients; some
of them chat (`chat.send`, `--rate` messages/s in total), so the room fans out to every
peer all the time. Then, on the same server with the same load, it alternates windows of
`--seconds`:

  quiet    nobody scrapes: the baseline
  scraped  one `GET /metrics` every `--interval` seconds (Prometheus' usual pace is far
           slower: every 15 to 60 s)

`--rounds` pairs of windows, interleaved, so drift in the machine's other load hits both
alike. The server's CPU (user + system, from /proc) per window gives

  metrics_scrape_cpu_pct  (scraped - quiet) server CPU, in % of one core: the figure
                          the issue names; target < 2 %
  cpu_ratio               scraped / quiet server CPU

That difference is small next to the room's own CPU and to what other processes on a
shared machine add, so it is also measured directly: a burst of `--burst` scrapes back
to back with the same load on, less the quiet windows' rate, divided out per scrape (`scrape_cpu_ms`, server CPU per
scrape, and `scrape_bytes`), which at one scrape a second is `burst_cpu_pct`. The last
line of output is one JSON object with all of these.

Bounded: at most 200 peers, 60 s windows and 5 rounds; the server stops on errors,
Ctrl-C and SIGTERM.

    .venv/bin/python bench/metrics.py [--peers 50] [--rate 20] [--seconds 10]
        [--rounds 3] [--interval 1] [--burst 200]
"""

import argparse
import asyncio
import contextlib
import json
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.servers import SalonServer, cleanup, start  # noqa: E402

from bench.api import process_cpu  # noqa: E402
from bench.realtime import (  # noqa: E402
    Load,
    ServerRun,
    install_exit_handlers,
    join_all,
    keepalive,
    machine_cpu,
    make_tokens,
    run_load,
    settle,
)

TARGET_PCT = 2.0
CHAT = '{"type":"chat.send","data":{"type":"text","text":"message %d from the bench"}}'


async def chatter(load: Load, rate: float) -> None:
    """Peers take turns to send chat messages, `rate` a second in total, until cancelled
    (each peer's share stays under the chat limit of 3 a second)."""
    n = 0
    began = time.perf_counter()
    while True:
        peers = load.open_peers()
        if peers:
            peers[n % len(peers)].send_text((CHAT % n).encode())
        n += 1
        delay = began + n / rate - time.perf_counter()
        await asyncio.sleep(max(0.0, delay))


async def window(server: SalonServer, seconds: float, interval: float | None,
                 client: httpx.AsyncClient) -> tuple[float, float, int]:
    """Server CPU seconds and the machine's CPU seconds over `seconds`, scraping every
    `interval` seconds (None: not at all); and how many scrapes were made."""
    pid = server.process.pid
    cpu_before, machine_before = process_cpu(pid), machine_cpu()
    began = time.perf_counter()
    scrapes = 0
    while (now := time.perf_counter()) < began + seconds:
        if interval is None:
            await asyncio.sleep(min(0.5, began + seconds - now))
            continue
        response = await client.get("/metrics")
        response.raise_for_status()
        scrapes += 1
        next_at = began + scrapes * interval
        await asyncio.sleep(max(0.0, min(next_at, began + seconds) - time.perf_counter()))
    elapsed = time.perf_counter() - began
    cpu = process_cpu(pid) - cpu_before
    machine = machine_cpu() - machine_before
    return cpu / elapsed, machine / elapsed, scrapes


async def burst(server: SalonServer, count: int, quiet_rate: float,
                client: httpx.AsyncClient) -> tuple[float, float, int]:
    """`count` scrapes back to back: server CPU seconds per scrape above the load's own
    rate (`quiet_rate`, CPU seconds a second, from the quiet windows), the burst's
    length, and the size of one answer."""
    pid = server.process.pid
    before = process_cpu(pid)
    began = time.perf_counter()
    size = 0
    for _ in range(count):
        response = await client.get("/metrics")
        response.raise_for_status()
        size = len(response.content)
    elapsed = time.perf_counter() - began
    spent = process_cpu(pid) - before
    return max(0.0, spent - quiet_rate * elapsed) / count, elapsed, size


async def bench(server: SalonServer, args: argparse.Namespace) -> dict:
    tokens = await make_tokens(server, args.peers)
    load = Load(ServerRun("salon"))
    pinger = asyncio.create_task(keepalive(load))
    talk: asyncio.Task[None] | None = None
    try:
        await join_all(load, server.port, "/realtime/v1", tokens, False, server.process.pid)
        if len(load.peers) < 2:
            raise RuntimeError(f"only {len(load.peers)} peers joined")
        await settle(load)
        print(f"  {len(load.peers)} peers joined; {args.rate:g} chat messages/s to all of "
              f"them from now on")
        talk = asyncio.create_task(chatter(load, args.rate))
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            await window(server, 2.0, None, client)  # warm up: the chat's steady state
            quiet: list[float] = []
            scraped: list[float] = []
            others: list[float] = []
            for round_no in range(args.rounds):
                order = ((None, quiet), (args.interval, scraped))
                if round_no % 2:
                    order = order[::-1]  # ABBA: drift in time hits both alike
                for interval, into in order:
                    cpu, machine, scrapes = await window(server, args.seconds, interval,
                                                         client)
                    into.append(cpu)
                    others.append(machine - cpu)
                    label = "scraped" if interval else "quiet  "
                    print(f"  round {round_no + 1} {label}: server {100 * cpu:5.1f} % of a "
                          f"core, machine {100 * machine:5.1f} %"
                          + (f", {scrapes} scrapes" if interval else ""))
            per_scrape, burst_s, size = await burst(server, args.burst,
                                                    sum(quiet) / len(quiet), client)
        errors = len(load.run.error_samples)
    finally:
        if talk is not None:
            talk.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await talk
        pinger.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pinger
        load.closing = True
        for peer in load.peers:
            peer.close()
        await asyncio.sleep(0.2)
    quiet_pct = 100 * sum(quiet) / len(quiet)
    scraped_pct = 100 * sum(scraped) / len(scraped)
    return {
        "peers": len(load.peers),
        "chat_per_s": args.rate,
        "interval_s": args.interval,
        "quiet_cpu_pct": round(quiet_pct, 2),
        "scraped_cpu_pct": round(scraped_pct, 2),
        "metrics_scrape_cpu_pct": round(scraped_pct - quiet_pct, 2),
        "cpu_ratio": round(scraped_pct / quiet_pct, 3) if quiet_pct else None,
        "scrape_cpu_ms": round(1000 * per_scrape, 3),
        "burst_cpu_pct": round(100 * per_scrape / args.interval, 3),
        "scrape_bytes": size,
        "burst_scrapes": args.burst,
        "burst_s": round(burst_s, 2),
        "other_cpu_pct_max": round(100 * max(others), 1),
        "errors": errors,
        "target_pct": TARGET_PCT,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--peers", type=int, default=50)
    parser.add_argument("--rate", type=float, default=20.0, help="chat messages/s in all")
    parser.add_argument("--seconds", type=float, default=10.0, help="one window")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between scrapes")
    parser.add_argument("--burst", type=int, default=200)
    args = parser.parse_args()
    args.peers = max(2, min(args.peers, 200))
    args.seconds = max(1.0, min(args.seconds, 60.0))
    args.rounds = max(1, min(args.rounds, 5))
    args.burst = max(10, min(args.burst, 2000))
    args.rate = max(0.1, min(args.rate, args.peers * 2.5))
    install_exit_handlers()
    print(f"metrics scrape cost: {args.peers} peers chatting, {args.rounds} rounds of "
          f"{args.seconds:g} s quiet vs scraped every {args.interval:g} s")
    server = start("")
    try:
        figures = run_load(bench(server, args))
    finally:
        cleanup(server)
    print(f"\nserver CPU, quiet (baseline): {figures['quiet_cpu_pct']:.2f} % of a core")
    print(f"server CPU, scraped every {args.interval:g} s: {figures['scraped_cpu_pct']:.2f} "
          f"% (ratio {figures['cpu_ratio']})")
    print(f"difference: {figures['metrics_scrape_cpu_pct']:.2f} % of a core "
          f"(target < {TARGET_PCT:g} %)")
    print(f"burst: {figures['scrape_cpu_ms']:.2f} ms of server CPU per scrape "
          f"({figures['scrape_bytes']} bytes) = {figures['burst_cpu_pct']:.3f} % of a core "
          f"at one scrape every {args.interval:g} s")
    if figures["other_cpu_pct_max"] > 20:
        print(f"note: other processes used up to {figures['other_cpu_pct_max']} % of the "
              "machine during a window: the difference is noisy; the burst figure less so")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
