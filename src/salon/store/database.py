"""The engine and sessions.

SQLite runs inline on the event loop (`sqlite_inline`) through one pooled connection,
in WAL mode with `BEGIN IMMEDIATE` transactions: in-process
work queues for the single connection instead of fighting over the file lock, and a
transaction never has to upgrade a read lock (which SQLite answers with an immediate
"database is locked" when another process, such as the CLI, wrote in between).

The rule that follows: never await anything that needs the database (the session
recorder, another session) while holding an open session — on SQLite that waits for
the connection you hold.
"""

import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.util import greenlet_spawn

from salon.settings import Settings
from salon.store import sqlite_inline
from salon.store.fair_pool import FairAsyncQueuePool
from salon.store.group_commit import GroupCommit
from salon.store.wal_checkpointer import WalCheckpointer

T = TypeVar("T")

log = logging.getLogger("salon.store")


#: PostgreSQL connections each node keeps open (PostgreSQL's default `max_connections`,
#: 100, serves four nodes).
POSTGRES_POOL_SIZE = 20


#: What a database that is down or busy for a moment raises (a PostgreSQL failover, a
#: refused connection, SQLite's "database is locked").
UNAVAILABLE: tuple[type[BaseException], ...] = (DBAPIError, OSError)


class Outages:
    """For a loop that only mirrors rows onto running work (a recorder, an encoder):
    `with outages:` around one tick's database work swallows `UNAVAILABLE`, so the work
    goes on and the next tick asks again, with one warning per outage, not per tick."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.down = False

    def __enter__(self) -> "Outages":
        return self

    def __exit__(self, kind: Any, error: BaseException | None, trace: Any) -> bool:
        if error is None:
            self.down = False
            return False
        if not isinstance(error, UNAVAILABLE):
            return False
        if not self.down:
            log.warning("%s: the database did not answer (%s); it goes on", self.what,
                        error)
        self.down = True
        return True


class Database:
    def __init__(self, settings: Settings) -> None:
        url = settings.resolved_database_url
        self.is_sqlite = url.startswith("sqlite")
        #: Runs the WAL checkpoints once the server starts it; SQLite's own are off then.
        self.checkpointer: WalCheckpointer | None = None
        if self.is_sqlite:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            self.path = url.split(":///", 1)[1]
            self.engine: AsyncEngine = create_async_engine(
                url, async_creator=sqlite_inline.creator(self.path),
                poolclass=FairAsyncQueuePool, pool_size=1, max_overflow=0, pool_timeout=60,
            )
            _tune_sqlite(self.engine, lambda: 0 if self.checkpointer else 1000)
        else:
            # No overflow: a connection beyond the pool would be opened for one request
            # and closed on its return, and a PostgreSQL backend's start (a fork, its
            # caches) costs more CPU than many requests. Under a burst, requests wait
            # their turn for one of the pool's connections instead (fairly, in order).
            self.engine = create_async_engine(url, poolclass=FairAsyncQueuePool,
                                              pool_size=POSTGRES_POOL_SIZE, max_overflow=0,
                                              pool_timeout=60)
        #: Each session knows its database (`info["database"]`), so that what a commit
        #: carried can be told to this process (`on_webhooks_committed`).
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False,
                                           info={"database": self})
        #: Called after a session's commit that queued webhook deliveries
        #: (`webhooks.outbox`); the dispatcher sets it to its `wake`.
        self.on_webhooks_committed: Callable[[], None] | None = None
        #: Writes of one kind batched per database (`store.group_commit`), by kind.
        self.group_commits: dict[str, GroupCommit[Any, Any]] = {}

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session

    async def transact(self, work: Callable[[Connection], T]) -> T:
        """Run `work` on a Core connection in one transaction, committed when it returns.

        For hot paths: `work` is one synchronous block in one greenlet, without the ORM
        session's state tracking, where each awaited statement of an `AsyncSession` costs
        a greenlet switch and bookkeeping. An exception rolls the transaction back.
        """
        return await greenlet_spawn(self._transact, work)

    async def run_alone(self, work: Callable[[Connection], T]) -> T:
        """`transact` for `work` whose one write is a single statement (atomic by itself):
        on PostgreSQL it runs in autocommit, one round trip instead of three (BEGIN, the
        statement, COMMIT) — the cost of the hottest writes is mostly PostgreSQL's, per
        message. What `work` reads after a statement that changed nothing is only to say
        why."""
        if self.is_sqlite:
            return await self.transact(work)
        return await greenlet_spawn(self._run_alone, work)

    def _transact(self, work: Callable[[Connection], T]) -> T:
        with self.engine.sync_engine.begin() as connection:
            return work(connection)

    def _run_alone(self, work: Callable[[Connection], T]) -> T:
        with self.engine.sync_engine.connect() as connection:
            return work(connection.execution_options(isolation_level="AUTOCOMMIT"))

    async def start_upkeep(self) -> None:
        """For the server: on SQLite, WAL checkpoints move off the event loop
        (`wal_checkpointer`). Other users (the CLI, tests) keep SQLite's own."""
        if not self.is_sqlite or self.checkpointer is not None:
            return
        self.checkpointer = WalCheckpointer(self.path, writes_paused=self._writer)
        async with self._writer() as connection:  # the pooled connection already open
            connection.execute("PRAGMA wal_autocheckpoint=0")
        self.checkpointer.start()

    @asynccontextmanager
    async def _writer(self) -> AsyncIterator[sqlite3.Connection]:
        """The server's own sqlite3 connection, its turn taken in the pool, outside any
        transaction."""
        async with self.engine.connect() as connection:
            raw = await connection.get_raw_connection()
            yield raw.driver_connection.sqlite

    async def dispose(self) -> None:
        if self.checkpointer is not None:
            await self.checkpointer.stop()
            self.checkpointer = None
        await self.engine.dispose()


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _tune_sqlite(engine: AsyncEngine, autocheckpoint: Callable[[], int]) -> None:
    """`autocheckpoint`: the pages after which a commit checkpoints, asked per connection."""
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            "busy_timeout=5000",
            f"wal_autocheckpoint={autocheckpoint()}",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()
        # SQLite's own lower() folds ASCII only: searches are case-insensitive in every
        # script, as on PostgreSQL ("école" finds "École").
        dbapi_connection.create_function("lower", 1, _lower, deterministic=True)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Straight to sqlite3: every transaction begins here, and a statement through
        # SQLAlchemy's execution machinery costs more than BEGIN itself.
        connection.connection.driver_connection.begin_immediate()
