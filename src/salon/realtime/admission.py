"""Join back-pressure: a bounded queue in front of joining, so a saturated node answers
"come back in N seconds" instead of letting joins time out.

A join costs a database read (the participant's token) and a room command. At most
`concurrency` joins run at once; up to `queue` more wait their turn, each at most
`max_wait` seconds. A join past the queue, or one that waited too long, is refused with
`SERVER_BUSY` and `retry_after` (whole seconds): the time the joins ahead of it should
take, from the recent average join time. Resumes go through the gate too: they cost the
same. (docs/protocol.md "Connecting"; docs/large-rooms.md "Back-pressure".)
"""

import asyncio
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from salon.deadline import within


class Busy(Exception):
    """The node is saturated: join again after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


class JoinGate:
    def __init__(self, concurrency: int, queue: int, max_wait: float = 5.0) -> None:
        self.concurrency = concurrency
        self.queue = queue
        self.max_wait = max_wait
        self._slots = asyncio.Semaphore(concurrency)
        self.waiting = 0
        #: Recent seconds per join (an exponential moving average), for `retry_after`.
        self.join_secs = 0.05

    def retry_after(self) -> int:
        """Seconds until the joins ahead (waiting and running) should be done; >= 1."""
        ahead = self.waiting + self.concurrency
        return max(1, math.ceil(ahead / self.concurrency * self.join_secs))

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of the join slots for the body, or raise Busy."""
        if self.waiting >= self.queue and self._slots.locked():
            raise Busy(self.retry_after())
        self.waiting += 1
        try:
            await within(self._slots.acquire(), self.max_wait)
        except TimeoutError:
            raise Busy(self.retry_after()) from None
        finally:
            self.waiting -= 1
        began = time.monotonic()
        try:
            yield
        finally:
            self._slots.release()
            self.join_secs = 0.9 * self.join_secs + 0.1 * (time.monotonic() - began)
