"""A connection pool that hands connections out in arrival order.

SQLAlchemy's async queue pool lets a newcomer take a connection that was just returned
even while others wait for it, and a woken waiter that loses that race goes to the back
of the line. With SQLite's single connection under load that starves some requests for
hundreds of milliseconds while most pass in a few. Here a returned connection goes
straight to the longest waiter, and nobody takes one past a waiter.
"""

import asyncio
from collections import deque
from typing import Any

from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.util import await_
from sqlalchemy.util.queue import AsyncAdaptedQueue, Empty

from salon.deadline import within


class FairQueue(AsyncAdaptedQueue[Any]):
    def __init__(self, maxsize: int = 0, use_lifo: bool = False) -> None:
        super().__init__(maxsize, use_lifo)
        self._waiters: deque[asyncio.Future[Any]] = deque()

    def _live_waiters(self) -> bool:
        while self._waiters and self._waiters[0].done():
            self._waiters.popleft()  # cancelled or timed out
        return bool(self._waiters)

    def put_nowait(self, item: Any) -> None:
        if self._live_waiters():
            self._waiters.popleft().set_result(item)
        else:
            super().put_nowait(item)

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        self.put_nowait(item)

    def get_nowait(self) -> Any:
        if self._live_waiters():
            raise Empty()
        return super().get_nowait()

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        if not self._live_waiters() and not self.empty():
            return super().get_nowait()
        if not block:
            raise Empty()
        waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await_(within(asyncio.shield(waiter), timeout))
        except BaseException as error:  # timed out, or the waiting task was cancelled
            if waiter.done() and not waiter.cancelled():
                self.put_nowait(waiter.result())  # it arrived as we gave up: pass it on
            else:
                waiter.cancel()  # so nobody hands a connection to a waiter that left
            if isinstance(error, TimeoutError):
                raise Empty() from error
            raise


class FairAsyncQueuePool(AsyncAdaptedQueuePool):
    _queue_class = FairQueue  # type: ignore[assignment]
