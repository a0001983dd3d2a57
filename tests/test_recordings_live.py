"""Recordings and live sessions: the realtime requests (and their denial), the events
and the room state, `record_on_start`, a session ending stops its recordings, and a
SIGKILL'd server leaves no recording stuck."""

import asyncio
import signal
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from salon.client import RealtimeError
from tests.live import FAST, Meeting, admin_for, eventually
from tests.recording_helpers import RECORDING_ENV, media_seconds, stored_file, wait_status
from tests.servers import SalonServer, cleanup, launch, running, start


@pytest.fixture(scope="module")
def rec_live() -> Iterator[SalonServer]:
    with running("", env={**FAST, **RECORDING_ENV}) as salon:
        yield salon


@pytest.fixture
async def rec_room(rec_live: SalonServer) -> AsyncIterator[Meeting]:
    async with admin_for(rec_live) as admin:
        meeting = Meeting(rec_live, admin, await admin.create_meeting(title="recorded"))
        try:
            yield meeting
        finally:
            await meeting.close()


@pytest.fixture
def http(rec_live: SalonServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=rec_live.app_url, headers=rec_live.headers,
                      timeout=10) as client:
        yield client


def _status(status: str):  # noqa: ANN202
    return lambda data: data["recording"]["status"] == status


async def test_a_host_records_over_the_realtime_protocol(rec_room: Meeting,
                                                         http: httpx.Client) -> None:
    host = await rec_room.join("group_call_host", name="Host")
    guest = await rec_room.join()
    watcher = await rec_room.join()
    told: list[tuple[str, str | None]] = []
    watcher.listeners["recording.updated"] = lambda data: told.append(
        (data["recording"]["status"], data["by_peer_id"]))
    with pytest.raises(RealtimeError) as refused:
        await guest.request("recording.start")
    assert refused.value.code == "FORBIDDEN" and "can_record" in refused.value.message
    with pytest.raises(RealtimeError) as nothing:
        await host.request("recording.pause")
    assert nothing.value.code == "CONFLICT"

    started = await host.request("recording.start")
    recording = started["recording"]
    assert recording["status"] == "INVOKED" and recording["type"] == "composite"
    seen = await guest.wait_for("recording.updated", _status("INVOKED"))
    assert seen["by_peer_id"] == host.peer_id
    await guest.wait_for("recording.updated", _status("RECORDING"), timeout=20)
    row = http.get(f"/recordings/{recording['id']}").json()["data"]
    assert row["start_reason"]["reason"] == "API_CALL"
    caller = row["start_reason"]["caller"]
    assert caller["type"] == "USER" and caller["name"] == "Host" and caller["user_Id"]
    assert row["session_id"] == host.joined["room"]["session_id"]

    # A newcomer learns what is being recorded from the room state.
    late = await rec_room.join()
    assert [r["id"] for r in late.joined["room"]["recordings"]] == [recording["id"]]
    # The recorder is nobody's peer.
    assert all(p["preset_name"] != "salon_recorder" for p in late.joined["room"]["peers"])

    with pytest.raises(RealtimeError) as denied:
        await guest.request("recording.stop")
    assert denied.value.code == "FORBIDDEN"
    paused = await host.request("recording.pause")
    assert [r["status"] for r in paused["recordings"]] == ["PAUSED"]
    await late.wait_for("recording.updated", _status("PAUSED"))
    resumed = await host.request("recording.resume", recording_id=recording["id"])
    assert resumed["recordings"][0]["status"] == "RECORDING"
    await asyncio.sleep(1.0)
    stopped = await host.request("recording.stop")
    assert stopped["recordings"][0]["status"] == "UPLOADING"
    assert stopped["recordings"][0]["stop_reason"] == "API_CALL"
    await guest.wait_for("recording.updated", _status("UPLOADED"), timeout=20)
    assert (await late.request("state"))["room"]["recordings"] == []
    # Each change told once; `by_peer_id` names the peer whose request made it, null
    # for what the recorder and the server did (its first frame, the upload).
    assert told == [("INVOKED", host.peer_id), ("RECORDING", None),
                    ("PAUSED", host.peer_id), ("RECORDING", host.peer_id),
                    ("UPLOADING", host.peer_id), ("UPLOADED", None)], told
    with pytest.raises(RealtimeError) as unknown:
        await host.request("recording.stop", recording_id="nope")
    assert unknown.value.code == "NOT_FOUND"


async def test_record_on_start_and_the_session_ending(rec_live: SalonServer,
                                                      http: httpx.Client) -> None:
    async with admin_for(rec_live) as admin:
        meeting = Meeting(rec_live, admin, await admin.create_meeting(
            title="auto", record_on_start=True))
        try:
            peer = await meeting.join()
            session_id = peer.joined["room"]["session_id"]
            event = await peer.wait_for("recording.updated", _status("RECORDING"), timeout=20)
            rid = event["recording"]["id"]
            row = http.get(f"/recordings/{rid}").json()["data"]
            assert row["start_reason"] == {"reason": "RECORD_ON_START",
                                           "caller": {"type": "ORGANIZATION"}}
            assert row["session_id"] == session_id
            await asyncio.sleep(1.0)
            await peer.leave()  # keep-alive capped at 1.5 s: the session ends
            done = wait_status(http, rid, "UPLOADED", "ERRORED")
            assert done["status"] == "UPLOADED"
            assert done["stop_reason"] == {"reason": "ALL_PEERS_LEFT"}
            assert media_seconds(stored_file(rec_live, rid, done["download_url"])) > 1
        finally:
            await meeting.close()


async def test_a_killed_server_leaves_no_recording_stuck() -> None:
    server = start("", env={**FAST, **RECORDING_ENV})
    try:
        async with admin_for(server) as admin:
            meeting = await admin.create_meeting(title="doomed")
            with httpx.Client(base_url=server.app_url, headers=server.headers,
                              timeout=10) as http:
                rid = http.post("/recordings", json={"meeting_id": meeting["id"]}
                                ).json()["data"]["id"]
                wait_status(http, rid, "RECORDING")
                await asyncio.sleep(1.5)
                server.process.send_signal(signal.SIGKILL)
                server.process.wait()
                await asyncio.sleep(1)  # the orphaned recorder finalizes its file

                server.process = launch(server.env(), server.port, server.log_path)
                done = http.get(f"/recordings/{rid}").json()["data"]
                assert done["status"] == "ERRORED"
                assert done["stop_reason"] == {"reason": "INTERNAL_ERROR"}
                # What was recorded before the crash is kept, and plays.
                kept = stored_file(server, rid, done["download_url"])
                assert media_seconds(kept) >= 1 and done["file_size"] == kept.stat().st_size
                # The meeting records again.
                again = http.post("/recordings", json={"meeting_id": meeting["id"]})
                assert again.status_code == 201
                http.put(f"/recordings/{again.json()['data']['id']}", json={"action": "stop"})
    finally:
        cleanup(server)


async def test_a_waiting_recording_survives_a_restart() -> None:
    """INVOKED ones (queued or being picked up) are taken up again after a restart."""
    server = start("", env={**RECORDING_ENV, "SALON_MAX_CONCURRENT_RECORDINGS": "1"})
    try:
        with httpx.Client(base_url=server.app_url, headers=server.headers, timeout=10) as http:
            meeting = http.post("/meetings", json={"title": "queue"}).json()["data"]
            body = {"meeting_id": meeting["id"], "allow_multiple_recordings": True}
            first = http.post("/recordings", json=body).json()["data"]["id"]
            second = http.post("/recordings", json=body).json()["data"]["id"]
            wait_status(http, first, "RECORDING")
            server.process.send_signal(signal.SIGKILL)
            server.process.wait()
            server.process = launch(server.env(), server.port, server.log_path)
            assert http.get(f"/recordings/{first}").json()["data"]["status"] == "ERRORED"
            wait_status(http, second, "RECORDING")
            http.put(f"/recordings/{second}", json={"action": "stop"})
            assert wait_status(http, second, "UPLOADED")["recording_duration"] is not None
    finally:
        cleanup(server)


async def test_the_recorder_joins_hidden_and_keeps_no_session_alive() -> None:
    """A recorder that joins as the engine will: nobody sees it, and when the last
    person leaves the session ends all the same, stopping the recording."""
    env = {**FAST, **RECORDING_ENV,
           "SALON_RECORDER": "tests.fake_recorder:run_joining_recording"}
    with running("", env=env) as server:
        async with admin_for(server) as admin:
            meeting = Meeting(server, admin, await admin.create_meeting(title="hidden"))
            try:
                host = await meeting.join("group_call_host")
                started = await host.request("recording.start")
                await host.wait_for("recording.updated", _status("RECORDING"), timeout=20)
                with httpx.Client(base_url=server.app_url, headers=server.headers,
                                  timeout=10) as http:
                    session_id = host.joined["room"]["session_id"]
                    # The recorder is in the session, and in nobody's view of it.
                    async def recorder_in() -> bool:
                        listed = http.get(f"/sessions/{session_id}/participants").json()
                        return any(p["preset_name"] == "salon_recorder"
                                   for p in listed["data"]["participants"])
                    await eventually(recorder_in, timeout=10)
                    state = await host.request("state")
                    assert [p["peer_id"] for p in state["room"]["peers"]] == [host.peer_id]
                    assert not host.drain("peer.joined")
                    await host.leave()
                    done = wait_status(http, started["recording"]["id"], "UPLOADED",
                                       "ERRORED")
                    assert done["status"] == "UPLOADED"
                    assert done["stop_reason"] == {"reason": "ALL_PEERS_LEFT"}
                    session = http.get(f"/sessions/{session_id}").json()["data"]
                    assert session["status"] == "ENDED"
            finally:
                await meeting.close()
