"""SQLite WAL checkpoints, moved off the event loop.

In WAL mode every commit appends pages to `salon.db-wal`; a checkpoint copies them back
into `salon.db` so the log can start over. By default SQLite does that inside whichever
COMMIT pushes the log past 1000 pages. salon's connection commits on the event loop
(`sqlite_inline`), so that one commit took 4-15 ms instead of microseconds and every
request in flight waited behind it: under bench/api.py's load, one loop turn in six
(most of add-participant's p99 then; on a disk with slow fsync, far worse).

So the server turns automatic checkpoints off on its connection and runs them here:

1. A PASSIVE checkpoint on a second connection, in a worker thread. sqlite3 releases
   the GIL while it copies, and PASSIVE never blocks the writer, so requests go on.
2. SQLite starts the log over only at a write that finds every frame in it copied. When
   writes pause, step 1 gets there by itself; under steady load a commit always lands
   while step 1 copies, and the log would grow for as long as the load lasts. So once
   it holds `restart_frames` (64 MB of 4 KiB pages), the next round takes the server's
   connection (its turn in the pool, so nothing writes) while the thread copies the
   rest, and the next write starts the log over. Requests that need the database wait
   those few milliseconds; the event loop, and so media and realtime, does not.
"""

import asyncio
import contextlib
import logging
import os
import sqlite3
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from salon.deadline import within

log = logging.getLogger(__name__)

#: SQLite's WAL header (magic, version, page size, checkpoint sequence, salts, checksum).
WAL_HEADER_BYTES = 32
#: (busy, frames in the log, frames copied), as `PRAGMA wal_checkpoint` answers.
Progress = tuple[int, int, int]


def checkpoint(connection: sqlite3.Connection) -> Progress:
    """One PASSIVE checkpoint: copies what no reader still needs, waits for nobody."""
    busy, logged, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return busy, logged, copied


class WalCheckpointer:
    """Checkpoints `path`'s WAL every `interval` seconds while started.

    `writes_paused` holds the server's own connection (waiting its turn in the pool),
    so that nothing in the server writes while it is held.
    """

    def __init__(self, path: str,
                 writes_paused: Callable[[], AbstractAsyncContextManager[object]],
                 interval: float = 0.25, restart_frames: int = 16384) -> None:
        self.path = path
        self.writes_paused = writes_paused
        self.interval = interval
        self.restart_frames = restart_frames
        self.rounds = 0  # completed rounds (not skipped ones), for tests and diagnostics
        #: The log's (size, mtime, header) after a round that copied all of it.
        self._settled: tuple[int, int, bytes] | None = None
        self._connection: sqlite3.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def start(self) -> None:
        self._stopping = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="salon-wal-checkpointer")

    async def stop(self) -> None:
        """Ends after the round under way, if any: its thread uses the connection."""
        if self._task is not None:
            self._stopping.set()
            await self._task
            self._task = None
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def run_once(self) -> None:
        """One round: copy in a thread; past `restart_frames`, again with writes paused.
        A round finds nothing to do, and is skipped, when the log has not changed since
        a round that copied all of it (an idle server then wakes no thread)."""
        seen = self._wal_state()
        if seen is not None and seen == self._settled:
            return
        _, logged, copied = await asyncio.to_thread(self._checkpoint_in_thread)
        if logged >= self.restart_frames:
            async with self.writes_paused():
                _, logged, copied = await asyncio.to_thread(self._checkpoint_in_thread)
        # a commit during the round changes the log again, so the next round is not skipped
        self._settled = seen if copied >= logged else None
        self.rounds += 1

    def _wal_state(self) -> tuple[int, int, bytes] | None:
        """The log file's size, modification time and header (None: no log file). The
        header's salts change when a writer starts the log over, which may leave the
        size as it was, within one tick of the file system's clock."""
        try:
            with open(self.path + "-wal", "rb") as wal:
                status = os.fstat(wal.fileno())
                header = wal.read(WAL_HEADER_BYTES)
        except OSError:
            return None
        return status.st_size, status.st_mtime_ns, header

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await within(self._stopping.wait(), self.interval)
            if self._stopping.is_set():
                return
            try:
                await self.run_once()
            except sqlite3.Error as error:  # a full disk, say: retried next round
                log.warning("WAL checkpoint failed: %s", error)

    def _checkpoint_in_thread(self) -> Progress:
        if self._connection is None:
            # Used by one worker thread at a time, but not always the same one.
            self._connection = sqlite3.connect(self.path, isolation_level=None,
                                               check_same_thread=False)
            self._connection.execute("PRAGMA busy_timeout=5000")
        return checkpoint(self._connection)

