"""The room recorder at unit level: which failures are waited out, which are dead letters."""

import asyncio
import logging
import sqlite3
import time
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import exc as sa_exc

from salon.core.room import Record
from salon.live.recorder import Recorder, transient
from salon.services.chat_export import ExportLinks

AT = datetime(2026, 1, 1, tzinfo=UTC)
LINKS = ExportLinks.from_secret("secret", "http://unit", 60)


def locked_error(tmp_path: Path) -> sqlite3.OperationalError:
    """A real 'database is locked' from SQLite: another connection holds the write lock."""
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        return error
    finally:
        other.close()
        holder.close()
    raise AssertionError("the second writer was not refused")


def sqlite_error(sql: str) -> sqlite3.Error:
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    connection.execute("INSERT INTO t VALUES (1)")
    try:
        connection.execute(sql)
    except sqlite3.Error as error:
        return error
    finally:
        connection.close()
    raise AssertionError(f"{sql} did not fail")


class PgError(Exception):
    """What SQLAlchemy's asyncpg adapter wraps: an error with its SQLSTATE."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def wrapped(orig: Exception, kind: type[sa_exc.DBAPIError] = sa_exc.DBAPIError,
            invalidated: bool = False) -> sa_exc.DBAPIError:
    return kind("INSERT …", {}, orig, connection_invalidated=invalidated)


def test_unavailable_databases_are_transient_and_refused_data_is_not(tmp_path: Path) -> None:
    assert transient(wrapped(locked_error(tmp_path), sa_exc.OperationalError))
    assert transient(wrapped(PgError("08006")))  # connection failure
    assert transient(wrapped(PgError("40P01")))  # deadlock
    assert transient(wrapped(PgError("57P01")))  # admin shutdown
    assert transient(wrapped(PgError("55P03")))  # lock not available
    assert transient(wrapped(Exception("gone"), invalidated=True))
    assert transient(ConnectionRefusedError())
    assert transient(sa_exc.TimeoutError("QueuePool limit reached"))

    assert not transient(wrapped(sqlite_error("SELECT * FROM missing"),
                                 sa_exc.OperationalError))  # "no such table"
    assert not transient(wrapped(sqlite_error("INSERT INTO t VALUES (1)"),
                                 sa_exc.IntegrityError))
    assert not transient(wrapped(PgError("22021")))  # a NUL in a text column
    assert not transient(wrapped(PgError("23505")))  # unique violation
    assert not transient(KeyError("session_id"))
    assert not transient(AssertionError("session was never recorded"))


class FakeDatabase:
    @asynccontextmanager
    async def session(self) -> Any:
        yield None


class Script:
    """An `apply` that fails as told per record, then succeeds; keeps what it stored."""

    def __init__(self, failures: dict[str, list[BaseException]], queued: int = 1) -> None:
        self.failures = failures
        self.queued = queued
        self.stored: list[str] = []
        self.attempts: dict[str, list[float]] = {}

    async def __call__(self, db: Any, app_id: str, record: Record, links: ExportLinks) -> int:
        name = record.data["name"]
        self.attempts.setdefault(name, []).append(time.monotonic())
        pending = self.failures.get(name)
        if pending:
            raise pending.pop(0)
        self.stored.append(name)
        return self.queued


def record(name: str) -> Record:
    return Record(Record.PEER_LEFT, AT, {"name": name})


def locked() -> sa_exc.OperationalError:
    error = sqlite3.OperationalError("database is locked")
    error.sqlite_errorcode = 5  # type: ignore[attr-defined]
    return sa_exc.OperationalError("INSERT …", {}, error)


def recorder(script: Script, commits: list[int] | None = None, **kwargs: Any) -> Recorder:
    on_commit = (lambda: commits.append(1)) if commits is not None else None
    return Recorder(FakeDatabase(), "app-1", LINKS, on_commit,  # type: ignore[arg-type]
                    apply=script, retry_base_secs=0.001, retry_max_secs=0.005, **kwargs)


async def test_an_unavailable_database_is_waited_out_with_no_attempt_limit() -> None:
    script = Script({"first": [locked() for _ in range(12)]})
    commits: list[int] = []
    rec = recorder(script, commits)
    rec.put(record("first"))
    rec.put(record("second"))
    await asyncio.wait_for(rec.drain(), 5)
    assert script.stored == ["first", "second"]  # nothing dropped, order kept
    assert len(script.attempts["first"]) == 13
    gaps = [b - a for a, b in zip(script.attempts["first"], script.attempts["first"][1:],
                                  strict=False)]
    assert min(gaps) >= 0.0009 and max(gaps) < 0.5  # backed off, and capped
    assert commits == [1, 1]  # once per real commit, none for the failed attempts


async def test_refused_data_is_a_dead_letter_without_a_pause(
        caplog: pytest.LogCaptureFixture) -> None:
    bad = wrapped(PgError("22021"), sa_exc.DataError)
    script = Script({"bad": [bad]})
    commits: list[int] = []
    rec = Recorder(FakeDatabase(), "app-1", LINKS, lambda: commits.append(1),  # type: ignore[arg-type]
                   apply=script, retry_base_secs=10, retry_max_secs=10)
    with caplog.at_level(logging.ERROR, logger="salon.live"):
        rec.put(record("bad"))
        rec.put(record("after"))
        await asyncio.wait_for(rec.drain(), 2)  # no 10 s backoff anywhere
    assert script.stored == ["after"] and len(script.attempts["bad"]) == 1
    assert commits == [1]
    [letter] = [r for r in caplog.records if "dead letter" in r.getMessage()]
    assert "'name': 'bad'" in letter.getMessage()  # the record itself is in the log


async def test_the_dispatcher_is_woken_only_when_deliveries_were_queued() -> None:
    commits: list[int] = []
    rec = recorder(Script({}, queued=0), commits)
    rec.put(record("quiet"))
    await asyncio.wait_for(rec.drain(), 2)
    assert commits == []


async def test_shutdown_bounds_the_wait_and_never_pauses_after_the_last_attempt(
        caplog: pytest.LogCaptureFixture) -> None:
    forever = [locked() for _ in range(10_000)]
    script = Script({"stuck": forever, "behind": [locked() for _ in range(10_000)]})
    rec = Recorder(FakeDatabase(), "app-1", LINKS, None,  # type: ignore[arg-type]
                   apply=script, retry_base_secs=0.05, retry_max_secs=60)
    rec.put(record("stuck"))
    rec.put(record("behind"))
    await asyncio.sleep(0.5)  # well into a long backoff
    began = time.monotonic()
    with caplog.at_level(logging.ERROR, logger="salon.live"):
        await asyncio.wait_for(rec.drain(grace=0.3), 3)
    took = time.monotonic() - began
    assert 0.25 <= took < 1.0
    assert script.stored == []
    assert script.attempts["stuck"][-1] - began >= 0.25  # a last attempt at the deadline…
    assert len(script.attempts["behind"]) == 1  # …and one for each record behind it
    letters = [r.getMessage() for r in caplog.records if "dead letter" in r.getMessage()]
    assert len(letters) == 2 and "'name': 'stuck'" in letters[0]


async def test_settled_waits_only_for_records_queued_before_it() -> None:
    gate = asyncio.Event()

    async def apply(db: Any, app_id: str, record: Record, links: ExportLinks) -> int:
        if record.data["name"] == "later":
            await gate.wait()
        return 0

    rec = Recorder(FakeDatabase(), "app-1", LINKS, apply=apply)  # type: ignore[arg-type]
    rec.put(record("earlier"))
    waiting = asyncio.create_task(rec.settled())
    rec.put(record("later"))  # queued after the call, and stuck
    await asyncio.wait_for(waiting, 1)
    assert (rec.queued, rec.done) == (2, 1)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(rec.settled(), 0.2)  # this one does wait for "later"
    gate.set()
    await asyncio.wait_for(rec.settled(), 1)
    await rec.drain()
