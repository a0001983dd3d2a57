"""The picture of a `url` recording: a web page in headless Chromium, as frames.

RealtimeKit's `url` records "a custom url to record arbitrary screen": a recording app
that joins the meeting itself and draws what it likes. The recorder opens that page in
headless Chromium (Debian's `chromium`, launched through Playwright) at the recording's
size, with its own participant token as the `authToken` query parameter (what
RealtimeKit's recording apps read to join), and takes the page's frames with the Chrome
DevTools Protocol screencast (`Page.startScreencast`, JPEG).

The work is split by thread on purpose: the screencast handler runs on the recorder's
event loop and only keeps the newest JPEG (`PagePicture.put`, no decoding there, so
receiving the meeting's audio never waits for it); the media thread decodes it when it
composes its next frame (`PagePicture.frame`), at most once per new JPEG.

Chromium draws only when the page changes, so frames arrive at the screencast's own
pace (up to the display's 60 Hz, fewer for a still page); the pipeline repeats the
newest on its fps clock.
"""

import asyncio
import base64
import contextlib
import logging
import os
import shutil
import threading
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import av

from salon.deadline import within

log = logging.getLogger("salon.recording.page")

#: Where Chromium is, if not `chromium` on the PATH (read in the recorder process).
CHROMIUM_ENV = "SALON_RECORDING_CHROMIUM"
#: How long the page may take to load (DNS, connect, the document parsed; what it
#: loads or draws afterwards is recorded as it comes).
LOAD_TIMEOUT_SECS = 30.0
#: How long launching or closing the browser may take before it is given up on.
BROWSER_TIMEOUT_SECS = 30.0
#: The query parameter the page gets the recorder's participant token in.
TOKEN_PARAM = "authToken"
#: Headless, no sandbox (the recorder may run as root in a container), no GPU, no
#: sound out of the browser (the recording's sound is salon's own mix), and timers and
#: renderers kept awake although nobody looks at the window.
CHROMIUM_ARGS = (
    "--no-sandbox", "--disable-gpu", "--mute-audio", "--hide-scrollbars",
    "--no-first-run", "--disable-sync", "--disable-component-update",
    "--disable-background-networking", "--autoplay-policy=no-user-gesture-required",
    "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
)
#: The screencast's JPEG quality: the frame is encoded again afterwards, so a high
#: one costs little and keeps text sharp.
JPEG_QUALITY = 85


class PageError(Exception):
    """A url recording cannot go on: the message says what to do, and is what the
    recording's `error` shows (no traceback, no token)."""


def chromium_path() -> str:
    """The Chromium to launch, or PageError saying how to get one."""
    configured = os.environ.get(CHROMIUM_ENV, "").strip()
    if configured:
        if os.path.isfile(configured) and os.access(configured, os.X_OK):
            return configured
        raise PageError(f"url recordings need Chromium: {CHROMIUM_ENV} names "
                        f"{configured!r}, which is not an executable file.")
    found = shutil.which("chromium")
    if found is None:
        raise PageError("url recordings need Chromium on the recorder's machine: "
                        f"apt-get install chromium (or set {CHROMIUM_ENV} to its path).")
    return found


def with_token(url: str, token: str) -> str:
    """`url` with `authToken=<token>` in its query (an `authToken` already there is
    replaced: the page must join as this recording's recorder)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k != TOKEN_PARAM]
    query.append((TOKEN_PARAM, token))
    return urlunsplit(parts._replace(query=urlencode(query)))


class PagePicture:
    """The page's newest frame, handed from the event loop to the media thread."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self._lock = threading.Lock()
        self._jpeg: bytes | None = None
        self._decoder: av.CodecContext | None = None
        self._frame: av.VideoFrame | None = None
        #: JPEGs received and decoded (`decoded` ≤ `received`: only the newest is).
        self.received = 0
        self.decoded = 0

    def put(self, jpeg: bytes) -> None:
        """A new screencast frame (event loop): replaces one not decoded yet."""
        with self._lock:
            self._jpeg = jpeg
            self.received += 1

    def frame(self) -> tuple[av.VideoFrame | None, bool]:
        """(the newest frame as yuv420p at the output size or None before the first,
        whether it is new since the last call). Media thread only."""
        with self._lock:
            jpeg, self._jpeg = self._jpeg, None
        if jpeg is None:
            return self._frame, False
        if self._decoder is None:
            self._decoder = av.CodecContext.create("mjpeg", "r")
        try:
            decoded = self._decoder.decode(av.Packet(jpeg))
        except av.error.FFmpegError as exc:
            log.debug("an undecodable screencast frame (%s): keeping the last one", exc)
            self._decoder = None
            return self._frame, False
        if not decoded:
            return self._frame, False
        # yuvj420p (full range) to the encoder's limited-range yuv420p, at the output
        # size (the screencast may send a smaller frame while the window settles)
        self._frame = decoded[-1].reformat(width=self.width, height=self.height,
                                           format="yuv420p", interpolation="BILINEAR")
        self.decoded += 1
        return self._frame, True


class PageCapture:
    """Headless Chromium showing one page, its screencast going into a `PagePicture`.

    `open` fails with PageError (Chromium missing or not starting, the page not loading
    or answering an HTTP error); `close` is always safe to call, also after a failed
    `open`, and closes whatever was started."""

    def __init__(self, url: str, token: str, width: int, height: int) -> None:
        self.url = url  # as given: never shown with the token
        self._token = token
        self.width, self.height = width, height
        self.picture = PagePicture(width, height)
        #: Set when the page or the browser goes away while recording (a crash).
        self.failed: str | None = None
        self._playwright: Any = None
        self._browser: Any = None
        self._cdp: Any = None
        self._acks: set[asyncio.Task[Any]] = set()

    async def open(self) -> None:
        """Launch Chromium, load the page, start the screencast: PageError if any of it
        fails or the whole takes longer than the load and launch bounds together."""
        try:
            await within(self._open(), LOAD_TIMEOUT_SECS + 2 * BROWSER_TIMEOUT_SECS)
        except TimeoutError:
            raise PageError(f"Chromium did not answer in time opening the page "
                            f"{self.url}.") from None

    async def _open(self) -> None:
        executable = chromium_path()
        try:
            from playwright.async_api import Error, async_playwright
        except ImportError:
            raise PageError("url recordings need Playwright in the recorder's "
                            "environment: pip install playwright (salon pins it).") from None
        try:
            self._playwright = await within(async_playwright().start(),
                                                      BROWSER_TIMEOUT_SECS)
            self._browser = await self._playwright.chromium.launch(
                executable_path=executable, headless=True, args=list(CHROMIUM_ARGS),
                timeout=BROWSER_TIMEOUT_SECS * 1000)
        except (Error, TimeoutError, OSError) as exc:
            raise PageError(f"Chromium ({executable}) did not start: "
                            f"{self._scrub(exc)}") from None
        self._browser.on("disconnected", lambda _browser: self._lost("Chromium exited"))
        try:
            context = await self._browser.new_context(
                viewport={"width": self.width, "height": self.height},
                device_scale_factor=1)
            page = await context.new_page()
            page.on("crash", lambda _page: self._lost("the page crashed"))
            self._cdp = await context.new_cdp_session(page)
            self._cdp.on("Page.screencastFrame", self._on_frame)
            response = await page.goto(with_token(self.url, self._token),
                                       wait_until="domcontentloaded", timeout=LOAD_TIMEOUT_SECS * 1000)
        except Error as exc:
            raise PageError(f"the page {self.url} did not load: {self._scrub(exc)}") from None
        if response is not None and response.status >= 400:
            raise PageError(f"the page {self.url} answered HTTP {response.status} "
                            f"{response.status_text}".rstrip() + ".")
        try:
            await self._cdp.send("Page.startScreencast", {
                "format": "jpeg", "quality": JPEG_QUALITY, "maxWidth": self.width,
                "maxHeight": self.height, "everyNthFrame": 1})
        except Error as exc:
            raise PageError(f"the page's screencast did not start: {self._scrub(exc)}") \
                from None
        log.info("recording the page %s at %dx%d", self.url, self.width, self.height)

    def _on_frame(self, params: dict[str, Any]) -> None:
        """Keep the JPEG, and ack it at once: Chromium sends the next one only then."""
        self.picture.put(base64.b64decode(params["data"]))
        task = asyncio.ensure_future(self._ack(params["sessionId"]))
        self._acks.add(task)
        task.add_done_callback(self._acks.discard)

    async def _ack(self, session_id: int) -> None:
        with contextlib.suppress(Exception):  # closing: nobody waits for it any more
            await self._cdp.send("Page.screencastFrameAck", {"sessionId": session_id})

    def _lost(self, what: str) -> None:
        if self.failed is None and self._browser is not None:
            self.failed = f"{what} while recording the page {self.url}."

    async def close(self) -> None:
        """Close the browser and Playwright's driver (each step bounded in time: a hung
        browser is given up on, and dies with the driver)."""
        browser, playwright = self._browser, self._playwright
        self._browser = self._playwright = None  # a disconnect from here on is ours
        for task in list(self._acks):
            task.cancel()
        if browser is not None:
            with contextlib.suppress(Exception):
                await within(browser.close(), BROWSER_TIMEOUT_SECS)
        if playwright is not None:
            with contextlib.suppress(Exception):
                await within(playwright.stop(), BROWSER_TIMEOUT_SECS)

    def _scrub(self, exc: BaseException) -> str:
        """Playwright's message, first line only, without the URL it quotes (which
        carries the token) or the token anywhere else."""
        text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        text = text.split(" at http", 1)[0]  # "net::ERR_… at <the URL, with the token>"
        if self._token:
            text = text.replace(self._token, "…")
        return text.removeprefix("Page.goto: ").removeprefix("BrowserType.launch: ")
