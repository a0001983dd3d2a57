"""The independent livestream: an RTMP publisher (PyAV, i.e. FFmpeg's own RTMP client,
as OBS would publish) into salon's ingest with the right and wrong keys, the stream
remuxed to HLS and decoded, a reconnection within the grace window continuing the same
session, the webhook with `manualIngest`, and the refusals."""

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import av
import httpx
import orjson
import pytest

from tests.rtmp_publisher import publish
from tests.servers import SalonServer, app_client, free_port, running_on
from tests.test_livestream_api import decode, segments_of, wait_for
from tests.webhook_receiver import Receiver

GRACE_SECS = 3


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def ingest_server(request: pytest.FixtureRequest) -> Iterator[SalonServer]:
    env = {"SALON_RTMP_PORT": str(free_port()),
           "SALON_RTMP_RECONNECT_GRACE_SECS": str(GRACE_SECS),
           "SALON_LIVESTREAMER": "tests.fake_livestreamer:run_recording"}
    with running_on(request.param, env) as salon:
        yield salon


@pytest.fixture
def http(ingest_server: SalonServer) -> Iterator[httpx.Client]:
    with app_client(ingest_server) as client:
        yield client


def _sessions(http: httpx.Client, livestream_id: str) -> dict[str, Any]:
    return http.get(f"/livestreams/{livestream_id}").json()["data"]


def test_a_wrong_key_publishes_nothing(http: httpx.Client) -> None:
    made = http.post("/livestreams", json={"name": "Studio A"}).json()["data"]
    for url in (made["ingest_server"] + made["stream_key"] + "x",
                made["ingest_server"] + "",
                made["ingest_server"].replace("/live/", "/other/") + made["stream_key"]):
        with pytest.raises((OSError, av.error.FFmpegError)):
            publish(url, 1)
    shown = _sessions(http, made["id"])
    assert shown["livestream"]["status"] == "IDLE"
    assert shown["session"] is None and shown["paging"]["total_count"] == 0
    assert httpx.get(made["playback_url"]).status_code == 404


def test_a_meeting_livestreams_key_is_no_ingest(http: httpx.Client) -> None:
    meeting = http.post("/meetings", json={"title": "Not an ingest"}).json()["data"]
    started = http.post(f"/meetings/{meeting['id']}/livestreams",
                        json={"video_config": {"width": 320, "height": 180}}).json()["data"]
    try:
        with pytest.raises((OSError, av.error.FFmpegError)):
            publish(started["ingest_server"] + started["stream_key"], 1)
    finally:
        http.post(f"/meetings/{meeting['id']}/active-livestream/stop")


def test_publish_reconnect_and_end(ingest_server: SalonServer, http: httpx.Client) -> None:
    receiver = Receiver().up()
    try:
        hook = http.post("/webhooks", json={"name": "ingest", "url": receiver.url("/in"),
                                            "events": ["livestreaming.statusUpdate"]})
        made = http.post("/livestreams", json={"name": "Studio B"}).json()["data"]
        url = made["ingest_server"] + made["stream_key"]
        sent: dict[str, Any] = {}
        first = threading.Thread(target=lambda: sent.setdefault("a", publish(url, 4)))
        first.start()
        wait_for(lambda: _sessions(http, made["id"])["livestream"]["status"] == "LIVE",
                 what="LIVE")
        # One encoder at a time: a second publisher with the same key is refused.
        with pytest.raises((OSError, av.error.FFmpegError)):
            publish(url, 1)
        first.join()
        assert sent["a"] == 60

        playlist = httpx.get(made["playback_url"])
        assert playlist.status_code == 200
        assert "#EXT-X-ENDLIST" not in playlist.text  # within the grace window: not over
        names = segments_of(playlist.text)
        assert len(names) >= 3
        base = made["playback_url"].rsplit("/", 1)[0]
        video, audio, seconds = decode(httpx.get(f"{base}/{names[1]}").content)
        assert video >= 12 and audio >= 30 and 0.7 <= seconds <= 1.2, (video, audio, seconds)

        # The encoder comes back within the grace window: the same session goes on.
        assert publish(url, 2) == 30
        time.sleep(GRACE_SECS + 2)
        shown = _sessions(http, made["id"])
        assert shown["paging"]["total_count"] == 1
        assert shown["livestream"]["status"] == "IDLE"
        session = shown["session"]
        assert session["stopped_time"] is not None and 5.0 <= session["ingest_seconds"] <= 7.0
        ended = httpx.get(made["playback_url"]).text
        assert ended.rstrip().endswith("#EXT-X-ENDLIST")
        assert len(segments_of(ended)) >= 5 and "#EXT-X-MEDIA-SEQUENCE:" in ended
        # named for the session (never reused by a later one), numbered without a gap
        prefixes = {name.split("_")[1] for name in segments_of(ended)}
        assert len(prefixes) == 1 and len(prefixes.pop()) == 8
        numbers = [int(name.removesuffix(".ts").rsplit("_", 1)[-1])
                   for name in segments_of(ended)]
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))

        wait_for(lambda: len([hit for hit in receiver.received
                              if made["id"].encode() in hit.body]) >= 2, what="webhooks")
        bodies = [body for body in (orjson.loads(hit.body) for hit in receiver.received)
                  if body["streamId"] == made["id"]]
        assert [b["status"] for b in bodies] == ["LIVE", "IDLE"]
        assert all(b["manualIngest"] is True and b["meeting"] is None for b in bodies)
        assert bodies[0]["streamId"] == made["id"]
        assert bodies[0]["ingestServer"] == made["ingest_server"]
        http.delete(f"/webhooks/{hook.json()['data']['id']}")

        # Publishing again later is a new session of the same livestream.
        publish(url, 2)
        wait_for(lambda: _sessions(http, made["id"])["paging"]["total_count"] == 2,
                 what="a second session")
    finally:
        receiver.down()


def test_not_rtmp_at_all(ingest_server: SalonServer, http: httpx.Client) -> None:
    """Garbage on the RTMP port is dropped without a trace in the log."""
    import socket

    port = int(http.post("/livestreams", json={}).json()["data"]["ingest_server"]
               .split(":")[2].split("/")[0])
    for payload in (b"GET / HTTP/1.1\r\n\r\n", b"\x03" + b"\x00" * 100, b"\x03"):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)
            try:
                sock.recv(4096)
            except OSError:
                pass


def test_a_stream_that_cannot_be_remuxed_errors_its_session(http: httpx.Client) -> None:
    """FLV1 (Sorenson) video is FLV but no HLS player plays it: refused at its first
    frame, the session ends ERRORED saying why, and the server logs no traceback."""
    made = http.post("/livestreams", json={"name": "Old encoder"}).json()["data"]
    container = av.open(made["ingest_server"] + made["stream_key"], "w", format="flv",
                        timeout=10)
    try:
        stream = container.add_stream("flv", rate=10)
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        for index in range(30):
            frame = av.VideoFrame(160, 96, "yuv420p")
            frame.pts = index
            container.mux(stream.encode(frame))
            time.sleep(0.05)
        container.mux(stream.encode(None))
    except (OSError, av.error.FFmpegError):
        pass  # the server may hang up first
    finally:
        with contextlib.suppress(OSError, av.error.FFmpegError):
            container.close()

    def ended() -> Any:
        shown = _sessions(http, made["id"])
        return shown if shown["livestream"]["status"] == "ERRORED" else None

    shown = wait_for(ended, what="ERRORED")
    assert "not H.264" in shown["session"]["err_message"]
