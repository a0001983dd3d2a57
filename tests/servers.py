"""Real salon servers for tests and benchmarks: a subprocess on a free loopback port.

`start()` creates an app with the CLI (which also migrates the database), then runs
`salon serve` and waits until it answers. PostgreSQL servers get a throwaway database.
`in_process()` serves an app object with uvicorn in the test's own event loop instead,
for tests that reach into its state.
"""

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

POSTGRES_ADMIN_URL = os.environ.get("SALON_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@asynccontextmanager
async def in_process(app: FastAPI, port: int) -> AsyncIterator[None]:
    """`app` under a real uvicorn server on 127.0.0.1:`port`, in this event loop."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not serving.done(), "the server did not start"
            await asyncio.sleep(0.01)
        yield
    finally:
        server.should_exit = True
        await serving


def _psql(sql: str) -> None:
    subprocess.run(["psql", POSTGRES_ADMIN_URL, "-v", "ON_ERROR_STOP=1", "-qc", sql],
                   check=True, capture_output=True)


@dataclass
class ThrowawayPostgres:
    """A database created for one run and dropped after it."""

    name: str = field(default_factory=lambda: f"salon_test_{uuid.uuid4().hex[:12]}")

    def __post_init__(self) -> None:
        _psql(f'CREATE DATABASE "{self.name}"')

    @property
    def url(self) -> str:
        return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + self.name

    def drop(self) -> None:
        _psql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def psql(self, sql: str) -> None:
        """Run SQL in this database (tests that set up what only time would make)."""
        subprocess.run(["psql", self.url, "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True,
                       capture_output=True)


@dataclass
class SalonServer:
    data_dir: Path
    database_url: str
    port: int
    account_id: str
    app_id: str
    api_token: str
    process: subprocess.Popen
    log_path: Path
    #: Extra environment (settings such as `SALON_WEBHOOK_RETRY_BASE_SECS`), kept on restart.
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def account_url(self) -> str:
        return f"{self.url}/client/v4/accounts/{self.account_id}/realtime/kit"

    @property
    def app_url(self) -> str:
        return f"{self.account_url}/{self.app_id}"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_token}"}

    def env(self) -> dict[str, str]:
        env = {**os.environ, "SALON_DATA_DIR": str(self.data_dir)}
        env["SALON_DATABASE_URL"] = self.database_url
        return {**env, **self.extra_env}

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return run_cli(self.env(), *args, check=check)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def run_cli(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "salon", *args], env=env, check=check,
                          capture_output=True, text=True, timeout=120)


def launch(env: dict[str, str], port: int, log_path: Path) -> subprocess.Popen:
    log = open(log_path, "ab")
    process = subprocess.Popen([sys.executable, "-m", "salon", "serve", "--port", str(port)],
                               env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"salon exited early:\n{log_path.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"salon did not answer within 30 s:\n{log_path.read_text()}")


def start(database_url: str = "", data_dir: Path | None = None,
          env: dict[str, str] | None = None) -> SalonServer:
    """A new server; `env` adds settings to the inherited environment, on restarts too."""
    extra_env = env or {}
    data_dir = data_dir or Path(tempfile.mkdtemp(prefix="salon-test-"))
    env = {**os.environ, "SALON_DATA_DIR": str(data_dir), "SALON_DATABASE_URL": database_url,
           **extra_env}
    creds = json.loads(run_cli(env, "apps", "create", "test", "--json").stdout)
    port = free_port()
    log_path = data_dir / "server.log"
    process = launch(env, port, log_path)
    return SalonServer(data_dir, database_url, port, creds["account_id"], creds["app_id"],
                       creds["api_token"], process, log_path, extra_env)


def restart(server: SalonServer) -> None:
    server.stop()
    server.process = launch(server.env(), server.port, server.log_path)


def cleanup(server: SalonServer) -> None:
    server.stop()
    shutil.rmtree(server.data_dir, ignore_errors=True)


@contextmanager
def running(database_url: str = "", env: dict[str, str] | None = None) -> Iterator[SalonServer]:
    """A server for a whole test session; bad input must never crash a request, so no
    traceback may reach its log."""
    salon = start(database_url, env=env)
    try:
        yield salon
        assert "Traceback" not in salon.log(), salon.log()
    finally:
        cleanup(salon)


@contextmanager
def running_on(backend: str, env: dict[str, str] | None = None) -> Iterator[SalonServer]:
    """`running` on SQLite (`backend` "sqlite") or on a throwaway PostgreSQL database
    ("postgresql"), dropped afterwards: for fixtures parametrized over both."""
    database = ThrowawayPostgres() if backend == "postgresql" else None
    try:
        with running(database.url if database else "", env=env) as salon:
            yield salon
    finally:
        if database:
            database.drop()


@contextmanager
def app_client(salon: SalonServer, timeout: float = 10) -> Iterator[httpx.Client]:
    """An HTTP client on the server's app routes, with its API token."""
    with httpx.Client(base_url=salon.app_url, headers=salon.headers,
                      timeout=timeout) as client:
        yield client
