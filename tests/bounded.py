"""A time bound on every async test, applied inside the test's own event loop.

A test that awaits something that never comes would otherwise hold its pytest-xdist
worker until CI's own limit, and say nothing of where it waited. Here it is cancelled
after `TEST_BOUND_SECS` (the slowest test takes about a third of it), and fails with a
traceback through the await it was stuck in. Cancelling inside the loop, rather than
with a signal, leaves the session's shared loop (pyproject: loop scope "session") in a
state the next test can use.
"""

import asyncio
import functools
import inspect
import os
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

TEST_BOUND_SECS = float(os.environ.get("SALON_TEST_BOUND_SECS", "600"))


class TestOverran(AssertionError):
    """The test still ran at its bound (the traceback shows the await it was in)."""


def bounded(test: Callable[..., Coroutine[Any, Any, Any]],
            secs: float) -> Callable[..., Coroutine[Any, Any, Any]]:
    @functools.wraps(test)
    async def run(*args: Any, **kwargs: Any) -> Any:
        try:
            async with asyncio.timeout(secs):
                return await test(*args, **kwargs)
        except TimeoutError as error:
            raise TestOverran(f"{test.__name__} still ran after {secs:g} s; the "
                              "traceback above shows where it waited") from error
    return run


def bound_async_tests(items: list[pytest.Item], secs: float = TEST_BOUND_SECS) -> None:
    """Wrap each collected coroutine test (pytest-asyncio runs `item.obj` as it finds it
    at run time; its fixtures were read from the original signature at collection)."""
    for item in items:
        function = getattr(item, "obj", None)
        if isinstance(item, pytest.Function) and inspect.iscoroutinefunction(function):
            item.obj = bounded(function, secs)
