"""Short garbage-collection pauses for a server that holds many long-lived objects.

CPython's cyclic collector walks every tracked object on a full (generation 2)
collection. A node with a 3,000-peer webinar tracks a million or so, almost all alive
for the whole session, and full collections then stopped the event loop for 0.3–0.9 s
at a time (a gc callback timing them during bench/realtime.py --webinar): every message
to every peer waited, and the fan-out's p99 was those pauses.

So after each full collection, what survived it is frozen (`gc.freeze`): moved out of
the collector's sight, so the next full collection walks only what is newer. Frozen
objects are still freed by reference counting as usual; only a cycle among them that
becomes garbage waits, until the periodic sweep (`sweep_secs`, default 10 minutes)
unfreezes everything and collects it all once. One long pause per sweep instead of
several a minute; memory held by dead cycles is bounded by what one sweep interval
leaves.

Freezing is not done inside the gc callback (which may run on any thread, in the middle
of anything): the callback only notes that a full collection ended, and a timer on the
event loop freezes within `check_secs`.
"""

import asyncio
import gc
import logging
import time
from typing import Any

log = logging.getLogger(__name__)


class FrozenGenerations:
    def __init__(self, sweep_secs: float = 600.0, check_secs: float = 0.5) -> None:
        self.sweep_secs = sweep_secs
        self.check_secs = check_secs
        self.full_collections = 0  # seen since start, for tests and diagnostics
        self.sweeps = 0
        self._collected_full = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        gc.freeze()  # everything made while starting lives as long as the process
        gc.callbacks.append(self._noted)
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._noted in gc.callbacks:
            gc.callbacks.remove(self._noted)
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    def _noted(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "stop" and info.get("generation") == 2:
            self._collected_full = True

    async def _run(self) -> None:
        next_sweep = time.monotonic() + self.sweep_secs
        while True:
            await asyncio.sleep(self.check_secs)
            if self._collected_full:
                self._collected_full = False
                self.full_collections += 1
                gc.freeze()
            if time.monotonic() >= next_sweep:
                next_sweep = time.monotonic() + self.sweep_secs
                self.sweep()

    def sweep(self) -> None:
        """Collect everything once, frozen objects included, then freeze the survivors."""
        began = time.perf_counter()
        gc.unfreeze()
        found = gc.collect()
        gc.freeze()
        self.sweeps += 1
        log.debug("gc sweep: %d unreachable objects freed in %.0f ms", found,
                  1000 * (time.perf_counter() - began))
