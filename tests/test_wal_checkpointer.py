"""The server's SQLite connection leaves WAL checkpoints to `WalCheckpointer`
(store/wal_checkpointer.py): none on the event loop's commits, yet the log starts over
under steady writes and nothing written is lost."""

import asyncio
import os
import sqlite3
from pathlib import Path

from salon.settings import Settings
from salon.store import migrate
from salon.store.database import Database
from salon.store.wal_checkpointer import WalCheckpointer

ROWS = 3000


def wal_frames(path: str) -> int:
    """Frames the log file has room for. It never shrinks (no `journal_size_limit`), and
    it grows only while the log does not start over: so it measures, and does not
    disturb, the way a checkpoint from here would."""
    return max(0, os.path.getsize(f"{path}-wal") - 32) // (4096 + 24)


async def started(tmp_path: Path) -> tuple[Database, WalCheckpointer]:
    database = Database(Settings(data_dir=tmp_path))
    await migrate.upgrade(database)
    await database.start_upkeep()
    checkpointer = database.checkpointer
    assert checkpointer is not None
    checkpointer.interval = 3600.0  # rounds are driven by hand below
    await database.transact(lambda c: c.exec_driver_sql(
        "CREATE TABLE scratch (id INTEGER PRIMARY KEY, payload TEXT)"))
    return database, checkpointer


async def write_rows(database: Database, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        await database.transact(lambda c, i=i: c.exec_driver_sql(
            "INSERT INTO scratch (id, payload) VALUES (?, ?)", (i, "x" * 200)))


async def test_commits_on_the_loop_never_checkpoint(tmp_path: Path) -> None:
    database, _ = await started(tmp_path)
    try:
        async with database._writer() as connection:
            assert connection.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
        await write_rows(database, ROWS)
        # SQLite's own checkpoints (every 1000 pages) would have started the log over.
        assert wal_frames(database.path) > 1000
    finally:
        await database.dispose()


async def test_the_log_starts_over_under_steady_writes(tmp_path: Path) -> None:
    database, checkpointer = await started(tmp_path)
    checkpointer.restart_frames = 500
    in_thread = checkpointer._checkpoint_in_thread
    other = sqlite3.connect(database.path, isolation_level=None, check_same_thread=False)
    other.execute("PRAGMA wal_autocheckpoint=0")  # or its commits would checkpoint
    landed = 0

    def commit_lands_meanwhile() -> tuple[int, int, int]:
        # Under steady load some commit always lands while the thread copies: one that
        # began before the copy ended, so SQLite alone would never start the log over.
        nonlocal landed
        if database.engine.sync_engine.pool.checkedout():  # the server's writes are paused
            return in_thread()
        landed += 1
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO scratch (id, payload) VALUES (?, 'meanwhile')", (-landed,))
        progress = in_thread()
        other.execute("COMMIT")
        return progress

    checkpointer._checkpoint_in_thread = commit_lands_meanwhile  # type: ignore[method-assign]
    rounds, per_round = 30, 100
    try:
        for round_no in range(rounds):
            await write_rows(database, per_round, start=round_no * per_round)
            await checkpointer.run_once()
        # Without a copy with writes paused, the log holds every frame since the start.
        assert wal_frames(database.path) < rounds * per_round / 2
    finally:
        other.close()
        await database.dispose()
    with sqlite3.connect(database.path) as connection:
        assert connection.execute("SELECT count(*) FROM scratch").fetchone()[0] == \
            rounds * per_round + landed


async def test_the_cli_keeps_sqlites_own_checkpoints(tmp_path: Path) -> None:
    database = Database(Settings(data_dir=tmp_path))
    try:
        await migrate.upgrade(database)
        async with database._writer() as connection:
            assert connection.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
        assert database.checkpointer is None
    finally:
        await database.dispose()


async def test_stopping_ends_the_rounds_and_keeps_every_row(tmp_path: Path) -> None:
    database, checkpointer = await started(tmp_path)
    checkpointer.interval = 0.01
    written = 0
    while checkpointer.rounds < 3:
        await write_rows(database, 100, start=written)
        written += 100
        await asyncio.sleep(0.005)  # the rounds run in between
    # Stopped while a round may be copying: stop() waits for it, then closes.
    await database.dispose()
    assert database.checkpointer is None
    with sqlite3.connect(database.path) as connection:
        assert connection.execute("SELECT count(*) FROM scratch").fetchone()[0] == written


async def test_a_log_copied_whole_and_unchanged_is_not_checkpointed_again(
        tmp_path: Path) -> None:
    """An idle server wakes no thread: a round is skipped while the log is as a round
    that copied all of it left it, and runs again after the next commit."""
    database, checkpointer = await started(tmp_path)
    try:
        await write_rows(database, 10)
        await checkpointer.run_once()
        done = checkpointer.rounds
        for _ in range(3):
            await checkpointer.run_once()
        assert checkpointer.rounds == done
        await write_rows(database, 1, start=10)
        await checkpointer.run_once()
        assert checkpointer.rounds == done + 1
    finally:
        await database.dispose()
