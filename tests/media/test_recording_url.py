"""A `url` recording through the whole of salon: POST /recordings with a page served by
the test on loopback; the recorder opens it in Debian's Chromium with its own token as
`authToken`, records the page's picture (the test turns it from one colour to another)
with the meeting's audio mix, and the file downloaded through its link shows both
colours in turn and carries the publisher's tone. A page that does not load ends the
recording ERRORED with what went wrong."""

import asyncio
import base64
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import av
import numpy as np
import pytest
from aiohttp import web

from salon.client import RealtimeError
from tests.live import Meeting
from tests.media.test_recording_end_to_end import download, reaches
from tests.media.test_recording_engine import Tone, publisher, spectrum_peaks

#: It measures colours against recorded time: it runs alone (scripts/test-netns).
pytestmark = pytest.mark.solo

FIRST, SECOND = (220, 40, 40), (40, 60, 220)

#: The whole window in the colour `/colour` says, asked every 100 ms; the token it was
#: opened with written small in a corner (the test server also keeps each query).
PAGE = """<!doctype html><html><head><style>
html, body { margin: 0; width: 100%; height: 100%; overflow: hidden; }
#token { position: fixed; left: 2px; top: 2px; font: 6px monospace; color: #888; }
</style></head><body><div id="token"></div><script>
document.getElementById("token").textContent =
  new URLSearchParams(location.search).get("authToken");
async function paint() {
  const answer = await fetch("/colour", {cache: "no-store"});
  document.body.style.background = (await answer.json()).colour;
}
paint(); setInterval(paint, 100);
</script></body></html>"""


class Site:
    """The recording app's stand-in: the page, its colour, and what it was asked."""

    def __init__(self) -> None:
        self.colour = FIRST
        self.queries: list[dict[str, str]] = []
        self.url = ""

    async def page(self, request: web.Request) -> web.Response:
        self.queries.append(dict(request.query))
        return web.Response(text=PAGE, content_type="text/html")

    async def colour_now(self, _request: web.Request) -> web.Response:
        return web.json_response({"colour": "rgb({}, {}, {})".format(*self.colour)})

    async def missing(self, _request: web.Request) -> web.Response:
        return web.Response(status=404, text="no such app")


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    served = Site()
    app = web.Application()
    app.router.add_get("/page", served.page)
    app.router.add_get("/colour", served.colour_now)
    app.router.add_get("/missing", served.missing)
    runner = web.AppRunner(app)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    port = tcp._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    served.url = f"http://127.0.0.1:{port}"
    yield served
    await runner.cleanup()


def claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def query_token_free(line: str) -> bool:
    """No JWT (three base64url parts, the first `eyJ`) in `line`."""
    return "eyJ" not in line


def mean_rgb(frame: av.VideoFrame) -> np.ndarray:
    return frame.to_ndarray(format="rgb24").reshape(-1, 3).mean(axis=0)


async def test_a_url_recording_records_the_page_with_the_meetings_sound(
        room: Meeting, sessions: list, site: Site, tmp_path: Path) -> None:
    await publisher(room, sessions, "Voice", audio=Tone(440.0, 0.5))
    started = await room.admin.call("POST", "/recordings", json={
        "meeting_id": room.id, "url": f"{site.url}/page?app=demo",
        "video_config": {"width": 640, "height": 360}})
    rid = started["id"]
    live = await reaches(room, rid, "RECORDING", "ERRORED", timeout=60)
    assert live["status"] == "RECORDING", live
    await asyncio.sleep(2.0)
    site.colour = SECOND
    await asyncio.sleep(2.0)
    await room.admin.call("PUT", f"/recordings/{rid}", json={"action": "stop"})
    done = await reaches(room, rid, "UPLOADED", "ERRORED")
    assert done["status"] == "UPLOADED", done

    # the page was opened once, with the recorder's own token (its hidden participant)
    [query] = site.queries
    assert query["app"] == "demo"
    token = claims(query["authToken"])
    assert token["mid"] == room.id
    recorder = await room.admin.call("GET", f"/meetings/{room.id}/participants/{token['sub']}")
    assert recorder["custom_participant_id"] == f"recorder-{rid}"
    with pytest.raises(RealtimeError, match="UNAUTHORIZED"):  # over: it lets nobody in
        await room.connect(query["authToken"])

    path = await download(done, tmp_path, "video/mp4")
    with av.open(str(path)) as container:
        seconds = float(container.duration or 0) / 1_000_000
        video = container.streams.video[0]
        assert (video.width, video.height) == (640, 360)
        assert len(container.streams.audio) == 1
        shown = [(float(f.time), mean_rgb(f)) for f in container.decode(video=0)]
    assert 3.0 < seconds < 7, seconds
    early = [rgb for at, rgb in shown if 0.5 <= at <= 1.5]
    late = [rgb for at, rgb in shown if at >= seconds - 0.8]
    assert early and late
    for rgb in early:
        assert np.abs(rgb - FIRST).max() < 20, rgb
    for rgb in late:
        assert np.abs(rgb - SECOND).max() < 20, rgb

    with av.open(str(path)) as container:
        pcm = np.concatenate([f.to_ndarray().mean(axis=0) for f in container.decode(audio=0)])
    tone, elsewhere = spectrum_peaks(pcm[-2 * 48000:], 48000, [440, 700])
    assert tone == 1 and elsewhere < 0.02


@pytest.mark.parametrize(("path", "words"), [
    ("/missing", "answered HTTP 404"),
    ("closed", "did not load: net::ERR_CONNECTION_REFUSED"),
])
async def test_a_page_that_does_not_load_ends_the_recording_errored(
        room: Meeting, site: Site, path: str, words: str) -> None:
    if path == "closed":  # a port nothing listens on (a safe one: not port 1)
        with socket.socket() as unused:
            unused.bind(("127.0.0.1", 0))
            port = unused.getsockname()[1]
        url = f"http://127.0.0.1:{port}/app"
    else:
        url = f"{site.url}{path}"
    started = await room.admin.call("POST", "/recordings", json={
        "meeting_id": room.id, "url": url})
    rid = started["id"]
    done = await reaches(room, rid, "ERRORED", "UPLOADED", timeout=60)
    assert done["status"] == "ERRORED" and done["recording_duration"] is None, done
    # RealtimeKit's recording has no error field: the reason is in the server's log
    # (and on the stored row), one line, without the token or a traceback
    said = [line for line in room.server.log_path.read_text(errors="replace").splitlines()
            if f"recording {rid}: " in line]
    assert len(said) == 1 and words in said[0] and "authToken" not in said[0], said
    assert query_token_free(said[0])
