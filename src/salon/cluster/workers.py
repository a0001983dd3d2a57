"""`salon serve --workers N`: N salon nodes on one machine behind one port.

Python runs one event loop on one core; a machine with more cores runs more nodes.
Each worker is a whole salon node (`salon serve` in a process of its own), in cluster
mode: it registers in Redis under the id `<host>-w<i>` (`SALON_NODE_ID`-w<i> when that
is set) with the address of a private port of its own, so the cluster can send a peer
to the exact worker that runs its meeting (docs/cluster.md, "Several nodes on one
machine"). This process, the supervisor, serves nothing itself: it holds the sockets,
starts the workers, restarts those that die, and stops them all on SIGTERM or Ctrl-C.

How the workers share the public port: each worker has a socket of its own bound to
host:port with SO_REUSEPORT, and the kernel spreads new connections over those that
listen, by a hash of the connection's addresses. Not one socket shared by all: an event
loop that wakes for a new connection accepts every connection waiting (asyncio and
libuv loop until EAGAIN), so clients that open their keep-alive connections together (a
load balancer's pool, a benchmark) would pile onto whichever worker woke first.

The supervisor binds each worker's share of the public port just before starting it,
and closes its own copy once the worker has it. The share listens only when the
worker's start-up is done (uvicorn listens after the app's lifespan started) and goes
with the worker when it stops or dies, so new connections reach only workers that
serve. Meanwhile a socket of the supervisor that never listens (and so takes no
connections) keeps the port bound, so that it stays this server's between restarts.

The private port is different: the supervisor listens on it from the start, for good,
and hands the same socket to each incarnation of its worker. A worker registers in
the cluster (with that address) during its start-up, before its server listens, and a
peer sent there meanwhile, or while the worker is restarted after a crash, must find
it there a moment later, not be refused: its connection waits in the socket's queue.
"""

import ctypes
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from types import FrameType
from urllib.parse import urlsplit

import httpx

from salon.settings import Settings

log = logging.getLogger("salon.workers")

#: Delay before restarting a worker that ran (it answered /healthz) and then died.
RESTART_DELAY_SECS = 0.5
#: A worker that dies before it answers is restarted after 0.5, 1, 2, 4 … s (at most this).
MAX_BACKOFF_SECS = 30.0
#: After this many deaths in a row before answering, the supervisor gives up (exit 1).
MAX_START_CRASHES = 5
#: How long stopping workers may take (uvicorn drains for 10 s, then the app stops).
STOP_TIMEOUT_SECS = 30.0
TICK_SECS = 0.1
WILDCARDS = ("0.0.0.0", "::", "")


class WorkersRefused(ValueError):
    """Settings with which N workers cannot run; the message says what to change."""


@dataclass
class Slot:
    """One worker's place: its sockets outlive the processes that serve them."""

    index: int
    node_id: str
    address: str  # its node address, as the cluster sends peers to it
    probe_url: str  # its private port, as the supervisor checks it answers
    host: str
    port: int  # the private port
    #: Never listening: keeps the public port bound (`_bound`).
    reserved: socket.socket
    #: Listening for good, handed to each incarnation of the worker.
    private: socket.socket
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    ready: bool = False
    start_crashes: int = 0
    start_at: float = 0.0  # monotonic time of its next (re)start

    @property
    def name(self) -> str:
        return f"w{self.index}"

    def close(self) -> None:
        self.reserved.close()
        self.private.close()


def check(settings: Settings, workers: int, worker_ports: tuple[int, ...]) -> list[int]:
    """The private ports, or WorkersRefused: several nodes need the cluster's Redis and
    a database all processes can share, and addresses the other nodes can reach."""
    if not settings.redis_url.get_secret_value():
        raise WorkersRefused(
            f"--workers {workers} runs {workers} cluster nodes: set SALON_REDIS_URL to the "
            "cluster's Redis (docs/cluster.md).")
    if settings.resolved_database_url.startswith("sqlite"):
        raise WorkersRefused(
            f"--workers {workers} needs PostgreSQL (SALON_DATABASE_URL): SQLite is the "
            "database of one process.")
    if settings.host in WILDCARDS and not settings.node_address:
        raise WorkersRefused(
            f"--host {settings.host or '(every address)'} names no address other nodes can "
            "reach: set SALON_NODE_ADDRESS to this machine's (its port is replaced by each "
            "worker's private port).")
    longest = len(settings.node_id) + len(f"-w{workers - 1}")
    if settings.node_id and longest > 128:  # each worker's id is the given one + -w<i>
        raise WorkersRefused(
            f"SALON_NODE_ID is {len(settings.node_id)} characters: with --workers "
            f"{workers} each worker's id adds -w<number>, past the 128 a node id may have; "
            f"use at most {128 - len(f'-w{workers - 1}')}.")
    if not 0 < settings.port < 65536:  # port 0 would give each worker a port of its own
        raise WorkersRefused(f"--workers needs a port to share (1-65535), not {settings.port}.")
    ports = list(worker_ports) or [settings.port + 1 + i for i in range(workers)]
    if len(ports) != workers:
        raise WorkersRefused(f"--worker-ports names {len(ports)} ports for {workers} workers.")
    if len(set(ports)) != workers or settings.port in ports:
        raise WorkersRefused("The workers' private ports must differ from each other and "
                             "from --port.")
    if any(not 0 < port < 65536 for port in ports):
        raise WorkersRefused(f"Private ports must be 1-65535, not {ports}.")
    return ports


def _bound(host: str, port: int) -> socket.socket:
    """A socket on host:port that shares it (SO_REUSEPORT) with this user's others;
    not listening: it takes connections once a worker's server listens on it. Passed
    to a worker with `pass_fds`, which makes it inheritable there."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise WorkersRefused(f"Cannot listen on {host}:{port}: {error.strerror}") from error
    return sock


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def plan(settings: Settings, ports: list[int]) -> list[Slot]:
    """Bind every socket and write each worker's environment (its settings)."""
    scheme = "https" if settings.tls_certfile else "http"
    if settings.node_address:
        given = urlsplit(settings.node_address)
        scheme, address_host = given.scheme or scheme, given.hostname or settings.host
    else:
        address_host = settings.host
    probe_host = "127.0.0.1" if settings.host in WILDCARDS else settings.host
    base_id = settings.node_id or re.sub(r"[^A-Za-z0-9_.-]", "-", socket.gethostname())[:120]
    # Every worker names the same public address in its links (public_base): they serve
    # one port. Only one can hold the RTMP port: the others tell encoders to go there.
    from salon.livestream.service import urls_of
    common = {"SALON_DATA_DIR": str(settings.data_dir),
              "SALON_DATABASE_URL": settings.database_url,
              "SALON_HOST": settings.host, "SALON_PORT": str(settings.port),
              "SALON_ICE_HOSTS": ",".join(settings.ice_hosts),
              "SALON_MEDIA_BACKEND": settings.media_backend,
              "SALON_TLS_CERTFILE": str(settings.tls_certfile or ""),
              "SALON_TLS_KEYFILE": str(settings.tls_keyfile or ""),
              "SALON_RTMP_PUBLIC_URL": urls_of(settings).ingest_server or ""}
    host = settings.host or "0.0.0.0"
    slots: list[Slot] = []
    try:
        for index, port in enumerate(ports):
            public = _bound(host, settings.port)
            try:
                private = _bound(host, port)
            except WorkersRefused:
                public.close()
                raise
            private.listen(2048)
            slots.append(Slot(
                index, f"{base_id}-w{index}", f"{scheme}://{_url_host(address_host)}:{port}",
                f"{scheme}://{_url_host(probe_host)}:{port}/healthz", host, port,
                public, private, {}))
    except WorkersRefused:
        for slot in slots:
            slot.close()
        raise
    for slot in slots:
        slot.env = {**common, "SALON_WORKERS": "1", "SALON_NODE_ID": slot.node_id, "SALON_NODE_ADDRESS": slot.address,
                    **({} if slot.index == 0 else {"SALON_RTMP_PORT": "0"})}
    return slots


def _die_with_parent(parent: int) -> None:
    """In the worker before exec: SIGTERM it when the supervisor dies, even by SIGKILL,
    so that no worker outlives it unsupervised (Linux's PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it died before prctl took effect
        os._exit(1)


def _backoff(crashes: int) -> float:
    return min(MAX_BACKOFF_SECS, RESTART_DELAY_SECS * 2 ** (crashes - 1))


class Supervisor:
    def __init__(self, slots: list[Slot], public_port: int) -> None:
        self.slots = slots
        self.public_port = public_port
        self.signals = 0
        self.failed = False

    def run(self) -> int:
        """Until SIGTERM or SIGINT (exit 0 once every worker stopped), or until a
        worker keeps dying at start (exit 1)."""
        before = {number: signal.signal(number, self._asked_to_stop)
                  for number in (signal.SIGTERM, signal.SIGINT)}
        log.info("supervisor %d: %d workers on %s", os.getpid(), len(self.slots),
                 self.slots[0].reserved.getsockname()[:2])
        try:
            while not self.signals and not self.failed:
                self._tick()
                time.sleep(TICK_SECS)
            self._stop_all()
        finally:
            for slot in self.slots:
                slot.close()
            for number, handler in before.items():
                signal.signal(number, handler)
        return 1 if self.failed else 0

    def _asked_to_stop(self, number: int, _frame: FrameType | None) -> None:
        self.signals += 1
        if self.signals > 1:  # asked twice: no more waiting
            for slot in self.slots:
                if slot.process is not None and slot.process.poll() is None:
                    slot.process.kill()

    def _tick(self) -> None:
        # The first worker starts alone and the others once one has answered, so the
        # first start's work (migrations, the first app, signing keys) runs once.
        anyone_ready = any(slot.ready for slot in self.slots)
        for slot in self.slots:
            if slot.process is None:
                if (slot.index == 0 or anyone_ready) and time.monotonic() >= slot.start_at:
                    self._launch(slot)
            elif (code := slot.process.poll()) is not None:
                self._exited(slot, code)
            elif not slot.ready and self._answers(slot):
                slot.ready, slot.start_crashes = True, 0
                log.info("worker %s (pid %d) serves; node %s at %s", slot.name,
                         slot.process.pid, slot.node_id, slot.address)

    def _launch(self, slot: Slot) -> None:
        try:
            share = _bound(slot.host, self.public_port)
        except WorkersRefused as error:  # another process took the port meanwhile
            slot.start_crashes += 1
            self.failed = slot.start_crashes >= MAX_START_CRASHES
            log.error("worker %s cannot start: %s", slot.name, error)
            slot.start_at = time.monotonic() + _backoff(slot.start_crashes)
            return
        fds = [share.fileno(), slot.private.fileno()]
        command = [sys.executable, "-m", "salon", "serve",
                   *(arg for fd in fds for arg in ("--listen-fd", str(fd)))]
        parent = os.getpid()
        try:
            slot.process = subprocess.Popen(
                command, env={**os.environ, **slot.env}, pass_fds=fds,
                # Ctrl-C in a terminal signals the whole foreground group; in a group of
                # their own the workers get only the supervisor's one SIGTERM (a second
                # signal would make uvicorn skip its graceful drain).
                process_group=0, preexec_fn=lambda: _die_with_parent(parent))
        finally:
            share.close()  # the worker's own now: it goes when the worker goes
        slot.ready = False
        log.info("worker %s started (pid %d)", slot.name, slot.process.pid)

    def _answers(self, slot: Slot) -> bool:
        try:  # only "does it answer": the certificate need not name this address
            return httpx.get(slot.probe_url, timeout=0.5, verify=False).status_code == 200
        except httpx.HTTPError:
            return False

    def _exited(self, slot: Slot, code: int) -> None:
        assert slot.process is not None
        how = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
        if slot.ready:
            slot.start_crashes, delay = 0, RESTART_DELAY_SECS
            log.warning("worker %s (pid %d) died (%s); restarting it in %.1f s", slot.name,
                        slot.process.pid, how, delay)
        else:
            slot.start_crashes += 1
            if slot.start_crashes >= MAX_START_CRASHES:
                log.error("worker %s died at start %d times in a row (last: %s); giving up",
                          slot.name, slot.start_crashes, how)
                self.failed = True
            delay = _backoff(slot.start_crashes)
            if not self.failed:
                log.warning("worker %s (pid %d) died before it served (%s); restarting it "
                            "in %.1f s", slot.name, slot.process.pid, how, delay)
        slot.process, slot.ready = None, False
        slot.start_at = time.monotonic() + delay

    def _stop_all(self) -> None:
        """SIGTERM every worker (each drains and leaves the cluster), then wait."""
        live = [slot for slot in self.slots if slot.process and slot.process.poll() is None]
        log.info("stopping %d workers", len(live))
        for slot in live:
            assert slot.process is not None
            slot.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECS
        for slot in live:
            assert slot.process is not None
            try:
                slot.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("worker %s did not stop in %.0f s: killing it", slot.name,
                            STOP_TIMEOUT_SECS)
                slot.process.kill()
                slot.process.wait()


def serve(settings: Settings, workers: int, worker_ports: tuple[int, ...]) -> int:
    """Run `workers` nodes until stopped; the exit status (WorkersRefused before any)."""
    slots = plan(settings, check(settings, workers, worker_ports))
    return Supervisor(slots, settings.port).run()
