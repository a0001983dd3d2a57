"""Event-loop lag: how late the loop runs a timer that is due.

Everything in a salon process — REST, every room, media forwarding — shares one event
loop; a callback that hogs it delays all of them. A task sleeps `INTERVAL_SECS` and
notes how much later than asked it woke (`salon_event_loop_lag_seconds`): four wake-ups
a second, nothing on any other path.
"""

import asyncio
import contextlib
from collections.abc import Callable

INTERVAL_SECS = 0.25


class LoopLagProbe:
    def __init__(self, observe: Callable[[float], None],
                 interval: float = INTERVAL_SECS) -> None:
        self.observe = observe
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="event loop lag probe")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + self.interval
            await asyncio.sleep(self.interval)
            self.observe(max(0.0, loop.time() - due))
