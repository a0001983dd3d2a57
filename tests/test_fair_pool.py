"""The FIFO connection pool: order, timeouts and cancelled waiters never lose a connection."""

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.util import greenlet_spawn

from salon.settings import Settings
from salon.store.database import Database
from salon.store.fair_pool import FairQueue


@pytest.fixture
async def database(tmp_path: Path):
    db = Database(Settings(data_dir=tmp_path, database_url=""))  # SQLite: one connection
    try:
        yield db
    finally:
        await db.dispose()


async def _hold(db: Database, entered: asyncio.Event, release: asyncio.Event) -> None:
    async with db.session() as session:
        await session.execute(text("select 1"))
        entered.set()
        await release.wait()


async def test_waiters_are_served_in_arrival_order(database: Database) -> None:
    entered, release = asyncio.Event(), asyncio.Event()
    holder = asyncio.create_task(_hold(database, entered, release))
    await entered.wait()
    order: list[int] = []

    async def use(n: int) -> None:
        async with database.session() as session:
            await session.execute(text("select 1"))
            order.append(n)

    waiters = [asyncio.create_task(use(n)) for n in range(5)]
    await asyncio.sleep(0.05)
    release.set()
    await asyncio.gather(holder, *waiters)
    assert order == [0, 1, 2, 3, 4]


async def test_a_cancelled_waiter_does_not_swallow_the_connection(database: Database) -> None:
    entered, release = asyncio.Event(), asyncio.Event()
    holder = asyncio.create_task(_hold(database, entered, release))
    await entered.wait()

    async def use() -> int:
        async with database.session() as session:
            return (await session.execute(text("select 7"))).scalar_one()

    doomed = asyncio.create_task(use())
    await asyncio.sleep(0.05)
    doomed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await doomed
    release.set()
    await holder
    assert await asyncio.wait_for(use(), timeout=2) == 7


async def test_a_waiter_cancelled_as_its_connection_arrives_is_cancelled_and_passes_it_on(
        ) -> None:
    queue = FairQueue(maxsize=1)
    waiting = asyncio.create_task(greenlet_spawn(queue.get, True, 30))
    await asyncio.sleep(0.01)  # in line, waiting
    queue.put_nowait("connection")  # handed to the waiter...
    waiting.cancel()  # ...in the same loop iteration as its task is cancelled
    with pytest.raises(asyncio.CancelledError):  # not lost (asyncio.wait_for on 3.11)
        await waiting
    assert queue.get_nowait() == "connection"  # and the connection is not lost either
