"""Chat messages stored in batches, one transaction for all that arrived together.

Every chat message is stored before anyone sees it. On SQLite the server has one
connection, handed to waiters in arrival order (`salon.store.fair_pool`); a waiter
resumes on the event loop's next turn, so once a few messages queue for the connection,
they go through at one per turn. In a 3,000-peer webinar a turn carries a fan-out to
everyone (tens of milliseconds), the audience chats at 20 messages a second, and the
queue then only grew: messages waited seconds before they were stored and sent
(bench/realtime.py --webinar).

So the first message to arrive writes, and everything that arrives while it waits for
the connection goes in the same transaction: one connection turn per batch, not per
message. Each message has its own savepoint, so one that fails its checks (a reply to a
deleted message, a file that is not there) fails alone; a failed commit fails the batch,
and nothing of it was stored. Callers get exactly what `chat.add` would have given them.
"""

import asyncio
from dataclasses import dataclass, field
from typing import Any

from salon.core.room.chat import Draft
from salon.services import chat
from salon.store.database import Database
from salon.store.models import ChatMessage


@dataclass
class _Pending:
    app_id: str
    draft: Draft
    options: dict[str, Any]
    future: asyncio.Future[ChatMessage] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future())


class ChatWriter:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._pending: list[_Pending] = []
        self._writing = False
        self._successor: asyncio.Task[None] | None = None
        self.batches = 0  # transactions committed, for tests and diagnostics

    async def add(self, app_id: str, draft: Draft, **options: Any) -> ChatMessage:
        """Store one message (the keyword arguments of `chat.add`); returns its row once
        it is committed."""
        mine = _Pending(app_id, draft, options)
        self._pending.append(mine)
        if not self._writing:
            await self._lead()
        return await mine.future

    async def _lead(self) -> None:
        """Write batches until nothing is pending. A leader cancelled on the way hands
        what is left to a task, so no message waits for a writer that is gone."""
        self._writing = True
        try:
            while self._pending:
                await self._write_batch()
        finally:
            self._writing = False
            if self._pending:
                self._successor = asyncio.create_task(self._lead())

    async def _write_batch(self) -> None:
        """Everything pending once the connection is ours, in one transaction."""
        batch: list[_Pending] = []
        outcomes: list[tuple[_Pending, ChatMessage | None, BaseException | None]] = []
        try:
            async with self.database.session() as db:
                await db.connection()  # wait for the connection first: more may arrive
                batch, self._pending = self._pending, []
                for item in batch:
                    try:
                        async with db.begin_nested():
                            row = await chat.add(db, item.app_id, item.draft, commit=False,
                                                 **item.options)
                        outcomes.append((item, row, None))
                    except Exception as error:
                        outcomes.append((item, None, error))
                await db.commit()
                self.batches += 1
        except BaseException as error:  # nothing of the batch was stored
            for item in batch:
                if not item.future.done():
                    item.future.set_exception(error)
            if not isinstance(error, Exception):
                raise
            return
        for item, row, failure in outcomes:
            if item.future.done():
                continue
            if failure is not None:
                item.future.set_exception(failure)
            else:
                item.future.set_result(row)  # type: ignore[arg-type]
