"""`salon serve --workers N` (salon.cluster.workers, docs/cluster.md "Several nodes on one
machine"): real processes on a real PostgreSQL and Redis. Two workers register with
their private addresses, REST on the shared port works and is answered by both, a
killed worker is restarted and registers again, SIGTERM stops them all and their
entries go; without Redis or with SQLite the command refuses."""

import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis

from salon.cluster.registry import node_key, nodes_key
from salon.cluster.workers import STOP_TIMEOUT_SECS
from tests.servers import ThrowawayPostgres, free_port, run_cli

REDIS = "redis://127.0.0.1:6379/0"


@dataclass
class Workers:
    """A `salon serve --workers 2` supervisor and what the test needs to reach it."""

    process: subprocess.Popen[bytes]
    env: dict[str, str]
    port: int
    private_ports: list[int]
    app_url: str
    headers: dict[str, str]
    log_path: Path

    def nodes(self) -> dict[str, dict]:
        """`salon nodes --json`, as an operator would run it, keyed by node id."""
        out = run_cli(self.env, "nodes", "--json").stdout
        return {record["id"]: record for record in map(json.loads, out.splitlines())}

    def registered(self) -> dict[str, dict]:
        """The live entries straight from Redis: what `nodes` lists, without starting
        a CLI process (seconds on a busy machine) at every poll."""
        cluster = self.env["SALON_CLUSTER_NAME"]
        client = redis.Redis.from_url(REDIS)
        try:
            ids = sorted(member.decode() for member in client.smembers(nodes_key(cluster)))
            entries = client.mget([node_key(cluster, node) for node in ids]) if ids else []
        finally:
            client.close()
        return {node: json.loads(entry) for node, entry in zip(ids, entries, strict=True)
                if entry is not None}

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def until(check, timeout: float = 20):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


def dead(pid: int) -> bool:
    """Exited: gone, or a zombie its parent has not reaped yet whose threads have all
    exited. A killed process's main thread turns zombie first; its files (a worker's
    share of the port among them) close with its last thread, and a connection the
    kernel queues on that share meanwhile is reset."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        threads = len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return True
    return stat[stat.rindex(")") + 2] == "Z" and threads <= 1


def gone(pid: int) -> bool:
    """No such process (a zombie would still be there: nobody reaped it)."""
    return not Path(f"/proc/{pid}").exists()


@pytest.fixture
def workers() -> Iterator[Workers]:
    database = ThrowawayPostgres()
    data_dir = Path(tempfile.mkdtemp(prefix="salon-workers-"))
    cluster = f"test-{uuid.uuid4().hex[:10]}"
    port, private = free_port(), [free_port(), free_port()]
    env = {**os.environ, "SALON_DATA_DIR": str(data_dir), "SALON_DATABASE_URL": database.url,
           "SALON_REDIS_URL": REDIS, "SALON_CLUSTER_NAME": cluster,
           "SALON_NODE_HEARTBEAT_SECS": "0.3", "SALON_RTMP_PORT": "0",
           "SALON_MEDIA_BACKEND": "none", "SALON_NODE_ID": ""}
    creds = json.loads(run_cli(env, "apps", "create", "test", "--json").stdout)
    log_path = data_dir / "server.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "salon", "serve", "--workers", "2", "--port", str(port),
             "--worker-ports", ",".join(map(str, private))],
            env=env, stdout=log, stderr=subprocess.STDOUT)
    app_url = (f"http://127.0.0.1:{port}/client/v4/accounts/{creds['account_id']}"
               f"/realtime/kit/{creds['app_id']}")
    running = Workers(process, env, port, private, app_url,
                      {"Authorization": f"Bearer {creds['api_token']}"}, log_path)
    try:
        yield running
        assert "Traceback" not in running.log(), running.log()
    finally:
        if process.poll() is None:
            process.kill()  # its workers get SIGTERM from the kernel (PR_SET_PDEATHSIG)
            process.wait()
        client = redis.Redis.from_url(REDIS)
        for key in client.scan_iter(f"{cluster}:*"):
            client.delete(key)
        client.close()
        database.drop()
        shutil.rmtree(data_dir, ignore_errors=True)


def answered_participant_posts(private_port: int) -> int:
    """How many add-participant requests this worker answered, from its own /metrics."""
    text = httpx.get(f"http://127.0.0.1:{private_port}/metrics", timeout=5).text
    return sum(int(float(value)) for value in re.findall(
        r'^salon_http_requests_total\{method="POST",route="[^"]*/participants",'
        r'status="201"\} (\S+)$', text, re.M))


def test_workers_share_a_port_restart_and_stop(workers: Workers) -> None:
    host = re.sub(r"[^A-Za-z0-9_.-]", "-", socket.gethostname())
    w0, w1 = f"{host}-w0", f"{host}-w1"
    assert until(lambda: len(workers.registered()) == 2, timeout=40), workers.log()
    nodes = workers.nodes()
    assert {node: nodes[node]["address"] for node in nodes} == {
        w0: f"http://127.0.0.1:{workers.private_ports[0]}",
        w1: f"http://127.0.0.1:{workers.private_ports[1]}"}
    assert workers.process.pid not in {nodes[w0]["pid"], nodes[w1]["pid"]}

    # REST on the shared port. A new connection per request: the kernel spreads
    # connections, not requests, over the workers.
    with httpx.Client(base_url=workers.app_url, headers=workers.headers, timeout=10) as http:
        meeting = http.post("/meetings", json={"title": "workers"})
        assert meeting.status_code == 201, meeting.text
        meeting_id = meeting.json()["data"]["id"]
    for i in range(30):
        added = httpx.post(f"{workers.app_url}/meetings/{meeting_id}/participants",
                           headers={**workers.headers, "Connection": "close"}, timeout=10,
                           json={"custom_participant_id": f"p{i}", "name": f"P {i}",
                                 "preset_name": "group_call_participant"})
        assert added.status_code == 201, added.text
    per_worker = [answered_participant_posts(port) for port in workers.private_ports]
    assert sum(per_worker) == 30 and min(per_worker) > 0, per_worker
    with httpx.Client(base_url=workers.app_url, headers=workers.headers, timeout=10) as http:
        listed = http.get(f"/meetings/{meeting_id}/participants", params={"per_page": 100})
        assert len(listed.json()["data"]) == 30

    # A worker killed outright is restarted, and registers again under its id.
    killed = nodes[w1]["pid"]
    os.kill(killed, signal.SIGKILL)
    # Meanwhile new connections to the shared port go to the worker that serves: its
    # dead share of the port is gone with it, nothing waits for the restart.
    assert until(lambda: dead(killed), timeout=5)
    for _ in range(10):
        answer = httpx.get(f"http://127.0.0.1:{workers.port}/healthz", timeout=1,
                           headers={"Connection": "close"})
        assert answer.status_code == 200
    again = until(lambda: (node := workers.registered().get(w1)) and node["pid"] != killed
                  and node, timeout=40)
    assert again, workers.log()
    assert again["address"] == f"http://127.0.0.1:{workers.private_ports[1]}"
    assert "worker w1" in workers.log() and "restarting it" in workers.log()
    assert httpx.get(f"http://127.0.0.1:{workers.private_ports[1]}/healthz").status_code == 200
    assert workers.process.poll() is None

    # SIGTERM: every worker drains and leaves the cluster, then the supervisor exits 0.
    pids = [nodes[w0]["pid"], again["pid"]]
    workers.process.send_signal(signal.SIGTERM)
    try:  # the supervisor gives its workers STOP_TIMEOUT_SECS, then kills them: more here
        code = workers.process.wait(timeout=STOP_TIMEOUT_SECS + 15)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the supervisor did not stop:\n{workers.log()}") from None
    assert code == 0, workers.log()
    assert all(gone(pid) for pid in pids)
    assert workers.nodes() == {}
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{workers.port}/healthz", timeout=2)


@pytest.mark.parametrize(("env", "says"), [
    ({"SALON_REDIS_URL": "", "SALON_DATABASE_URL": "postgresql://nobody@127.0.0.1/none"},
     "SALON_REDIS_URL"),
    ({"SALON_REDIS_URL": REDIS, "SALON_DATABASE_URL": ""}, "PostgreSQL"),
    # each worker is <id>-w<i>: a 127-character id leaves no room (the workers refused it,
    # each in turn, until the supervisor gave up)
    ({"SALON_REDIS_URL": REDIS, "SALON_DATABASE_URL": "postgresql://nobody@127.0.0.1/none",
      "SALON_NODE_ID": "n" * 127}, "use at most 125"),
])
def test_workers_need_redis_and_postgresql(tmp_path: Path, env: dict[str, str],
                                           says: str) -> None:
    result = run_cli({**os.environ, "SALON_DATA_DIR": str(tmp_path), **env},
                     "serve", "--workers", "2", "--port", str(free_port()), check=False)
    assert result.returncode == 2, result.stderr
    assert says in result.stderr
    assert not list(tmp_path.iterdir())  # refused before anything started


def test_one_worker_is_todays_single_process(tmp_path: Path) -> None:
    """--workers 1 needs no cluster: it is `salon serve` as it always was."""
    port = free_port()
    env = {**os.environ, "SALON_DATA_DIR": str(tmp_path), "SALON_REDIS_URL": "",
           "SALON_RTMP_PORT": "0", "SALON_MEDIA_BACKEND": "none"}
    process = subprocess.Popen([sys.executable, "-m", "salon", "serve", "--workers", "1",
                                "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert until(lambda: _healthy(port), timeout=30)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def test_workers_that_keep_dying_at_start_make_the_supervisor_give_up(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real workers that cannot start (their database does not exist): restarted with
    backoff, then given up on, with exit status 1 and the reason in the log."""
    from salon.cluster import workers
    from salon.settings import Settings

    monkeypatch.setattr(workers, "MAX_START_CRASHES", 2)
    for name, value in {"SALON_DATA_DIR": str(tmp_path), "SALON_REDIS_URL": REDIS,
                        "SALON_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/"
                                              f"missing_{uuid.uuid4().hex[:8]}",
                        "SALON_CLUSTER_NAME": f"test-{uuid.uuid4().hex[:10]}",
                        "SALON_RTMP_PORT": "0", "SALON_MEDIA_BACKEND": "none"}.items():
        monkeypatch.setenv(name, value)
    logs: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: logs.append(record.getMessage())  # type: ignore[method-assign]
    workers.log.addHandler(handler)
    workers.log.setLevel(logging.INFO)
    try:
        began = time.monotonic()
        assert workers.serve(Settings(), 2, (free_port(), free_port())) == 1
    finally:
        workers.log.removeHandler(handler)
    assert time.monotonic() - began < 30
    assert any("died before it served" in line and "restarting it in 0.5 s" in line
               for line in logs), logs
    assert any("died at start 2 times in a row" in line and "giving up" in line
               for line in logs), logs
    assert not any("worker w1 started" in line for line in logs)  # w0 never served
