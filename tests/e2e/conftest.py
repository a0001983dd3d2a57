"""Fixtures for the browser tests: a salon server with loopback ICE, and Chromium people
whose screenshots and console logs are kept in test-artifacts/<test>/ when a test fails
(and the server's log in test-artifacts/server.log)."""

import re
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import async_playwright, expect

from salon.client import AdminClient
from tests.e2e.browser import Browsers
from tests.live import FAST, admin_for
from tests.servers import SalonServer, cleanup, start

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

#: Two browser tests run side by side (scripts/test-netns), each with its Chromium: a page
#: may take longer than Playwright's default 5 s to show what a test waits for.
expect.set_options(timeout=10_000)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # noqa: ANN201
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def web_server(request: pytest.FixtureRequest) -> Iterator[SalonServer]:
    salon = start("", env={**FAST, "SALON_ICE_HOSTS": "127.0.0.1"})
    try:
        yield salon
        log = salon.log()
        at = log.find("Traceback")
        if at >= 0 or request.session.testsfailed:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            (ARTIFACTS / "server.log").write_text(log)
        # Bad input must never crash the server: no traceback may reach its log.
        assert at < 0, log[max(0, at - 3000):at + 12000]
    finally:
        cleanup(salon)


@pytest.fixture(autouse=True)
def server_log_clean(web_server: SalonServer) -> Iterator[None]:
    """The test's own part of the server log has no traceback: its browsers leaving
    included, so the test that caused one is the one that fails."""
    start_at = len(web_server.log())
    yield
    time.sleep(0.5)  # the server handles the browsers' departures
    log = web_server.log()
    at = log.find("Traceback", start_at)
    assert at < 0, log[max(start_at, at - 3000):at + 12000]


@pytest.fixture
async def web_admin(web_server: SalonServer) -> AsyncIterator[AdminClient]:
    async with admin_for(web_server) as client:
        yield client


@pytest.fixture
async def browsers(request: pytest.FixtureRequest) -> AsyncIterator[Browsers]:
    async with async_playwright() as playwright:
        people = Browsers(playwright)
        try:
            yield people
        finally:
            report = getattr(request.node, "report_call", None)
            if report is None or report.failed:
                name = re.sub(r"[^\w.-]+", "_", request.node.name)
                await people.save(ARTIFACTS / name)
            await people.close()
