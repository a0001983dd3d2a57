"""Probes: `/healthz` (alive) and `/readyz` (database, migrations, Redis), on real
servers, a real Redis on 127.0.0.1:6379 and real closed or silent ports."""

import asyncio
import sqlite3
from collections.abc import Iterator

import httpx
import pytest

from salon.observability.health import migration_heads, ping_redis, readiness
from salon.settings import Settings
from salon.store.database import Database
from tests.servers import SalonServer, free_port, running

REDIS = "redis://127.0.0.1:6379/0"


def test_healthz_is_unchanged(server: SalonServer) -> None:
    response = httpx.get(f"{server.url}/healthz")
    assert response.status_code == 200
    assert response.json()["data"]["status"] == "ok"


def test_readyz_when_everything_answers(server: SalonServer) -> None:
    response = httpx.get(f"{server.url}/readyz")
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    data = response.json()["data"]
    assert data["status"] == "ready"
    checks = data["checks"]
    assert checks["database"]["ok"] is True and checks["database"]["error"] is None
    assert checks["database"]["latency_ms"] >= 0
    assert checks["migrations"] == {"ok": True, "current": list(migration_heads()),
                                    "head": list(migration_heads()), "error": None}
    assert checks["redis"] is None  # no SALON_REDIS_URL


@pytest.fixture(scope="module")
def with_redis() -> Iterator[SalonServer]:
    with running("", env={"SALON_REDIS_URL": REDIS}) as salon:
        yield salon


def test_readyz_pings_redis_when_configured(with_redis: SalonServer) -> None:
    response = httpx.get(f"{with_redis.url}/readyz")
    assert response.status_code == 200, response.text
    redis = response.json()["data"]["checks"]["redis"]
    assert redis["ok"] is True and redis["latency_ms"] >= 0 and redis["error"] is None


def test_readyz_503_when_the_schema_is_behind(with_redis: SalonServer) -> None:
    """A database another (older) version migrated: not ready, and the answer says why."""
    path = with_redis.data_dir / "salon.db"
    head = migration_heads()[0]
    older = f"{int(head) - 1:04d}"
    with sqlite3.connect(path) as db:
        db.execute("UPDATE alembic_version SET version_num = ?", (older,))
    try:
        response = httpx.get(f"{with_redis.url}/readyz")
    finally:
        with sqlite3.connect(path) as db:
            db.execute("UPDATE alembic_version SET version_num = ?", (head,))
    assert response.status_code == 503
    assert response.json() == {"success": False, "error": {"code": 503, "message": (
        f"Not ready: migrations: the schema is at {older}, this version needs {head}.")}}
    assert httpx.get(f"{with_redis.url}/readyz").status_code == 200


def test_readyz_503_when_redis_is_unreachable() -> None:
    closed = free_port()
    with running("", env={"SALON_REDIS_URL": f"redis://127.0.0.1:{closed}/0"}) as salon:
        response = httpx.get(f"{salon.url}/readyz")
        assert response.status_code == 503
        body = response.json()
        assert body["success"] is False and body["error"]["code"] == 503
        message = body["error"]["message"]
        assert message.startswith("Not ready: redis: ")
        assert "database" not in message and "migrations" not in message
        # Liveness is another question: the process is alive.
        assert httpx.get(f"{salon.url}/healthz").status_code == 200


def test_readyz_never_shows_the_redis_password() -> None:
    """The local Redis has no password: AUTH is refused, and the password stays secret."""
    secret = "redis-pass-5ecret"
    with running("", env={"SALON_REDIS_URL": f"redis://:{secret}@127.0.0.1:6379/0"}) as salon:
        response = httpx.get(f"{salon.url}/readyz")
        assert response.status_code == 503
        assert response.json()["error"]["message"].startswith("Not ready: redis: ")
        assert secret not in response.text
        assert secret not in salon.log()


async def test_an_unreachable_database_is_named(tmp_path) -> None:
    """A real PostgreSQL client against a closed port."""
    port = free_port()
    database = Database(Settings(data_dir=tmp_path,
                                 database_url=f"postgresql://postgres@127.0.0.1:{port}/x"))
    try:
        result = await readiness(database, "")
    finally:
        await database.dispose()
    assert not result.ready
    assert result.checks["database"]["ok"] is False
    assert result.checks["migrations"]["ok"] is False
    assert result.failures[0].startswith("database: ")
    assert result.failures[1] == "migrations: database unreachable"


async def test_a_silent_redis_fails_within_the_deadline(monkeypatch) -> None:
    """A port that accepts and never answers: the check gives up, it does not hang."""
    from salon.observability import health

    monkeypatch.setattr(health, "CHECK_TIMEOUT_SECS", 0.3)
    accepted: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    silent = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    try:
        check = await health._redis(f"redis://127.0.0.1:{port}")
    finally:
        for writer in accepted:
            writer.close()
        silent.close()
        await silent.wait_closed()
    assert check == {"ok": False, "latency_ms": None, "error": "no answer within 0.3 s"}


async def test_ping_redis_speaks_resp() -> None:
    await ping_redis(REDIS)
    with pytest.raises(Exception, match="redis://"):
        await ping_redis("http://127.0.0.1:6379")
