"""The PostgreSQL connections a node keeps (salon.store.database), on a real PostgreSQL:
a burst larger than the pool waits its turn on the pool's connections rather than
opening (and, on return, closing) connections of its own — each new one starts a
PostgreSQL backend, which cost more CPU than the requests themselves (bench/cluster.py
found it) — and `run_alone` runs its statement in autocommit."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from salon.settings import Settings
from salon.store.database import POSTGRES_POOL_SIZE, Database
from tests.servers import ThrowawayPostgres

pytestmark = pytest.mark.postgres

BACKEND = text("SELECT pg_backend_pid() FROM pg_sleep(0.02)")


@pytest.fixture
async def database(postgres: ThrowawayPostgres, tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(Settings(data_dir=tmp_path, database_url=postgres.url))
    try:
        yield db
    finally:
        await db.dispose()


async def test_bursts_larger_than_the_pool_reuse_its_connections(database: Database) -> None:
    burst = 2 * POSTGRES_POOL_SIZE
    seen: set[int] = set()
    for _ in range(3):
        pids = await asyncio.gather(*(
            database.transact(lambda connection: connection.execute(BACKEND).scalar_one())
            for _ in range(burst)))
        seen |= set(pids)
    # Every statement ran on one of the pool's own backends, none on a passing one.
    assert len(seen) <= POSTGRES_POOL_SIZE, len(seen)


async def test_run_alone_commits_its_statement_by_itself(database: Database) -> None:
    await database.transact(lambda c: c.execute(text("CREATE TABLE marks (n int)")))

    def mark_then_fail(n: int):  # type: ignore[no-untyped-def]
        def work(connection):  # type: ignore[no-untyped-def]
            connection.execute(text("INSERT INTO marks VALUES (:n)"), {"n": n})
            raise RuntimeError("after the statement")
        return work

    with pytest.raises(RuntimeError):
        await database.run_alone(mark_then_fail(1))  # autocommit: the insert stands
    with pytest.raises(RuntimeError):
        await database.transact(mark_then_fail(2))   # one transaction: rolled back
    marks = await database.transact(
        lambda c: sorted(c.execute(text("SELECT n FROM marks")).scalars()))
    assert marks == [1]
