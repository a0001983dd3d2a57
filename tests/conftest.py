"""Shared fixtures: one real salon server per database backend for the whole run."""

import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from salon.client import AdminClient, RealtimeClient
from salon.settings import Settings
from salon.store import migrate
from salon.store.database import Database
from tests import contract, s3
from tests.bounded import bound_async_tests
from tests.cluster import fresh_cluster_name
from tests.live import FAST, Meeting, admin_for
from tests.protocol_check import ProtocolCheck
from tests.servers import SalonServer, ThrowawayPostgres, cleanup, running, start
from tests.shaping import shaper  # noqa: F401 (a fixture for tests on shaped links)

#: Media and browser tests: they send WebRTC traffic, so they run only where loopback is
#: the only interface (scripts/test-netns runs them under `unshare -rn`).
NETNS_DIRS = ("media", "e2e")


def _only_loopback() -> bool:
    return {name for _, name in socket.if_nameindex()} <= {"lo"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    isolated = _only_loopback()
    skip = pytest.mark.skip(reason="needs a private network namespace: run scripts/test-netns")
    for item in items:
        if Path(str(item.path)).parent.name in NETNS_DIRS:
            item.add_marker(pytest.mark.netns)
            if not isolated:
                item.add_marker(skip)
    bound_async_tests(items)


@pytest.fixture(scope="session", autouse=True)
def rest_contract() -> Iterator[None]:
    """Every REST answer of the run is checked against the served OpenAPI document."""
    with pytest.MonkeyPatch.context() as patch:
        contract.install(patch)
        yield


class BackendServers:
    """The `server` of each backend, started when first asked for and kept for the whole
    run. pytest runs a file's SQLite tests, then its PostgreSQL ones, and tears a
    parametrized session fixture down at each switch: without this every file of the
    suite would start two servers (seconds each), rather than each worker two in all."""

    def __init__(self) -> None:
        self.started: dict[str, SalonServer] = {}
        self.databases: list[ThrowawayPostgres] = []

    def get(self, backend: str) -> SalonServer:
        if backend not in self.started:
            database = ThrowawayPostgres() if backend == "postgresql" else None
            if database:
                self.databases.append(database)
            self.started[backend] = start(database.url if database else "")
        return self.started[backend]

    def close(self) -> None:
        for salon in self.started.values():
            cleanup(salon)
        for database in self.databases:
            database.drop()


@pytest.fixture(scope="session")
def backend_servers() -> Iterator[BackendServers]:
    servers = BackendServers()
    try:
        yield servers
    finally:
        servers.close()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest,
           backend_servers: BackendServers) -> Iterator[SalonServer]:
    salon = backend_servers.get(request.param)
    checked = len(salon.log())
    yield salon
    # Bad input must never crash a request: no traceback may reach the log (what the
    # tests since the last switch of backend had it write).
    written = salon.log()[checked:]
    assert "Traceback" not in written, written


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """A real S3-compatible server on loopback (moto's): its URL (tests/s3.py)."""
    yield from s3.moto_server()


@pytest.fixture(scope="session")
def sqlite_server() -> Iterator[SalonServer]:
    """A SQLite-backed server for tests that don't need to run on both backends."""
    salon = start("")
    try:
        yield salon
    finally:
        cleanup(salon)


@pytest.fixture
def http(server: SalonServer) -> Iterator[httpx.Client]:
    """An authenticated client rooted at the test app's URL."""
    with httpx.Client(base_url=server.app_url, headers=server.headers, timeout=10) as client:
        yield client


@pytest.fixture
def meeting(http: httpx.Client) -> dict:
    response = http.post("/meetings", json={"title": "fixture meeting"})
    assert response.status_code == 201, response.text
    return response.json()["data"]


@pytest.fixture(scope="session")
def live_server() -> Iterator[SalonServer]:
    """A SQLite server with short keep-alive and resume windows, for live-session tests."""
    with running("", env=FAST) as salon:
        yield salon


@pytest.fixture
async def admin(live_server: SalonServer) -> AsyncIterator[AdminClient]:
    async with admin_for(live_server) as client:
        yield client


@pytest.fixture
async def room(live_server: SalonServer, admin: AdminClient) -> AsyncIterator[Meeting]:
    """A fresh meeting on the live server; its peers are closed after the test."""
    meeting = Meeting(live_server, admin, await admin.create_meeting(title="live test"))
    try:
        yield meeting
    finally:
        await meeting.close()


@pytest.fixture(autouse=True)
def protocol_check() -> Iterator[ProtocolCheck]:
    """Every realtime message of the test checked against the protocol's schema: a
    server message that does not match fails the test, naming the message and path."""
    check = ProtocolCheck()
    RealtimeClient.inspector = check
    try:
        yield check
    finally:
        RealtimeClient.inspector = None
    if check.failures:
        pytest.fail("messages that do not match the protocol's schema:\n"
                    + "\n".join(check.failures), pytrace=False)


@pytest.fixture(scope="session")
def recognizer() -> Any:
    """The bundled tiny.en model (a `salon.ai.recognizer.Recognizer`), loaded once for
    every test that recognizes speech; imported here only when one asks for it."""
    from salon.ai.recognizer import Recognizer

    rec = Recognizer(cpu_threads=2)
    rec.load()
    return rec


@pytest.fixture
def cluster() -> Iterator[str]:
    """A cluster name of the test's own in the shared Redis (its keys deleted after);
    tests that run a whole cluster override it (tests/test_cluster_rooms.py)."""
    with fresh_cluster_name() as name:
        yield name


@pytest.fixture
def postgres() -> Iterator[ThrowawayPostgres]:
    """A throwaway PostgreSQL database, dropped after the test."""
    database = ThrowawayPostgres()
    try:
        yield database
    finally:
        database.drop()


@pytest.fixture
async def postgres_database(tmp_path: Path) -> AsyncIterator[Database]:
    """A `Database` on a throwaway PostgreSQL database, migrated; dropped after the test."""
    throwaway = ThrowawayPostgres()
    database = Database(Settings(data_dir=tmp_path, database_url=throwaway.url))
    try:
        await migrate.upgrade(database)
        yield database
    finally:
        await database.dispose()
        throwaway.drop()
