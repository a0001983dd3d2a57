"""SQLite for the async engine without a thread hop per call.

SQLAlchemy's `aiosqlite` dialect sends every DBAPI call (cursor, execute, fetch, close,
commit) through aiosqlite's worker thread: some twenty thread hand-offs for one small
REST request, which cost more CPU than the SQL itself. A local SQLite file in WAL mode
with `synchronous=NORMAL` answers these calls in microseconds, so this shim runs them
inline on the event loop, behind the same interface the dialect expects from aiosqlite.

The price: a write that must wait for another process's lock (the CLI, say) blocks the
loop for that wait, bounded by `busy_timeout`. salon keeps its own transactions short
and serializes them through one pooled connection, so within the server nothing waits.
"""

import asyncio
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any


class _InlineQueue:
    """Stands in for aiosqlite's request queue, which the dialect uses for one setter."""

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as error:  # delivered to whoever awaits the future
            future.set_exception(error)


class InlineCursor:
    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> "InlineCursor":
        return self

    async def __aexit__(self, *_: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> "InlineCursor":
        if parameters is None:
            self._cursor.execute(sql)
        else:
            self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> "InlineCursor":
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class InlineConnection:
    """The parts of `aiosqlite.Connection` SQLAlchemy's aiosqlite dialect uses."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn = connection
        self._connection: sqlite3.Connection | None = connection
        self._tx = _InlineQueue()

    @property
    def sqlite(self) -> sqlite3.Connection:
        """The sqlite3 connection itself, for what SQLAlchemy has no words for
        (`PRAGMA wal_checkpoint`)."""
        return self._conn

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        self._conn.isolation_level = value

    def cursor(self) -> InlineCursor:
        return InlineCursor(self._conn.cursor())

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        return await self.cursor().execute(sql, parameters)

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    def begin_immediate(self) -> None:
        """Start a write transaction now (see `database._tune_sqlite`); synchronous."""
        self._conn.execute("BEGIN IMMEDIATE")

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()


def creator(path: str) -> Callable[[], Any]:
    """An `async_creator` for `create_async_engine` opening `path` inline."""

    async def connect() -> InlineConnection:
        return InlineConnection(sqlite3.connect(path, isolation_level=None,
                                                check_same_thread=False))

    return connect
