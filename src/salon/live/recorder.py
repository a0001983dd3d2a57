"""Persists a room's records in the order the room made them, off the room's path.

A record that fails to persist is handled by why it failed:

- the database is unreachable or busy (a lost connection, a lock, a full pool): the
  record is retried, with backoff capped at a few seconds and no attempt limit, since
  the same write will succeed once the database is back. Records behind it wait, so
  the order holds. Only shutdown bounds the wait (`drain(grace=…)`, `give_up_after`).
- anything else (data the database refuses, a broken invariant): retrying cannot help
  and would hold up every record behind it, so the record is logged once, in full, as a
  dead letter, and the recorder moves on at once.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession

from salon.core.room import Record
from salon.deadline import within
from salon.services import session_records
from salon.services.chat_export import ExportLinks
from salon.store.database import Database

log = logging.getLogger("salon.live")

RETRY_BASE_SECS = 0.2
#: Records written in one transaction at most, when several are waiting.
BATCH = 200
RETRY_MAX_SECS = 5.0

#: SQLite primary result codes of a busy or unavailable database, not of bad data:
#: BUSY, LOCKED, IOERR, FULL, CANTOPEN, PROTOCOL.
_SQLITE_TRANSIENT = {5, 6, 10, 13, 14, 15}
#: PostgreSQL SQLSTATE classes of the same: connection exception, transaction rollback
#: (serialization failure, deadlock), insufficient resources, operator intervention
#: (shutdown, cannot connect now), system error; and lock_not_available.
_PG_TRANSIENT_CLASSES = {"08", "40", "53", "57", "58"}
_PG_TRANSIENT_STATES = {"55P03"}

Apply = Callable[[AsyncSession, str, Record, ExportLinks], Awaitable[int]]


def transient(error: BaseException) -> bool:
    """Whether a failed write may succeed later as it is: the database was unreachable
    or busy, rather than refusing the data."""
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return True
        orig = error.orig
        code = getattr(orig, "sqlite_errorcode", None)
        if isinstance(code, int):
            return code & 0xFF in _SQLITE_TRANSIENT
        state = getattr(orig, "sqlstate", None)
        if isinstance(state, str) and state:
            return state[:2] in _PG_TRANSIENT_CLASSES or state in _PG_TRANSIENT_STATES
        return isinstance(orig, OSError)
    # A pool with no connection to give in time; a network error while connecting.
    return isinstance(error, sa_exc.TimeoutError | OSError)


class Recorder:
    def __init__(self, database: Database, app_id: str, links: ExportLinks,
                 on_commit: Callable[[], None] | None = None, *,
                 apply: Apply = session_records.apply,
                 retry_base_secs: float = RETRY_BASE_SECS,
                 retry_max_secs: float = RETRY_MAX_SECS) -> None:
        self.database = database
        self.app_id = app_id
        self.links = links
        #: Called after a commit that queued webhook deliveries (wakes the dispatcher).
        self.on_commit = on_commit
        self._apply = apply
        self._retry_base = retry_base_secs
        self._retry_max = retry_max_secs
        #: Shutting down: past this loop time, a record is given up if the database is
        #: still unavailable.
        self._deadline: float | None = None
        self._hurry = asyncio.Event()
        #: Sequence numbers: records queued so far, and how many of them are done with
        #: (persisted, or given up as dead letters), in order.
        self.queued = 0
        self.done = 0
        self._progress = asyncio.Condition()
        self.queue: asyncio.Queue[Record | None] = asyncio.Queue()
        self.task = asyncio.create_task(self._run(), name=f"recorder {app_id}")

    def put(self, record: Record) -> None:
        self.queued += 1
        self.queue.put_nowait(record)

    def settled(self) -> Awaitable[None]:
        """Wait until the records queued before this call are done with (read-your-writes
        for REST); records queued meanwhile are not waited for. The mark is taken when
        this is called, not when the result is first awaited."""
        return self._reach(self.queued)

    async def _reach(self, target: int) -> None:
        if self.done >= target:
            return
        async with self._progress:
            await self._progress.wait_for(lambda: self.done >= target)

    async def drain(self, grace: float | None = None) -> None:
        """Persist everything queued so far, then stop. With `grace`, an unavailable
        database is waited out for that many seconds at most (see `give_up_after`)."""
        if grace is not None:
            self.give_up_after(grace)
        self.queue.put_nowait(None)
        await self.task

    def give_up_after(self, grace: float) -> None:
        """Shutting down: stop retrying `grace` seconds from now. A record that still
        cannot be written then gets one last attempt (without a pause after it) and is
        logged as a dead letter; each record behind it gets a single attempt."""
        deadline = asyncio.get_running_loop().time() + grace
        if self._deadline is None or deadline < self._deadline:
            self._deadline = deadline
        self._hurry.set()  # a pause in progress is shortened to the deadline

    async def _run(self) -> None:
        stopping = False
        while not stopping and (record := await self.queue.get()) is not None:
            batch = [record]
            while len(batch) < BATCH and not self.queue.empty():
                more = self.queue.get_nowait()
                if more is None:
                    stopping = True
                    break
                batch.append(more)
            await self._persist_batch(batch)

    async def _persist_batch(self, batch: list[Record]) -> None:
        """Several waiting records in one transaction (a burst of joins); if that fails
        for any reason, each on its own, with the rules for one record (retries, dead
        letters), so one bad record never holds up or loses the others."""
        if len(batch) > 1 and self._apply is session_records.apply:
            try:
                async with self.database.session() as db:
                    queued = await session_records.apply_many(db, self.app_id, batch,
                                                              self.links)
            except Exception:
                log.info("persisting %d records at once failed; one by one", len(batch))
            else:
                if queued and self.on_commit is not None:
                    try:
                        self.on_commit()
                    except Exception:
                        log.exception("on_commit failed after persisting %d records",
                                      len(batch))
                await self._advance(len(batch))
                return
        for record in batch:
            await self._persist(record)
            await self._advance(1)

    async def _advance(self, count: int) -> None:
        self.done += count
        async with self._progress:
            self._progress.notify_all()

    async def _persist(self, record: Record) -> None:
        loop = asyncio.get_running_loop()
        attempt = 0
        while True:
            attempt += 1
            try:
                async with self.database.session() as db:
                    queued = await self._apply(db, self.app_id, record, self.links)
            except Exception as error:
                if not transient(error):
                    log.error("dead letter: %s record not persisted, and not retried (the "
                              "database refused it): %r", record.kind, record, exc_info=True)
                    return
                if self._deadline is not None and loop.time() >= self._deadline:
                    log.error("dead letter: %s record not persisted after %d attempts; the "
                              "database was still unavailable at shutdown (%s): %r",
                              record.kind, attempt, error, record)
                    return
                if attempt == 1 or attempt % 10 == 0:
                    log.warning("persisting %s record: the database is unavailable (%s); "
                                "retrying (attempt %d)", record.kind, error, attempt)
                await self._pause(min(self._retry_max, self._retry_base * 2 ** (attempt - 1)))
                continue
            if attempt > 1:
                log.info("persisted %s record after %d attempts", record.kind, attempt)
            if queued and self.on_commit is not None:
                try:
                    self.on_commit()
                except Exception:
                    log.exception("on_commit failed after persisting %s", record.kind)
            return

    async def _pause(self, delay: float) -> None:
        """Sleep `delay` seconds, but not past the deadline, even one set meanwhile."""
        loop = asyncio.get_running_loop()
        until = loop.time() + delay
        while True:
            if self._deadline is not None:
                until = min(until, self._deadline)
            left = until - loop.time()
            if left <= 0:
                return
            self._hurry.clear()
            try:
                await within(self._hurry.wait(), left)
            except TimeoutError:
                return
