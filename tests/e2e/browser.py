"""Chromium people for the end-to-end tests and the media benchmark.

One `Person` is one Chromium (a fresh profile through `launch_persistent_context`, the
flags of building-blocks §2: fake devices, loopback ICE) with one page on `/meet`.
Everything here must run inside a private network namespace whose only interface is
loopback (scripts/test-netns): the browsers' ICE candidates are 127.0.0.1.

`join_to_first_frame(base_url, publisher_token, viewer_tokens)` is the measurement
bench/media.py imports: seconds from opening `/meet#token=…&autojoin=1` to the first
remote video frame decoded, one figure per viewer token.
"""

import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.async_api import (
    BrowserContext,
    ConsoleMessage,
    Locator,
    Page,
    Playwright,
    async_playwright,
    expect,
)
from playwright.async_api import Error as PlaywrightError

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox",
    "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
    "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--allow-loopback-in-peer-connection",
    # Several headless browsers share 2 cores: keep their timers and renderers awake, and
    # let remote audio play without a click.
    "--autoplay-policy=no-user-gesture-required",
    "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]


DEBUG_STATE = """async () => ({
    state: document.body.dataset.state, errors: window.salon && window.salon.errors,
    tracks: window.salon && window.salon.media && window.salon.media.tracks().map((t) => [t.kind, t.peerId]),
    stats: window.salon && await window.salon.remoteStats()})"""


def meet_url(base_url: str, token: str, **flags: str | int) -> str:
    fragment = "&".join([f"token={token}", *(f"{k}={v}" for k, v in flags.items())])
    return f"{base_url}/meet#{fragment}"


@dataclass
class Person:
    """One browser with the meeting page open."""

    name: str
    context: BrowserContext
    page: Page
    profile: Path
    console: list[str] = field(default_factory=list)

    async def open(self, base_url: str, token: str, **flags: str | int) -> None:
        await self.page.goto(meet_url(base_url, token, **flags))

    async def join_with_panel(self, base_url: str, token: str, panel: str) -> Page:
        """Join without camera or microphone and open a side panel (`qna`, `plugins`, …)."""
        await self.open(base_url, token, autojoin=1, audio=0, video=0)
        await self.wait_state("joined")
        await self.page.get_by_test_id(f"tab-{panel}").click()
        await expect(self.page.get_by_test_id(f"panel-{panel}")).to_be_visible()
        return self.page

    async def state(self) -> str:
        return await self.page.evaluate("() => document.body.dataset.state")

    async def wait_state(self, state: str, timeout: float = 20) -> None:
        # `document.body` is null for a moment while the page reloads (Rejoin does).
        await self.page.wait_for_function(
            "(s) => document.body && document.body.dataset.state === s", arg=state,
            timeout=timeout * 1000)

    async def wait(self, expression: str, arg: Any = None, timeout: float = 20) -> Any:
        """Wait until a JS function of `arg` returns something truthy, and return it."""
        handle = await self.page.wait_for_function(expression, arg=arg, timeout=timeout * 1000,
                                                   polling=100)
        return await handle.json_value()

    async def peer_id(self) -> str:
        return await self.wait("() => window.salon.client && window.salon.client.peerId")

    async def remote_stats(self) -> dict[str, dict[str, dict[str, Any]]]:
        """{peer_id: {kind: {framesDecoded, packetsReceived, mid, trackId, …}}}."""
        return await self.page.evaluate("() => window.salon.remoteStats()")

    async def counter(self, peer_id: str, kind: str) -> int | None:
        stats = (await self.remote_stats()).get(peer_id, {}).get(kind)
        if stats is None:
            return None
        return stats["framesDecoded" if kind != "audio" else "packetsReceived"]

    async def mid_counter(self, mid: str, kind: str) -> int:
        """The counter of whatever the subscribe connection's m-line `mid` receives."""
        return await self.page.evaluate(
            """async ([mid, kind]) => {
                 const pc = window.salon.media && window.salon.media.subPc;
                 const tx = pc && pc.getTransceivers().find((t) => t.mid === mid);
                 if (!tx) return 0;
                 let n = 0;
                 (await tx.receiver.getStats()).forEach((s) => {
                   if (s.type === "inbound-rtp") n = kind === "audio" ? s.packetsReceived : s.framesDecoded;
                 });
                 return n || 0;
               }""", [mid, kind])

    async def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        try:
            await self.page.screenshot(path=str(directory / f"{self.name}.png"), timeout=5000)
        except Exception as error:  # noqa: BLE001 - a dead page must not hide the test's error
            self.console.append(f"[screenshot failed: {error}]")
        try:
            debug = await self.page.evaluate(
                """() => ({state: document.body.dataset.state, errors: window.salon && window.salon.errors,
                           self: window.salon && window.salon.client && window.salon.client.self})""")
            self.console.append("[page] " + json.dumps(debug, default=str))
        except Exception as error:  # noqa: BLE001
            self.console.append(f"[page state unavailable: {error}]")
        (directory / f"{self.name}.console.log").write_text("\n".join(self.console) + "\n")

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self.context.close(), 15)
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)


#: The window sizes pages are checked at: a desktop, a phone, and the phone on its side.
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
LANDSCAPE = {"width": 844, "height": 390}
TABLET = {"width": 768, "height": 1024}
#: Every size `shoot` checks, by name.
SIZES = {"desktop": DESKTOP, "phone": PHONE, "landscape": LANDSCAPE}

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"


async def no_overflow(page: Page) -> None:
    """No sideways scroll; every visible element of the shown screen is inside the
    window (visually hidden ones, 1 px and clipped for screen readers, aside)."""
    found = await page.evaluate("""() => {
        const width = document.documentElement.clientWidth;
        const out = [];
        if (document.documentElement.scrollWidth > width) out.push(`page ${document.documentElement.scrollWidth} > ${width}`);
        for (const el of document.querySelectorAll(".screen:not([hidden]) *")) {
            if (el.closest("[hidden]") || !el.getClientRects().length) continue;
            const r = el.getBoundingClientRect();
            if (r.width > 1 && (r.left < -0.5 || r.right > width + 0.5)) out.push(`${el.id || el.dataset.testid || el.tagName} ${r.left}..${r.right} of ${width}`);
        }
        return out;
    }""")
    assert not found, found


async def shoot(page: Page, folder: Path, step: str, settle_ms: int = 150) -> None:
    """Screenshots of `page` at desktop, phone and landscape-phone sizes into `folder`,
    each checked for overflow; the page is left at the desktop size."""
    folder.mkdir(parents=True, exist_ok=True)
    for size_name, size in SIZES.items():
        await page.set_viewport_size(size)
        await page.wait_for_timeout(settle_ms)
        await no_overflow(page)
        await page.screenshot(path=str(folder / f"{step}-{size_name}.png"))
    await page.set_viewport_size(DESKTOP)


async def axe_scan(page: Page, include: str | None = None) -> list[dict[str, Any]]:
    """Run axe-core (vendored, tests/e2e/vendor/axe-core) on the page, or on the part
    `include` (a CSS selector) selects, and return its serious and critical violations,
    each as {id, impact, help, nodes: [target and summary of each node]}. The script is
    evaluated through the DevTools protocol, so the page's Content-Security-Policy (no
    inline script) does not stop it."""
    if not await page.evaluate("() => Boolean(window.axe)"):
        await page.evaluate(AXE.read_text())
    result = await page.evaluate(
        """async (include) => {
            const run = await window.axe.run(include ? {include: [include]} : document,
                                             {resultTypes: ["violations"]});
            return run.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
              .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                            nodes: v.nodes.map((n) => ({target: n.target.join(" "), summary: n.failureSummary}))}));
        }""", include)
    return result


async def small_targets(page: Page, minimum: float = 44) -> list[str]:
    """The visible controls (buttons, fields, tabs) of the shown screen, an open dialog
    and the toasts that are smaller than `minimum` × `minimum` CSS pixels, measured.
    Visually hidden ones (1 px, for screen readers) aside."""
    return await page.evaluate("""(minimum) => {
        const out = [];
        const scope = ".screen:not([hidden]), dialog[open], .toasts";
        const controls = "button, select, textarea, input:not([type=hidden]):not([type=file]), [role=button], [role=tab], label.attach";
        for (const el of document.querySelectorAll(controls)) {
            if (!el.closest(scope) || el.closest("[hidden]") || !el.getClientRects().length) continue;
            if (getComputedStyle(el).visibility === "hidden") continue;
            const r = el.getBoundingClientRect();
            if (r.width <= 1 || r.height <= 1) continue;
            if (r.width < minimum - 0.5 || r.height < minimum - 0.5) {
                out.push(`${el.dataset.testid || el.id || el.tagName} ${Math.round(r.width)}x${Math.round(r.height)}`);
            }
        }
        return out;
    }""", minimum)


async def reveal(page: Page, testid: str) -> Locator:
    """The control `testid`, with the More menu opened first when the control bar had no
    room for it (more_menu.js moves such controls into the menu, as a person finds them)."""
    control = page.get_by_test_id(testid)
    held = page.locator(f"[data-testid=more-controls] [data-testid={testid}]")
    if await held.count() and not await control.is_visible():
        await page.get_by_test_id("btn-more").click()
        await expect(control).to_be_visible()
    return control


#: Moves the sequential focus navigation starting point to the top of the page: blur()
#: leaves it where the focus was (Chromium, as the HTML spec says), so the next Tab would
#: go on from there; a focused element that is removed leaves it where it stood.
_FROM_THE_TOP = """() => {
  const mark = document.createElement('span');
  mark.tabIndex = -1;
  document.body.prepend(mark);
  mark.focus();
  mark.remove();
}"""


async def tab_to(page: Page, testid: str, presses: int = 40) -> None:
    """Reach the element by Tab alone, from the top of the page."""
    await page.evaluate(_FROM_THE_TOP)
    for _ in range(presses):
        await page.keyboard.press("Tab")
        if await page.evaluate("(id) => document.activeElement && "
                               "document.activeElement.dataset.testid === id", testid):
            return
    raise AssertionError(f"{testid} is not reachable with Tab in {presses} presses")


class Browsers:
    """Launches people (one Chromium each) and closes them all."""

    def __init__(self, playwright: Playwright) -> None:
        self.playwright = playwright
        self.people: list[Person] = []

    async def person(self, name: str, extra_args: tuple[str, ...] = ()) -> Person:
        """`extra_args`: more Chromium flags (e.g. a --host-resolver-rules for a host
        name that is not a secure context)."""
        profile = Path(tempfile.mkdtemp(prefix=f"salon-chromium-{name}-"))
        context = await self.playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, *extra_args],
            viewport={"width": 1100, "height": 700})
        context.set_default_timeout(20000)
        page = context.pages[0] if context.pages else await context.new_page()
        person = Person(name, context, page, profile)

        def log(message: ConsoleMessage) -> None:
            person.console.append(f"{time.strftime('%H:%M:%S')} {message.type}: {message.text}")

        page.on("console", log)
        page.on("pageerror", lambda error: person.console.append(f"pageerror: {error}"))
        self.people.append(person)
        return person

    async def save(self, directory: Path) -> None:
        for person in self.people:
            await person.save(directory)

    async def close(self) -> None:
        await asyncio.gather(*(person.close() for person in self.people), return_exceptions=True)
        self.people.clear()


async def rising(person: Person, peer_id: str, kind: str, by: int = 20, over: float = 2.0,
                 timeout: float = 20) -> tuple[int, int]:
    """Wait until `person` receives `peer_id`'s `kind` and its counter (framesDecoded, or
    audio packetsReceived) has risen by at least `by` over at least `over` seconds from
    its first non-zero reading. Chrome's fake camera gives 20 fps here and Opus 50
    packets/s, so the defaults leave room for a busy box."""
    deadline = time.monotonic() + timeout
    first: int | None = None
    since = 0.0
    last: int | None = None
    while time.monotonic() < deadline:
        last = await person.counter(peer_id, kind)
        if last:
            if first is None:
                first, since = last, time.monotonic()
            elif last - first >= by and time.monotonic() - since >= over:
                return first, last
        await asyncio.sleep(0.2)
    raise AssertionError(f"{person.name}: {kind} of {peer_id} did not rise by {by} over {over} s "
                         f"in {timeout} s (first {first}, last {last}); "
                         f"stats: {await person.remote_stats()}")


async def join_to_first_frame(base_url: str, publisher_token: str, viewer_tokens: list[str],
                              timeout: float = 30, run_timeout: float = 15) -> list[float | None]:
    """Seconds from opening `/meet#token=…&autojoin=1` to the first remote video frame
    decoded, for each viewer token in turn (None for a run that got no frame within
    `run_timeout` seconds; the reason goes to stderr).

    One Chromium joins with `publisher_token` first and publishes its fake camera; then a
    second Chromium opens the page for each viewer token (the same tab navigated again,
    the previous viewer left first), and the page notes `performance.now()` when a remote
    video's `framesDecoded` first turns positive (`window.salon.firstFrameDecodedAt`,
    polled every 25 ms in the page); `performance.now()` counts from the navigation, so
    the figure covers loading the page, the join, opening the fake devices, both
    negotiations, the keyframe and its decoding. Viewers use the full page (they publish
    too when their preset allows). Every token must be of the same meeting, whose
    participants see each other. Run inside a network namespace with only loopback; the
    server needs `SALON_ICE_HOSTS=127.0.0.1`. `timeout` bounds the publisher's start.
    """
    async with async_playwright() as playwright:
        browsers = Browsers(playwright)
        try:
            publisher = await browsers.person("publisher")
            await publisher.open(base_url, publisher_token, autojoin=1)
            await publisher.wait_state("joined", timeout)
            await publisher.wait("() => window.salon.media && window.salon.media.published.video",
                                 timeout=timeout)
            viewer = await browsers.person("viewer")
            times: list[float | None] = []
            for run, token in enumerate(viewer_tokens):
                await viewer.open(base_url, token, autojoin=1)
                try:
                    at = await viewer.wait("() => window.salon.firstFrameDecodedAt",
                                           timeout=run_timeout)
                    times.append(at / 1000)
                except PlaywrightError:
                    state = await viewer.page.evaluate(DEBUG_STATE)
                    print(f"join_to_first_frame: run {run} got no remote frame in "
                          f"{run_timeout} s: {json.dumps(state, default=str)[:2000]}",
                          file=sys.stderr)
                    times.append(None)
                await viewer.page.evaluate("() => window.salon.client && window.salon.client.leave()")
                await viewer.page.goto("about:blank")
            return times
        finally:
            await browsers.close()


def join_to_first_frame_p50(base_url: str, publisher_token: str, viewer_tokens: list[str],
                            timeout: float = 30) -> float | None:
    """The median of `join_to_first_frame` over the runs that got a frame (synchronous;
    runs its own event loop). None when no run did."""
    times = asyncio.run(join_to_first_frame(base_url, publisher_token, viewer_tokens, timeout))
    done = [t for t in times if t is not None]
    return statistics.median(done) if done else None


@dataclass
class HostAndGuest:
    """A meeting with a host and a guest, each with a browser whose page is not open yet."""

    meeting: dict[str, Any]
    host: Person
    guest: Person
    host_token: str
    guest_token: str
    guest_preset: str


async def opened_in_a_meeting(admin: Any, browsers: Browsers, base_url: str, title: str,
                              preset: str = "group_call_participant", name: str = "Ana", *,
                              others: tuple[str, ...] = (), state: str = "joined",
                              size: dict[str, int] | None = DESKTOP,
                              **flags: str | int) -> tuple[Person, list[dict[str, Any]]]:
    """A new meeting with one person in the browser (`preset`, `name`), the page opened at
    `size` with `flags` (say `autojoin=1, audio=0, video=0`) and in `state`; and the rows
    of `others`, participants of the meeting (group_call_participant) for the test to
    bring in as it needs."""
    meeting = await admin.create_meeting(title=title)
    row = await admin.add_participant(meeting["id"], "me", preset, name=name)
    rows = [await admin.add_participant(meeting["id"], f"p{n}", "group_call_participant",
                                        name=other) for n, other in enumerate(others)]
    person = await browsers.person("me")
    if size is not None:
        await person.page.set_viewport_size(size)
    await person.open(base_url, row["token"], **flags)
    await person.wait_state(state)
    return person, rows


async def host_and_guest(admin: Any, browsers: Browsers, title: str, *,
                         names: tuple[str, str] = ("Hal", "Gus"),
                         guest_preset: str = "group_call_participant",
                         waiting_room: bool = False) -> HostAndGuest:
    """`waiting_room`: the guest gets a preset of its own that waits to be admitted."""
    meeting = await admin.create_meeting(title=title)
    if waiting_room:
        guest_preset = f"lobby_{meeting['id'][:8]}"
        await admin.create_preset(guest_preset,
                                  permissions={"waiting_room_type": "SKIP_ON_ACCEPT"})
    host = await admin.add_participant(meeting["id"], "host", "group_call_host", name=names[0])
    guest = await admin.add_participant(meeting["id"], "guest", guest_preset, name=names[1])
    return HostAndGuest(meeting, await browsers.person("host"), await browsers.person("guest"),
                        host["token"], guest["token"], guest_preset)
