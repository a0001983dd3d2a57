"""Recordings from the meeting page: a host with `can_record` starts, pauses, resumes and
stops a recording from the control bar (reached by keyboard) and everyone sees the
indicator, announced to screen readers; a guest gets no control, and a request forged
from its page is refused by the server; an operator's REST start shows the indicator
too. The server records with the test recorder (tests/fake_recorder.py, a real MP4).
Screenshots at desktop and phone sizes are kept in test-artifacts/recording_indicator/."""

import asyncio
import re
import time
from collections.abc import Iterator

import pytest
from playwright.async_api import Page, expect

from salon.client import AdminClient
from tests.e2e.browser import Browsers, HostAndGuest, Person, host_and_guest, reveal, tab_to
from tests.e2e.conftest import ARTIFACTS
from tests.live import FAST
from tests.recording_helpers import RECORDING_ENV
from tests.servers import SalonServer, cleanup, start

SHOTS = ARTIFACTS / "recording_indicator"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def web_server() -> Iterator[SalonServer]:
    """This module's own server, recording with the test recorder (it overrides the
    shared `web_server`, so `web_admin` and the log check use it)."""
    salon = start("", env={**FAST, "SALON_ICE_HOSTS": "127.0.0.1", **RECORDING_ENV})
    try:
        yield salon
        log = salon.log()
        at = log.find("Traceback")
        if at >= 0:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            (ARTIFACTS / "server-recording.log").write_text(log)
        assert at < 0, log[max(0, at - 3000):at + 12000]
    finally:
        cleanup(salon)


async def joined(person: Person, base_url: str, token: str) -> Page:
    await person.open(base_url, token, autojoin=1, audio=0, video=0)
    await person.wait_state("joined")
    return person.page


async def both_joined(server: SalonServer, admin: AdminClient, browsers: Browsers,
                      title: str) -> tuple[HostAndGuest, Page, Page]:
    """A meeting with a host (`can_record`) and a guest (without), both in the page."""
    two = await host_and_guest(admin, browsers, title, names=("Hana Host", "Gus Guest"))
    return (two, await joined(two.host, server.url, two.host_token),
            await joined(two.guest, server.url, two.guest_token))


async def expect_indicator(page: Page, status: str, label: str) -> None:
    indicator = page.get_by_test_id("recording-indicator")
    await expect(indicator).to_be_visible(timeout=20000)
    await expect(indicator).to_have_attribute("data-status", status, timeout=20000)
    await expect(page.get_by_test_id("recording-label")).to_have_text(label)


async def expect_announced(page: Page, text: str) -> None:
    live = page.get_by_test_id("recording-announce")
    await expect(live).to_have_attribute("aria-live", "polite")
    await expect(live).to_have_attribute("role", "status")
    await expect(live).to_contain_text(text, timeout=20000)


async def no_overflow(page: Page) -> None:
    """Nothing sticks out sideways: no horizontal scroll, and the header and control bar
    (with the indicator and the recording buttons) fit in the viewport."""
    found = await page.evaluate("""() => {
        const width = document.documentElement.clientWidth;
        const out = [];
        if (document.documentElement.scrollWidth > width) out.push(`page ${document.documentElement.scrollWidth} > ${width}`);
        for (const el of document.querySelectorAll(".topbar, .topbar > *, .controls, .controls > *")) {
            if (el.hidden || !el.getClientRects().length) continue;
            const r = el.getBoundingClientRect();
            if (r.left < -0.5 || r.right > width + 0.5) out.push(`${el.dataset.testid || el.className} ${r.left}..${r.right} of ${width}`);
        }
        return out;
    }""")
    assert not found, found


async def shoot(people: dict[str, Page], step: str) -> None:
    """Screenshots of every page at desktop and phone sizes, each checked for overflow."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size_name, size in (("desktop", DESKTOP), ("phone", PHONE)):
        for name, page in people.items():
            await page.set_viewport_size(size)
            await page.wait_for_timeout(100)
            await no_overflow(page)
            indicator = page.get_by_test_id("recording-indicator")
            if await indicator.is_visible():  # the whole indicator is on screen
                box = await indicator.bounding_box()
                assert box and box["x"] >= 0 and box["x"] + box["width"] <= size["width"], box
            await page.screenshot(path=str(SHOTS / f"{step}-{name}-{size_name}.png"))
    for page in people.values():
        await page.set_viewport_size(DESKTOP)


async def rest_status(admin: AdminClient, recording_id: str, *statuses: str,
                      timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        data = await admin.call("GET", f"/recordings/{recording_id}")
        if data["status"] in statuses:
            return data
        assert time.monotonic() < deadline, f"{recording_id} is {data['status']}, not {statuses}"
        await asyncio.sleep(0.2)


async def test_the_host_records_from_the_page_and_everyone_sees_it(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    two, host, guest = await both_joined(web_server, web_admin, browsers, "Recorded standup")
    for page in (host, guest):
        await expect(page.get_by_test_id("recording-indicator")).to_be_hidden()

    # Who may record gets the control; the guest (no can_record) gets none.
    record = host.get_by_test_id("btn-record")
    await expect(record).to_be_visible()
    await expect(record).to_have_text("Record")
    await expect(host.get_by_test_id("btn-record-pause")).to_be_hidden()
    await expect(guest.get_by_test_id("btn-record")).to_be_hidden()
    await expect(guest.get_by_test_id("btn-record-pause")).to_be_hidden()
    await shoot({"host": host, "guest": guest}, "1-before")

    # Started by keyboard alone, with no confirmation.
    await tab_to(host, "btn-record")
    await host.keyboard.press("Enter")
    for page in (host, guest):
        await expect_indicator(page, "RECORDING", "Recording")
        await expect_announced(page, "Recording started")
    await expect(record).to_have_text("Stop recording")
    await expect(record).to_be_focused()  # the keyboard stays where it was
    await expect(host.get_by_test_id("btn-record-pause")).to_have_text("Pause recording")
    [active] = await host.evaluate("() => [...window.salon.client.recordings.values()]")
    assert active["status"] == "RECORDING"
    row = await rest_status(web_admin, active["id"], "RECORDING")
    assert row["start_reason"]["caller"]["type"] == "USER"
    assert row["start_reason"]["caller"]["name"] == "Hana Host"
    await shoot({"host": host, "guest": guest}, "2-recording")

    # The guest's page forges the requests through the SDK: the server refuses them.
    codes = await guest.evaluate("""async () => {
        const c = window.salon.client;
        const code = (p) => p.then(() => "ok", (e) => e.code);
        return [await code(c.startRecording()), await code(c.pauseRecording()), await code(c.stopRecording())];
    }""")
    assert codes == ["FORBIDDEN", "FORBIDDEN", "FORBIDDEN"]
    await guest.evaluate("() => window.salon.recording.start()")  # the page's own path: a toast
    refusal = guest.get_by_test_id("toast").and_(guest.locator('[data-code="FORBIDDEN"]'))
    await expect(refusal).to_have_count(1)
    await expect(refusal).to_contain_text("Your role cannot record this meeting.")
    await expect_indicator(host, "RECORDING", "Recording")  # still recording

    # A second start while one records: the server's CONFLICT is shown to the host.
    await host.evaluate("() => window.salon.recording.start()")
    conflict = host.get_by_test_id("toast").and_(host.locator('[data-code="CONFLICT"]'))
    await expect(conflict).to_have_text("Recording: This meeting is already being recorded.")

    # Pause and resume from the control bar (the pause button is reachable by keyboard;
    # on a laptop a host's bar has no room for it, so it is under More).
    await reveal(host, "btn-record-pause")
    await tab_to(host, "btn-record-pause")
    await host.keyboard.press("Enter")
    for page in (host, guest):
        await expect_indicator(page, "PAUSED", "Recording paused")
        await expect_announced(page, "Recording paused")
    await expect(host.get_by_test_id("btn-record-pause")).to_have_text("Resume recording")
    await rest_status(web_admin, active["id"], "PAUSED")
    await shoot({"host": host, "guest": guest}, "3-paused")
    await host.get_by_test_id("btn-record-pause").click()
    for page in (host, guest):
        await expect_indicator(page, "RECORDING", "Recording")
        await expect_announced(page, "Recording resumed")

    # Stop: the indicator goes for everyone, and the file is stored.
    await record.click()
    for page in (host, guest):
        await expect(page.get_by_test_id("recording-indicator")).to_be_hidden(timeout=20000)
        await expect_announced(page, "Recording stopped")
    await expect(record).to_have_text("Record")
    await expect(host.get_by_test_id("btn-record-pause")).to_be_hidden()
    done = await rest_status(web_admin, active["id"], "UPLOADED")
    assert done["stop_reason"]["reason"] == "API_CALL"
    assert await guest.evaluate("() => window.salon.client.recordingStatus") is None


async def test_an_operators_rest_recording_shows_in_every_page(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    two, host, guest = await both_joined(web_server, web_admin, browsers, "Board meeting")

    started = await web_admin.call("POST", "/recordings", json={"meeting_id": two.meeting["id"]})
    for page in (host, guest):
        await expect_indicator(page, "RECORDING", "Recording")
    await expect(host.get_by_test_id("btn-record")).to_have_text("Stop recording")
    await expect(guest.get_by_test_id("btn-record")).to_be_hidden()
    ids = await guest.evaluate("() => [...window.salon.client.recordings.keys()]")
    assert ids == [started["id"]]

    await web_admin.call("PUT", f"/recordings/{started['id']}", json={"action": "pause"})
    for page in (host, guest):
        await expect_indicator(page, "PAUSED", "Recording paused")
    await shoot({"host": host, "guest": guest}, "4-rest-paused")

    # A page opened later learns of the (paused) recording from the join reply.
    await guest.reload()
    await two.guest.wait_state("joined")
    await expect_indicator(guest, "PAUSED", "Recording paused")
    await expect_announced(guest, "This meeting's recording is paused")
    await web_admin.call("PUT", f"/recordings/{started['id']}", json={"action": "resume"})
    for page in (host, guest):
        await expect_indicator(page, "RECORDING", "Recording")

    # The host stops the operator's recording from the page.
    await host.get_by_test_id("btn-record").click()
    for page in (host, guest):
        await expect(page.get_by_test_id("recording-indicator")).to_be_hidden(timeout=20000)
    await rest_status(web_admin, started["id"], "UPLOADED")


async def test_starting_moves_and_a_burst_of_starts(
        web_server: SalonServer, web_admin: AdminClient, browsers: Browsers) -> None:
    two, host, guest = await both_joined(web_server, web_admin, browsers, "All hands")
    # Every label the host's indicator shows, however briefly.
    await host.evaluate("""() => {
        window.labels = [];
        new MutationObserver(() => window.labels.push(document.getElementById("rec-label").textContent))
          .observe(document.getElementById("rec-label"), {childList: true, characterData: true, subtree: true});
    }""")
    await host.get_by_test_id("btn-record").click()
    for page in (host, guest):
        await expect_indicator(page, "RECORDING", "Recording")
    labels = await host.evaluate("() => window.labels")
    assert labels[:2] == ["Starting recording…", "Recording"], labels

    # More starts than the budget (5 a minute): CONFLICT, then RATE_LIMITED with a wait.
    for _ in range(8):
        await host.evaluate("() => window.salon.recording.start()")
        if await host.locator('[data-testid="toast"][data-code="RATE_LIMITED"]').count():
            break
    limited = host.locator('[data-testid="toast"][data-code="RATE_LIMITED"]').first
    await expect(limited).to_have_text(
        re.compile(r"^Recording: Too many recording requests\. Try again in \d+ s\.$"))

    # Moved to a breakout room, the guest is no longer in the recorded meeting; moved
    # back, it is again (the room state of meeting.changed).
    guest_peer = await two.guest.peer_id()
    main_id = two.meeting["id"]
    await host.evaluate("""async (peerId) => {
        const [room] = await window.salon.client.connected.create(["Side room"]);
        await window.salon.client.connected.move(room.id, {peerIds: [peerId]});
    }""", guest_peer)
    await expect(guest.locator("#meeting-title")).to_have_text("Side room")
    await expect(guest.get_by_test_id("recording-indicator")).to_be_hidden()
    await expect_announced(guest, "Recording stopped")
    await expect_indicator(host, "RECORDING", "Recording")
    guest_peer = await two.guest.peer_id()
    await host.evaluate("""async ([mainId, peerId]) => {
        await window.salon.client.connected.move(mainId, {peerIds: [peerId]});
    }""", [main_id, guest_peer])
    await expect(guest.locator("#meeting-title")).to_have_text("All hands")
    await expect_indicator(guest, "RECORDING", "Recording")

    await host.get_by_test_id("btn-record").click()
    for page in (host, guest):
        await expect(page.get_by_test_id("recording-indicator")).to_be_hidden(timeout=20000)
