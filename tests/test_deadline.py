"""`salon.deadline.within`, the bounded wait every part of salon uses: it times out as
`asyncio.wait_for` does, and keeps a cancellation that Python 3.11's `wait_for` loses
when the awaited thing finishes in the same loop iteration (a `stop()` then waits for a
task that goes on forever)."""

import asyncio

import pytest

from salon.deadline import within


async def _wakeable_loop(wake: asyncio.Event, wakes: list[int]) -> None:
    """The shape of salon's schedulers and dispatchers: wait for a wake-up or a poll."""
    while True:
        try:
            await within(wake.wait(), 30)
        except TimeoutError:
            pass
        wake.clear()
        wakes.append(1)


async def test_a_loop_stopped_as_it_is_woken_stops() -> None:
    wake, wakes = asyncio.Event(), []
    task = asyncio.create_task(_wakeable_loop(wake, wakes))
    await asyncio.sleep(0.01)
    wake.set()  # the loop is woken...
    task.cancel()  # ...and stopped before it runs again
    async with asyncio.timeout(2):  # with asyncio.wait_for on 3.11 the loop goes on
        with pytest.raises(asyncio.CancelledError):
            await task
    assert wakes == []


async def test_it_times_out_and_cancels_what_it_waited_for() -> None:
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def slow() -> None:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(TimeoutError):
        await within(slow(), 0.05)
    assert started.is_set() and cancelled.is_set()


async def test_it_returns_the_result_and_takes_no_bound() -> None:
    async def answer() -> int:
        await asyncio.sleep(0.01)
        return 42

    assert await within(answer(), 1) == 42
    assert await within(answer(), None) == 42
