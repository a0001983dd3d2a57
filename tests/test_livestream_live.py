"""Livestreams and live sessions: a host starts and stops the meeting's livestream over
the realtime protocol (a guest without `can_livestream` is refused), everyone is told,
the room state carries it, `live_stream_on_start`, and the session ending stops it."""

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from salon.client import RealtimeError
from tests.live import FAST, Meeting, admin_for, eventually
from tests.servers import SalonServer, free_port, running
from tests.test_livestream_api import LIVESTREAM_ENV


@pytest.fixture(scope="module")
def ls_live() -> Iterator[SalonServer]:
    with running("", env={**FAST, **LIVESTREAM_ENV,
                          "SALON_RTMP_PORT": str(free_port())}) as salon:
        yield salon
        assert "Traceback" not in salon.log(), salon.log()


@pytest.fixture
async def ls_room(ls_live: SalonServer) -> AsyncIterator[Meeting]:
    async with admin_for(ls_live) as admin:
        meeting = Meeting(ls_live, admin, await admin.create_meeting(title="streamed"))
        try:
            yield meeting
        finally:
            await meeting.close()


@pytest.fixture
def http(ls_live: SalonServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ls_live.app_url, headers=ls_live.headers,
                      timeout=10) as client:
        yield client


def _status(status: str):  # noqa: ANN202
    return lambda data: data["livestream"]["status"] == status


async def test_a_host_livestreams_over_the_realtime_protocol(ls_room: Meeting,
                                                             http: httpx.Client) -> None:
    host = await ls_room.join("group_call_host", name="Host")
    guest = await ls_room.join()
    watcher = await ls_room.join()
    told: list[tuple[str, str | None]] = []
    watcher.listeners["livestream.updated"] = lambda data: told.append(
        (data["livestream"]["status"], data["by_peer_id"]))
    assert guest.joined["room"]["livestream"] is None
    with pytest.raises(RealtimeError) as refused:
        await guest.request("livestream.start")
    assert refused.value.code == "FORBIDDEN" and "can_livestream" in refused.value.message
    with pytest.raises(RealtimeError) as nothing:
        await host.request("livestream.stop")
    assert nothing.value.code == "NOT_FOUND"
    with pytest.raises(RealtimeError) as bad:
        await host.request("livestream.start", video_config={"width": 7})
    assert bad.value.code == "INVALID"

    started = await host.request("livestream.start", name="Keynote",
                                 video_config={"width": 320, "height": 180})
    shown = started["livestream"]
    assert shown["status"] == "INVOKED" and shown["playback_url"].endswith("/index.m3u8")
    assert "stream_key" not in shown
    seen = await guest.wait_for("livestream.updated", _status("INVOKED"))
    assert seen["by_peer_id"] == host.peer_id
    await guest.wait_for("livestream.updated", _status("LIVE"), timeout=20)
    with pytest.raises(RealtimeError) as twice:
        await host.request("livestream.start")
    assert twice.value.code == "CONFLICT"

    late = await ls_room.join()
    assert late.joined["room"]["livestream"]["id"] == shown["id"]
    assert late.joined["room"]["livestream"]["status"] == "LIVE"
    assert http.get(f"/meetings/{ls_room.id}/active-livestream").json()["data"]["name"] == \
        "Keynote"

    with pytest.raises(RealtimeError) as denied:
        await guest.request("livestream.stop")
    assert denied.value.code == "FORBIDDEN"
    stopped = await host.request("livestream.stop")
    assert stopped["livestream"]["id"] == shown["id"]
    await late.wait_for("livestream.updated", _status("IDLE"), timeout=20)
    newcomer = await ls_room.join()
    assert newcomer.joined["room"]["livestream"] is None
    # Each change told once; `by_peer_id` names the peer whose request made it, null
    # for what the encoder did (its first segment, its end after the stop).
    assert told == [("INVOKED", host.peer_id), ("LIVE", None), ("IDLE", None)], told


async def test_live_stream_on_start_and_the_session_ending_stops_it(
        ls_live: SalonServer, http: httpx.Client) -> None:
    async with admin_for(ls_live) as admin:
        meeting = Meeting(ls_live, admin, await admin.create_meeting(
            title="auto", live_stream_on_start=True))
        try:
            peer = await meeting.join()
            update = await peer.wait_for("livestream.updated", _status("LIVE"), timeout=20)
            livestream_id = update["livestream"]["id"]
            active = http.get(f"/meetings/{meeting.id}/active-livestream").json()["data"]
            assert active["id"] == livestream_id
        finally:
            await meeting.close()

    def idle() -> bool:
        return http.get(f"/livestreams/{livestream_id}").json()["data"]["livestream"][
            "status"] == "IDLE"

    await eventually(idle, timeout=20)
    session = http.get(f"/livestreams/{livestream_id}").json()["data"]["session"]
    assert session["stopped_time"] is not None


async def test_a_killed_server_leaves_no_livestream_live() -> None:
    """SIGKILL while a meeting livestream and an RTMP ingest are LIVE: after the restart
    both sessions are ERRORED (not LIVE for ever), the playlists still end, and the
    meeting can be livestreamed again. A clean restart ends them IDLE."""
    import signal
    import threading

    from tests.rtmp_publisher import publish
    from tests.servers import cleanup, launch, restart, start

    server = start("", env={**LIVESTREAM_ENV, "SALON_RTMP_PORT": str(free_port())})
    try:
        with httpx.Client(base_url=server.app_url, headers=server.headers, timeout=10) as http:
            meeting = http.post("/meetings", json={"title": "crash"}).json()["data"]
            started = http.post(f"/meetings/{meeting['id']}/livestreams", json={
                "video_config": {"width": 320, "height": 180}}).json()["data"]
            studio = http.post("/livestreams", json={"name": "studio"}).json()["data"]
            pushing = threading.Thread(target=lambda: _publish_quietly(
                publish, studio["ingest_server"] + studio["stream_key"], 6))
            pushing.start()

            def status(livestream_id: str) -> str:
                return http.get(f"/livestreams/{livestream_id}").json()["data"][
                    "livestream"]["status"]

            await eventually(lambda: status(started["id"]) == "LIVE"
                             and status(studio["id"]) == "LIVE", timeout=20)
            server.process.send_signal(signal.SIGKILL)
            server.process.wait()
            pushing.join()
            server.process = launch(server.env(), server.port, server.log_path)
            for livestream_id in (started["id"], studio["id"]):
                shown = http.get(f"/livestreams/{livestream_id}").json()["data"]
                assert shown["livestream"]["status"] == "ERRORED", shown
                assert shown["session"]["err_message"] == "the server stopped while streaming"
            again = http.post(f"/meetings/{meeting['id']}/livestreams", json={
                "video_config": {"width": 320, "height": 180}})
            assert again.status_code == 201, again.text
            await eventually(lambda: status(started["id"]) == "LIVE", timeout=20)
            restart(server)  # a clean stop: the encoder finishes, the session is IDLE
            assert status(started["id"]) == "IDLE"
            ended = httpx.get(started["playback_url"]).text
            assert ended.rstrip().endswith("#EXT-X-ENDLIST")
            assert "Traceback" not in server.log(), server.log()
    finally:
        cleanup(server)


def _publish_quietly(publish, url: str, seconds: float) -> None:  # noqa: ANN001
    try:
        publish(url, seconds)
    except (OSError, Exception):  # noqa: BLE001 - the server is killed under it
        pass
