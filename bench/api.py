"""Benchmark of the REST control plane: throughput and latency of a real salon server.

For each database (SQLite, PostgreSQL) it starts `salon serve` as a subprocess on
127.0.0.1, then drives it from this process with 32 concurrent aiohttp clients through
these phases, each a fixed number of requests capped in time:

  healthz          GET  /healthz                                  (baseline, no database)
  create_meeting   POST {app}/meetings                            -> 201
  add_participant  POST {app}/meetings/{id}/participants          -> 201
  get_meeting      GET  {app}/meetings/{id}                       -> 200

and prints req/s, p50/p99 latency and the server's CPU use per phase. The last line of
output is one JSON object with every figure (`sqlite_add_participant_rps`, ...,
`sqlite_add_participant_vs_healthz`, `sqlite_errors`). Target: SQLite add_participant
>= 800 req/s with p99 < 50 ms on a 2-core machine.

Run from the repo root (PostgreSQL needs a server on 127.0.0.1:5432, see tests/servers.py):

    .venv/bin/python bench/api.py [--databases sqlite,postgresql] [--requests 4000]
                                  [--concurrency 32] [--time-cap 30]
                                  [--client wrk [--seconds 8]]

`--client wrk` drives the same phases with wrk instead (bench/wrk.py says why it is not
the default yet).
"""

import argparse
import asyncio
import itertools
import json
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp  # noqa: E402
from tests.servers import SalonServer, ThrowawayPostgres, cleanup, start  # noqa: E402

from bench import wrk  # noqa: E402

TARGET_RPS = 800.0
TARGET_P99_MS = 50.0
WARMUP_REQUESTS = 200
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# A request to make: method, URL, JSON body (or None), and the status that counts as success.
Request = tuple[str, str, dict[str, Any] | None, int]
# Called with the index and decoded JSON body of each successful response.
OnBody = Callable[[int, dict[str, Any]], None]


@dataclass
class PhaseResult:
    name: str
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    server_cpu: float = 0.0  # seconds of user+sys
    client_cpu: float = 0.0
    capped: bool = False
    #: From a load generator that reports percentiles, not latencies (wrk): q -> ms.
    reported: dict[float, float] | None = None
    reported_ok: int = 0

    @property
    def ok(self) -> int:
        return self.reported_ok if self.reported is not None else len(self.latencies)

    @property
    def rps(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0

    def percentile_ms(self, q: float) -> float:
        if self.reported is not None:
            return self.reported.get(q, float("nan")) if self.reported_ok else float("nan")
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))
        return ordered[index] * 1000

    def cpu_pct(self, seconds: float) -> float:
        return 100 * seconds / self.elapsed if self.elapsed else 0.0


def process_cpu(pid: int) -> float:
    """User+system CPU seconds of a process, from /proc/<pid>/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()  # skip "pid (comm) "; fields[0] is state
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def own_cpu() -> float:
    times = os.times()
    return times.user + times.system


async def run_phase(
    session: aiohttp.ClientSession,
    name: str,
    make: Callable[[int], Request],
    count: int,
    concurrency: int,
    time_cap: float,
    server_pid: int,
    on_body: OnBody | None = None,
) -> PhaseResult:
    """Send `count` requests (`make(i)` builds request i) from `concurrency` workers."""
    result = PhaseResult(name)
    indexes = iter(range(count))
    deadline = time.perf_counter() + time_cap

    async def worker() -> None:
        for i in indexes:  # the shared iterator hands each index to exactly one worker
            if time.perf_counter() > deadline:
                result.capped = True
                return
            method, url, body, expected = make(i)
            began = time.perf_counter()
            try:
                async with session.request(method, url, json=body) as response:
                    status, data = response.status, await response.read()
            except (TimeoutError, aiohttp.ClientError) as error:
                status, data = 0, repr(error).encode()
            took = time.perf_counter() - began
            if status != expected:
                result.errors += 1
                if len(result.error_samples) < 5:
                    result.error_samples.append(f"{method} {url}: {status} {data[:200]!r}")
                continue
            result.latencies.append(took)
            if on_body is not None:
                on_body(i, json.loads(data))

    server_before, client_before = process_cpu(server_pid), own_cpu()
    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.elapsed = time.perf_counter() - began
    result.server_cpu = process_cpu(server_pid) - server_before
    result.client_cpu = own_cpu() - client_before
    return result


class Workload:
    """Builds the requests of each phase against one server; remembers created meetings."""

    def __init__(self, server: SalonServer) -> None:
        self.server = server
        self.meeting_ids: list[str] = []
        self.serial = itertools.count()  # custom_participant_id values unique in the run

    def collect_meeting(self, _: int, payload: dict[str, Any]) -> None:
        self.meeting_ids.append(payload["data"]["id"])

    def healthz(self, _: int) -> Request:
        return "GET", f"{self.server.url}/healthz", None, 200

    def create_meeting(self, i: int) -> Request:
        return "POST", f"{self.server.app_url}/meetings", {"title": f"bench {i}"}, 201

    def add_participant(self, i: int) -> Request:
        meeting = self.meeting_ids[i % len(self.meeting_ids)]
        body = {
            "custom_participant_id": f"bench-{next(self.serial)}",
            "preset_name": "group_call_participant",
            "name": "Bench",
        }
        return "POST", f"{self.server.app_url}/meetings/{meeting}/participants", body, 201

    def get_meeting(self, i: int) -> Request:
        meeting = self.meeting_ids[i % len(self.meeting_ids)]
        return "GET", f"{self.server.app_url}/meetings/{meeting}", None, 200

    def phases(self) -> list[tuple[str, Callable[[int], Request], OnBody | None]]:
        return [("healthz", self.healthz, None),
                ("create_meeting", self.create_meeting, self.collect_meeting),
                ("add_participant", self.add_participant, None),
                ("get_meeting", self.get_meeting, None)]


def client_session(server: SalonServer, concurrency: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=concurrency),
        headers=server.headers,
        timeout=aiohttp.ClientTimeout(total=30),
        auto_decompress=False,
    )


async def bench_database(
    server: SalonServer, requests: int, concurrency: int, time_cap: float
) -> list[PhaseResult]:
    """A short warm-up of every phase, then the measured phases in order."""
    work = Workload(server)
    pid = server.process.pid
    results: list[PhaseResult] = []
    async with client_session(server, concurrency) as session:
        for warming in (True, False):
            for name, make, on_body in work.phases():
                if name in ("add_participant", "get_meeting") and not work.meeting_ids:
                    print(f"  no meetings were created; skipping {name}")
                    break
                count = min(WARMUP_REQUESTS, requests) if warming else requests
                result = await run_phase(session, name, make, count, concurrency, time_cap,
                                         pid, on_body)
                if warming:
                    report_errors(result)
                else:
                    results.append(result)
            if warming:
                work.meeting_ids.clear()
    return results


async def bench_database_wrk(server: SalonServer, seconds: float,
                             concurrency: int) -> list[PhaseResult]:
    """The same phases with wrk as the 32 clients (bench/wrk.py), each after a 1 s
    warm-up; add_participant and get_meeting go round 200 meetings made beforehand."""
    url = urlsplit(server.url)
    base = f"{url.scheme}://{url.netloc}"
    app = urlsplit(server.app_url).path
    token = server.headers["Authorization"].split(" ", 1)[1]
    async with client_session(server, concurrency) as session:
        ids = []
        for i in range(200):
            async with session.post(f"{server.app_url}/meetings",
                                    json={"title": f"bench {i}"}) as response:
                ids.append((await response.json())["data"]["id"])
    meetings = [f"{app}/meetings/{i}" for i in ids]
    phases = [("healthz", "GET", ["/healthz"], ""),
              ("create_meeting", "POST", [f"{app}/meetings"], "meeting"),
              ("add_participant", "POST", [f"{m}/participants" for m in meetings],
               "participant"),
              ("get_meeting", "GET", meetings, "")]
    results = []
    for name, method, paths, body in phases:
        await asyncio.to_thread(wrk.run, base, token, method, paths, body, 1, concurrency)
        server_before = process_cpu(server.process.pid)
        done = await asyncio.to_thread(wrk.run, base, token, method, paths, body, seconds,
                                       concurrency)
        result = PhaseResult(name, errors=done.errors, elapsed=done.seconds,
                             server_cpu=process_cpu(server.process.pid) - server_before,
                             client_cpu=done.client_cpu, reported=done.quantiles,
                             reported_ok=done.requests - done.errors)
        if done.errors:
            result.error_samples.append(f"wrk: {done.errors} non-2xx or socket errors")
        results.append(result)
    return results


def report_errors(result: PhaseResult) -> None:
    if result.errors:
        print(f"  {result.name}: {result.errors} errors, e.g.:")
        for sample in result.error_samples:
            print(f"    {sample}")


Figures = dict[str, float | int | None]


def figures(database: str, results: list[PhaseResult]) -> Figures:
    """Print one line per phase and return the figures with `<database>_` keys."""
    out: Figures = {}
    healthz_rps = next((r.rps for r in results if r.name == "healthz"), 0.0)
    print(f"{database}:")
    print(f"  {'phase':<16} {'ok':>6} {'err':>5} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}"
          f" {'srv cpu':>8} {'cli cpu':>8}  vs healthz")
    for r in results:
        key = f"{database}_{r.name}"
        ratio = r.rps / healthz_rps if healthz_rps else 0.0
        out[f"{key}_rps"] = round(r.rps, 1)
        for q in (50, 99):  # None (JSON null) when nothing succeeded
            out[f"{key}_p{q}_ms"] = round(r.percentile_ms(q / 100), 2) if r.ok else None
        out[f"{key}_server_cpu_pct"] = round(r.cpu_pct(r.server_cpu), 1)
        out[f"{key}_client_cpu_pct"] = round(r.cpu_pct(r.client_cpu), 1)
        if r.name != "healthz":
            out[f"{key}_vs_healthz"] = round(ratio, 3)
        capped = "  (hit the time cap)" if r.capped else ""
        print(f"  {r.name:<16} {r.ok:>6} {r.errors:>5} {r.rps:>8.1f}"
              f" {r.percentile_ms(0.5):>8.2f} {r.percentile_ms(0.99):>8.2f}"
              f" {r.cpu_pct(r.server_cpu):>7.1f}% {r.cpu_pct(r.client_cpu):>7.1f}%"
              f"  {f'{ratio:.3f}' if healthz_rps else '-'}{capped}")
        report_errors(r)
    out[f"{database}_errors"] = sum(r.errors for r in results)
    return out


def run_database(database: str, args: argparse.Namespace) -> Figures:
    postgres = ThrowawayPostgres() if database == "postgresql" else None
    server: SalonServer | None = None
    try:
        server = start(postgres.url if postgres else "")
        if args.client == "wrk":
            results = run_async(bench_database_wrk(server, args.seconds, args.concurrency))
        else:
            results = run_async(bench_database(server, args.requests, args.concurrency,
                                               args.time_cap))
        return figures(database, results)
    finally:
        if server is not None:
            cleanup(server)
        if postgres is not None:
            postgres.drop()


def run_async(coroutine: Coroutine[Any, Any, list[PhaseResult]]) -> list[PhaseResult]:
    """Run on uvloop when it is there: it keeps the client's own CPU use down."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", default="sqlite,postgresql",
                        help="comma-separated: sqlite, postgresql")
    parser.add_argument("--requests", type=int, default=4000, help="requests per phase")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent clients")
    parser.add_argument("--time-cap", type=float, default=30.0, help="seconds per phase")
    parser.add_argument("--client", choices=["python", "wrk"], default="python",
                        help="load generator: this process's aiohttp clients (default), "
                             "or wrk, installed when missing and root (bench/wrk.py)")
    parser.add_argument("--seconds", type=float, default=8.0,
                        help="seconds per phase with wrk")
    args = parser.parse_args()
    if args.client == "wrk" and not wrk.available():
        parser.error("wrk is not installed (Debian package wrk)")
    # SIGTERM unwinds like Ctrl-C, so the `finally` blocks stop servers and drop databases.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    unknown = set(databases) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown database(s): {', '.join(sorted(unknown))}")

    per_phase = (f"{args.seconds:g} s/phase" if args.client == "wrk" else
                 f"{args.requests} requests/phase, cap {args.time_cap:g} s/phase")
    print(f"salon REST benchmark: {args.concurrency} clients ({args.client}), {per_phase},"
          f" {os.cpu_count()} CPUs")
    summary: Figures = {}
    failed = False
    for database in databases:
        try:
            summary.update(run_database(database, args))
        except Exception:  # report the other database's figures all the same
            traceback.print_exc()
            print(f"{database}: benchmark failed (traceback on stderr)")
            summary[f"{database}_failed"] = 1
            failed = True
    rps = summary.get("sqlite_add_participant_rps")
    p99 = summary.get("sqlite_add_participant_p99_ms")
    if rps is not None:
        met = rps >= TARGET_RPS and p99 is not None and p99 < TARGET_P99_MS
        print(f"target (SQLite add_participant >= {TARGET_RPS:g} req/s, p99 < {TARGET_P99_MS:g}"
              f" ms): {'met' if met else 'MISSED'}")
    print(json.dumps(summary), flush=True)
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
