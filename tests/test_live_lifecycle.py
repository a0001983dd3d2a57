"""Session lifecycle: start, keep-alive, rejoin, end, kick-all, crash recovery."""

import asyncio
import signal
import time
from datetime import datetime

import pytest

from salon.client import AdminClient, ApiError, RealtimeClient, RealtimeError, ws_url
from tests.live import FAST, Meeting, admin_for, eventually
from tests.servers import cleanup, launch, start


async def _session(admin: AdminClient, session_id: str) -> dict:
    return await admin.session(session_id)


async def test_keep_alive_then_same_session_then_end(room: Meeting) -> None:
    first = await room.join(name="First")
    session_id = first.joined["room"]["session_id"]
    await first.leave()
    await asyncio.sleep(0.5)  # inside the 1.5 s keep-alive window
    again = await room.join(name="Again")
    assert again.joined["room"]["session_id"] == session_id
    assert (await room.admin.active_session(room.id))["id"] == session_id

    await again.leave()
    ended = await eventually(lambda: _ended(room.admin, session_id), timeout=8)
    assert ended["ended_at"] >= ended["started_at"]
    with pytest.raises(ApiError):
        await room.admin.active_session(room.id)

    later = await room.join(name="Later")
    assert later.joined["room"]["session_id"] != session_id


async def _ended(admin: AdminClient, session_id: str) -> dict | None:
    session = await _session(admin, session_id)
    return session if session["status"] == "ENDED" else None


async def test_session_records_peers_and_minutes(room: Meeting) -> None:
    host = await room.join("group_call_host", name="Host")
    guest = await room.join(name="Guest")
    session_id = host.joined["room"]["session_id"]
    await asyncio.sleep(1.2)
    await guest.leave()
    await host.wait_for("peer.left")
    await host.kick_all()
    session = await eventually(lambda: _ended(room.admin, session_id))
    assert session["max_concurrent_participants"] == 2
    assert session["live_participants"] == 0
    assert session["minutes_consumed"] > 2 * 1.0 / 60
    assert session["meeting_display_name"] == "live test"
    assert session["associated_id"] == room.id

    listed = await room.admin.session_participants(session_id, include_peer_events="true")
    people = {p["display_name"]: p for p in listed["participants"]}
    assert set(people) == {"Host", "Guest"}
    guest_row = people["Guest"]
    assert guest_row["id"] == guest.peer_id and guest_row["left_at"] is not None
    assert guest_row["duration"] == pytest.approx(
        (datetime.fromisoformat(guest_row["left_at"]) -
         datetime.fromisoformat(guest_row["joined_at"])).total_seconds() / 60, abs=1e-3)
    assert guest_row["duration"] > 1.0 / 60
    events = [e["event_name"] for e in guest_row["peer_events"]]
    assert events == ["PEER_CREATED", "PEER_JOINING", "PEER_LEAVING"]
    assert guest_row["peer_events"][-1]["minutes_consumed"] == pytest.approx(
        guest_row["duration"], abs=1e-3)


async def test_kick_all_skips_the_keep_alive(room: Meeting) -> None:
    host = await room.join("group_call_host")
    session_id = host.joined["room"]["session_id"]
    started = time.monotonic()
    await room.admin.kick_all(room.id)
    await host.wait_for("room.ended")
    session = await eventually(lambda: _ended(room.admin, session_id), timeout=1.2)
    assert time.monotonic() - started < 1.2  # well before the 1.5 s keep-alive
    assert session["status"] == "ENDED"
    fresh = await room.join()
    assert fresh.joined["room"]["session_id"] != session_id


async def test_inactive_meeting_refuses_joins_but_live_session_goes_on(room: Meeting) -> None:
    peer = await room.join()
    await room.admin.update_meeting(room.id, status="INACTIVE")
    assert await peer.ping() == {"pong": True}
    with pytest.raises(RealtimeError) as refused:
        await room.join()
    assert refused.value.code == "MEETING_INACTIVE"


async def test_crash_closes_live_sessions_at_their_last_heartbeat() -> None:
    server = start("", env=FAST)
    try:
        async with admin_for(server) as admin:
            meeting = await admin.create_meeting(title="doomed")
            person = await admin.add_participant(meeting["id"], "p", "group_call_host")
            peer = await RealtimeClient.join(ws_url(server.url), person["token"])
            session_id = peer.joined["room"]["session_id"]
            await asyncio.sleep(1.2)  # a couple of 0.5 s heartbeats
            server.process.send_signal(signal.SIGKILL)
            server.process.wait()
            killed_at = time.time()
            await peer.close()
            await asyncio.sleep(1)

            server.process = launch(server.env(), server.port, server.log_path)
            session = await admin.session(session_id)
            assert session["status"] == "ENDED"
            ended = datetime.fromisoformat(session["ended_at"]).timestamp()
            assert killed_at - 1.5 <= ended <= killed_at + 0.1
            listed = await admin.session_participants(session_id)
            assert all(p["left_at"] for p in listed["participants"])
            with pytest.raises(ApiError):
                await admin.active_session(meeting["id"])
    finally:
        cleanup(server)
