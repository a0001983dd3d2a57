"""Group commit: many requests' writes of one kind in one statement.

Each INSERT that commits on its own costs PostgreSQL a statement, a commit and a WAL
flush; in a cluster every node's writes land on that one database, so its CPU per
write is what bounds the cluster (docs/cluster.md "Sizing"). A `GroupCommit` writes
whatever requests of its kind are waiting as one batch: the first request of a quiet
moment goes at once (with any that came in the same turn of the event loop); those
that arrive while a batch is in flight wait for it and go together in the next.
Nothing waits on a timer, so a lone request is as quick as before and a busy node
sends fewer, larger statements.

Each request still gets its own answer, after the batch that holds it has committed:
`write` answers each item with a result or an exception of its own. A request that gave
up while waiting (its client went away) is left out of the batch, as a request that
gave up before its statement was sent writes nothing.
"""

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: The most requests one batch writes (one statement's parameters stay small).
MAX_BATCH = 64


class GroupCommit(Generic[T, R]):
    """`await submit(item)` → `write(batch)`'s answer for that item. `write` gets the
    waiting items in arrival order and returns one answer per item: a result, or an
    exception that item's request raises. If `write` raises, every item of the batch
    gets that exception."""

    def __init__(self, write: Callable[[list[T]], Awaitable[Sequence[R | Exception]]],
                 max_batch: int = MAX_BATCH) -> None:
        self.write = write
        self.max_batch = max_batch
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._writer: asyncio.Task[None] | None = None
        #: Batches written and items in them (figures for tests and benchmarks).
        self.batches = self.items = 0

    async def submit(self, item: T) -> R:
        answer: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, answer))
        if self._writer is None or self._writer.done():
            # a context of its own: it writes for many requests, not the first one's
            self._writer = asyncio.create_task(self._write_while_waiting(),
                                               name="group commit",
                                               context=contextvars.Context())
        return await answer

    async def _write_while_waiting(self) -> None:
        while self._waiting:
            batch = [(item, answer) for item, answer in self._waiting[:self.max_batch]
                     if not answer.done()]
            del self._waiting[:self.max_batch]
            if not batch:
                continue
            self.batches += 1
            self.items += len(batch)
            try:
                answers = await self.write([item for item, _ in batch])
                if len(answers) != len(batch):
                    raise RuntimeError(f"a batch of {len(batch)} got {len(answers)} answers")
            except BaseException as error:  # each request hears it, as if it wrote alone
                if not isinstance(error, Exception):  # cancelled: nobody is left waiting
                    batch += self._waiting
                    self._waiting.clear()
                for _, answer in batch:
                    if not answer.done():
                        answer.set_exception(error)
                if not isinstance(error, Exception):
                    raise
                continue
            for (_, answer), result in zip(batch, answers, strict=True):
                if answer.done():  # a request that gave up meanwhile
                    continue
                if isinstance(result, Exception):
                    answer.set_exception(result)
                else:
                    answer.set_result(result)
