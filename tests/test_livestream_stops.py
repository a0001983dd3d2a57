"""Stopping livestreams that are claimed but not LIVE yet (a real server on SQLite): an
encoder has taken the session and streams nothing so far. Asked to stop (L2) or stopped
with the server (SIGTERM, a clean stop), the session ends IDLE as any stopped one — not
ERRORED, which is for an encoder that failed. The same for an RTMP ingest's session
whose encoder has published and sent no media yet."""

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from salon.recording.spec import RecordingControl, RecordingOutcome, RecordingSpec
from tests.servers import SalonServer, cleanup, free_port, restart, start
from tests.test_livestream_api import SMALL, wait_for
from tests.test_livestream_ingest_races import RawEncoder


def waiting_encoder(spec: RecordingSpec, control: RecordingControl) -> RecordingOutcome:
    """An encoder that takes a while before its first frame (a slow start): it makes
    its work folder, then streams nothing until it is told to stop."""
    spec.output_dir.mkdir(parents=True, exist_ok=True)
    while (reason := control.stop_requested()) is None:
        time.sleep(0.05)
    return RecordingOutcome(stop_reason=reason)


@pytest.fixture(scope="module")
def stop_server() -> Iterator[SalonServer]:
    server = start("", env={"SALON_LIVESTREAMER": f"{__name__}:waiting_encoder",
                            "SALON_RTMP_PORT": str(free_port())})
    try:
        yield server
        assert "Traceback" not in server.log(), server.log()
    finally:
        cleanup(server)


@pytest.fixture
def http(stop_server: SalonServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stop_server.app_url, headers=stop_server.headers,
                      timeout=20) as client:
        yield client


def _claimed_livestream(server: SalonServer, http: httpx.Client) -> dict[str, Any]:
    """A meeting livestream whose encoder runs and has streamed nothing: INVOKED."""
    meeting = http.post("/meetings", json={"title": "slow start"}).json()["data"]
    started = http.post(f"/meetings/{meeting['id']}/livestreams",
                        json={"video_config": SMALL}).json()["data"]
    session = http.get(f"/livestreams/{started['id']}").json()["data"]["session"]
    work = Path(server.data_dir) / "livestreams" / "work" / session["id"]
    wait_for(work.exists, 20, "the encoder")
    assert http.get(f"/livestreams/{started['id']}").json()["data"]["livestream"][
        "status"] == "INVOKED"
    return {**started, "meeting_id": meeting["id"]}


def _ended(http: httpx.Client, livestream_id: str) -> dict[str, Any] | None:
    shown = http.get(f"/livestreams/{livestream_id}").json()["data"]
    return shown if shown["session"]["stopped_time"] else None


def test_stopped_over_the_api_before_live(stop_server: SalonServer,
                                          http: httpx.Client) -> None:
    started = _claimed_livestream(stop_server, http)
    stopped = http.post(f"/meetings/{started['meeting_id']}/active-livestream/stop")
    assert stopped.status_code == 200, stopped.text
    shown = wait_for(lambda: _ended(http, started["id"]), 20, "the stop")
    assert shown["livestream"]["status"] == "IDLE"
    assert shown["session"]["err_message"] is None
    assert shown["session"]["started_time"] is None


async def test_stopped_with_the_server_before_live(stop_server: SalonServer,
                                                   http: httpx.Client) -> None:
    started = _claimed_livestream(stop_server, http)
    studio = http.post("/livestreams", json={"name": "studio"}).json()["data"]
    encoder = await RawEncoder.connect(studio["ingest_server"])
    try:
        assert await encoder.publish(studio["stream_key"]) == "NetStream.Publish.Start"
        wait_for(lambda: http.get(f"/livestreams/{studio['id']}").json()["data"][
            "livestream"]["status"] == "INVOKED", 10, "the ingest's session")
        restart(stop_server)  # SIGTERM: a clean stop
    finally:
        await encoder.close()
    for livestream_id in (started["id"], studio["id"]):
        shown = http.get(f"/livestreams/{livestream_id}").json()["data"]
        assert shown["livestream"]["status"] == "IDLE", shown
        assert shown["session"]["err_message"] is None
        assert shown["session"]["stopped_time"] is not None
