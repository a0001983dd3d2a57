"""Persists a room's records in the order the room made them, off the room's path."""

import asyncio
import logging
from collections.abc import Callable

from salon.core.room import Record
from salon.services import session_records
from salon.services.chat_export import ExportLinks
from salon.store.database import Database

log = logging.getLogger("salon.live")


class Recorder:
    def __init__(self, database: Database, app_id: str, links: ExportLinks,
                 on_commit: Callable[[], None] | None = None) -> None:
        self.database = database
        self.app_id = app_id
        self.links = links
        self.on_commit = on_commit
        self.queue: asyncio.Queue[Record | None] = asyncio.Queue()
        self.task = asyncio.create_task(self._run(), name=f"recorder {app_id}")

    def put(self, record: Record) -> None:
        self.queue.put_nowait(record)

    async def settled(self) -> None:
        """Wait until everything queued so far is persisted (read-your-writes for REST)."""
        await self.queue.join()

    async def drain(self) -> None:
        """Persist everything queued so far, then stop."""
        self.queue.put_nowait(None)
        await self.task

    async def _run(self) -> None:
        while (record := await self.queue.get()) is not None:
            await self._persist(record)
            self.queue.task_done()
        self.queue.task_done()

    async def _persist(self, record: Record) -> None:
        for attempt in range(5):
            try:
                async with self.database.session() as db:
                    await session_records.apply(db, self.app_id, record, self.links)
                break
            except Exception:  # keep the order; a later retry may succeed
                log.exception("persisting %s failed (attempt %d)", record.kind, attempt + 1)
                await asyncio.sleep(0.2 * 2**attempt)
        if self.on_commit is not None:
            self.on_commit()
