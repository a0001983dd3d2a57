"""One phase of bench/api.py driven by wrk, the C load generator (Debian package `wrk`):
`bench/api.py --client wrk`.

On a 2-core box the Python client takes 40-55 % of a core; wrk takes 3-15 %, so the
server keeps its core. The 32 clients are wrk's 32 connections on one thread (one thread
also keeps the request counter, and so every `custom_participant_id`, unique).

Not the default: the issue's figures have always come from the Python client, and wrk
shows the machine's hiccups more starkly. What it first showed (2026-11-28), a p99 of
250-350 ms under wrk against 27 ms inside the app, was mostly SQLite checkpointing the
WAL inside a commit on the event loop, fsync included; store/wal_checkpointer.py moved
that off the loop. Since then add_participant under wrk has a p99 of 25-40 ms in most
runs and 75-95 ms in some. A server that timed every loop turn saw none over 5 ms in
its runs (all of them good ones), so the slow runs' cause is not pinned down.
"""

import os
import re
import resource
import shutil
import subprocess
import time
from dataclasses import dataclass

#: Requests from environment variables: method, paths to go round, body kind, token.
SCRIPT = """
local paths = {}
for p in string.gmatch(os.getenv("SALON_PATHS"), "[^,]+") do table.insert(paths, p) end
local method, kind, run = os.getenv("SALON_METHOD"), os.getenv("SALON_BODY"), os.getenv("SALON_RUN")
local headers = {["Authorization"] = "Bearer " .. os.getenv("SALON_TOKEN"),
                 ["Content-Type"] = "application/json"}
local n = 0
request = function()
  n = n + 1
  local body = nil
  if kind == "meeting" then
    body = '{"title":"bench ' .. n .. '"}'
  elseif kind == "participant" then
    body = '{"custom_participant_id":"bench-' .. run .. '-' .. n ..
           '","preset_name":"group_call_participant","name":"Bench"}'
  end
  return wrk.format(method, paths[(n % #paths) + 1], headers, body)
end
"""

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


@dataclass
class WrkResult:
    requests: int
    seconds: float
    errors: int
    #: quantile (0.5, 0.75, 0.9, 0.99) -> milliseconds
    quantiles: dict[float, float]
    client_cpu: float
    output: str


def available() -> bool:
    """wrk is on the PATH, or could be installed now (root with apt-get)."""
    if shutil.which("wrk"):
        return True
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return False
    print("installing wrk (Debian) for the load ...", flush=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], capture_output=True,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    return shutil.which("wrk") is not None


def run(base_url: str, token: str, method: str, paths: list[str], body: str,
        seconds: float, connections: int) -> WrkResult:
    """`wrk` for `seconds` with `connections` connections; `body` is "", "meeting" or
    "participant" (a new custom_participant_id each request)."""
    script = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"salon-wrk-{os.getpid()}.lua")
    with open(script, "w") as f:
        f.write(SCRIPT)
    env = {**os.environ, "SALON_PATHS": ",".join(paths), "SALON_METHOD": method,
           "SALON_BODY": body, "SALON_TOKEN": token, "SALON_RUN": f"{time.time_ns():x}"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        done = subprocess.run(
            ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds:g}s", "--latency",
             "--timeout", "10s", "-s", script, base_url],
            env=env, capture_output=True, text=True, timeout=seconds + 30, check=True)
    finally:
        os.unlink(script)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return parse(done.stdout, cpu)


def parse(output: str, client_cpu: float = 0.0) -> WrkResult:
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)\b", output)
    if total is None:
        raise ValueError(f"wrk printed no totals:\n{output}")
    seconds = float(total.group(2)) * _UNITS[total.group(3)] / 1000
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                        r"timeout (\d+)", output)
    if sockets:
        errors += sum(int(n) for n in sockets.groups())
    quantiles = {int(q) / 100: float(v) * _UNITS[unit] for q, v, unit in
                 re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)}
    return WrkResult(int(total.group(1)), seconds, errors, quantiles, client_cpu, output)
