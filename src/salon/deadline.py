"""`within`: `asyncio.wait_for` without Python 3.11's lost cancellation.

On Python 3.11, `asyncio.wait_for(aw, t)` returns the result of `aw` when `aw` completes
in the same loop iteration in which the waiting task is cancelled, and the cancellation
is gone (CPython gh-86296, fixed in 3.12 by rebuilding `wait_for` on `asyncio.timeout`).
A loop such as `while True: await wait_for(wake.wait(), poll)` then goes on after its
`stop()` cancelled it, and the `await task` in that `stop()` never returns: a server
that hangs at shutdown, once in a while, when a wake-up and the stop coincide.
`asyncio.timeout` keeps the cancellation, so `within` is built on it; salon uses it
wherever it bounds a wait.
"""

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def within(awaitable: Awaitable[T], seconds: float | None) -> T:
    """Await `awaitable`, or raise `TimeoutError` after `seconds` (None: no bound),
    cancelling it, as `asyncio.wait_for` does; a cancellation of the caller is never
    lost, also when `awaitable` finishes at the same moment."""
    async with asyncio.timeout(seconds):
        return await awaitable
