"""Where a salon server spends its CPU during one phase of bench/api.py, sampled by py-spy.

Starts a server, warms it up and creates meetings as bench/api.py does, then samples the
server process with `py-spy record` while one phase runs, and prints the functions with
the most samples: inclusive (on the stack) and self (at the top of the stack).

Needs py-spy (`.venv/bin/python -m pip install py-spy`). Run from the repo root:

    .venv/bin/python bench/profile_api.py [--database sqlite] [--phase add_participant]
                                          [--requests 4000] [--top 40] [--gil] [--native]

`--gil` samples only the thread holding the GIL (where Python CPU goes); without it, idle
and waiting threads show up too. SQLAlchemy's async layer runs ORM code in greenlets,
which py-spy shows as separate stack roots (`Session.get`, `Session.scalar`, ...).
"""

import argparse
import asyncio
import shutil
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.servers import SalonServer, ThrowawayPostgres, cleanup, start  # noqa: E402

from bench.api import (  # noqa: E402
    WARMUP_REQUESTS,
    PhaseResult,
    Workload,
    client_session,
    figures,
    run_async,
    run_phase,
)


async def profile_phase(server: SalonServer, phase: str, requests: int, concurrency: int,
                        out: Path, py_spy_args: list[str]) -> list[PhaseResult]:
    work = Workload(server)
    pid = server.process.pid
    phases = {name: (make, on_body) for name, make, on_body in work.phases()}
    async with client_session(server, concurrency) as session:
        for name, (make, on_body) in phases.items():  # warm-up; leaves meetings behind
            await run_phase(session, name, make, WARMUP_REQUESTS, concurrency, 30, pid, on_body)
        if phase != "create_meeting":
            make, on_body = phases["create_meeting"]
            await run_phase(session, "create_meeting", make, 1000, concurrency, 30, pid, on_body)
        py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        command = [py_spy, "record", "--pid", str(pid), "--rate", "250", "--format", "raw",
                   "--threads", "--output", str(out), *py_spy_args]
        sampler = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        await asyncio.sleep(1.0)  # let py-spy attach
        make, on_body = phases[phase]
        result = await run_phase(session, phase, make, requests, concurrency, 60, pid, on_body)
        sampler.send_signal(signal.SIGINT)
        _, err = sampler.communicate(timeout=60)
        if not out.exists():
            raise RuntimeError(f"py-spy wrote no profile:\n{err.decode(errors='replace')}")
    return [result]


def hottest(raw: Path, top: int) -> None:
    """Print per-thread, inclusive and self sample shares from py-spy's collapsed stacks."""
    threads: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        count = int(count_text)
        thread, *frames = stack.split(";")  # `thread (0x…): Name` comes first with --threads
        threads[thread.partition(": ")[2] or thread] += count
        frames = [_short(frame) for frame in frames] or ["(no Python frame)"]
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    total = sum(threads.values())
    print(f"\n{total} samples, by thread:")
    for thread, count in threads.most_common():
        print(f"  {100 * count / total:5.1f}%  {thread}")
    for title, counter in (("inclusive", inclusive), ("self", own)):
        print(f"\ntop {top} by {title} samples:")
        for frame, count in counter.most_common(top):
            print(f"  {100 * count / total:5.1f}%  {frame}")


def _short(frame: str) -> str:
    """`func (path/to/site-packages/pkg/mod.py:12)` -> `func (pkg/mod.py)`."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/src/", "/lib/python3"):
        if marker in where:
            where = where.split(marker, 1)[1]
            break
    return f"{name} ({where})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--phase", default="add_participant",
                        choices=["healthz", "create_meeting", "add_participant", "get_meeting"])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--output", type=Path, help="keep the collapsed stacks here")
    parser.add_argument("--gil", action="store_true",
                        help="sample only the thread holding the GIL (Python CPU time)")
    parser.add_argument("--native", action="store_true", help="include C frames (slower)")
    args = parser.parse_args()

    out = args.output or Path(tempfile.mkdtemp(prefix="salon-profile-")) / "stacks.txt"
    py_spy_args = [flag for flag, on in (("--gil", args.gil), ("--native", args.native)) if on]
    postgres = ThrowawayPostgres() if args.database == "postgresql" else None
    server: SalonServer | None = None
    try:
        server = start(postgres.url if postgres else "")
        results = run_async(profile_phase(server, args.phase, args.requests,
                                          args.concurrency, out, py_spy_args))
        figures(args.database, results)  # under sampling: slower than bench/api.py
    finally:
        if server is not None:
            cleanup(server)
        if postgres is not None:
            postgres.drop()
    hottest(out, args.top)
    print(f"\ncollapsed stacks: {out}")


if __name__ == "__main__":
    main()
