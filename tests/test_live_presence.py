"""Joining, presence, and what a malformed message does (nothing harmful)."""

import asyncio

import orjson
import pytest
import websockets

from salon.client import RealtimeClient, RealtimeError, ws_url
from tests.live import Meeting, eventually, ids


async def test_first_peer_starts_the_session_and_others_see_each_other(room: Meeting) -> None:
    host = await room.join("group_call_host", name="Ada")
    assert host.status == "joined"
    session_id = host.joined["room"]["session_id"]
    assert session_id and ids(host.joined["room"]["peers"]) == {host.peer_id}

    guest = await room.join(name="Bob", media={"audio": True, "video": False})
    assert guest.joined["room"]["session_id"] == session_id
    assert ids(guest.joined["room"]["peers"]) == {host.peer_id, guest.peer_id}
    joined = await host.wait_for("peer.joined")
    assert joined["peer"]["peer_id"] == guest.peer_id
    assert joined["peer"]["name"] == "Bob" and joined["peer"]["audio"] is True

    active = await eventually(lambda: _active(room))
    assert active["id"] == session_id and active["status"] == "LIVE"
    assert active["associated_id"] == room.id
    await eventually(lambda: _active_count(room, 2))


async def _active(room: Meeting) -> dict | None:
    try:
        return await room.admin.active_session(room.id)
    except Exception:
        return None


async def _active_count(room: Meeting, count: int) -> bool:
    active = await _active(room)
    return bool(active and active["live_participants"] == count)


async def test_media_flags_and_rename(room: Meeting) -> None:
    host = await room.join("group_call_host")
    guest = await room.join()
    await host.wait_for("peer.joined")
    reply = await guest.set_media(video=True, audio=True)
    assert reply["media"] == {"audio": True, "video": True, "screenshare": False}
    update = await host.wait_for("peer.updated", lambda d: d["peer"]["video"])
    assert update["peer"]["peer_id"] == guest.peer_id
    assert (await guest.wait_for("self.updated"))["self"]["video"] is True

    await guest.rename("Robert")
    renamed = await host.wait_for("peer.updated", lambda d: d["peer"]["name"] == "Robert")
    assert renamed["peer"]["peer_id"] == guest.peer_id


async def test_rename_and_pin_denials(room: Meeting) -> None:
    await room.admin.create_preset("no_rename", permissions={"can_edit_display_name": False})
    host = await room.join("group_call_host")
    fixed = await room.join("no_rename", name="Fixed")
    guest = await room.join()
    with pytest.raises(RealtimeError) as denied:
        await fixed.rename("Other")
    assert denied.value.code == "FORBIDDEN" and "can_edit_display_name" in denied.value.message
    with pytest.raises(RealtimeError) as denied:
        await guest.pin(host.peer_id)
    assert denied.value.code == "FORBIDDEN"
    state = await host.state()
    assert {p["name"] for p in state["room"]["peers"]} >= {"Fixed"}
    assert state["room"]["pinned_peer_id"] is None

    await host.pin(guest.peer_id)
    pinned = await guest.wait_for("room.pinned")
    assert pinned["peer_id"] == guest.peer_id
    assert (await fixed.state())["room"]["pinned_peer_id"] == guest.peer_id


async def test_hidden_participants_are_invisible(room: Meeting) -> None:
    await room.admin.create_preset("observer", permissions={"hidden_participant": True})
    host = await room.join("group_call_host")
    observer = await room.join("observer", name="Ghost")
    assert host.peer_id in ids(observer.joined["room"]["peers"])  # it sees everyone
    guest = await room.join(name="Bob")
    assert observer.peer_id not in ids(guest.joined["room"]["peers"])
    assert (await observer.wait_for("peer.joined"))["peer"]["peer_id"] == guest.peer_id
    with pytest.raises(RealtimeError) as refused:  # hidden participants never publish
        await observer.set_media(audio=True)
    assert refused.value.code == "FORBIDDEN" and "hidden" in refused.value.message
    await observer.leave()
    await asyncio.sleep(0.3)
    seen = [e for e in host.drain() if e.get("peer", {}).get("peer_id") == observer.peer_id
            or e.get("peer_id") == observer.peer_id]
    assert seen == []
    assert observer.peer_id not in ids((await host.state())["room"]["peers"])


async def test_a_participant_may_have_several_peers(room: Meeting) -> None:
    person = await room.participant("group_call_participant", "Two Tabs")
    first = await room.connect(person["token"])
    second = await room.connect(person["token"])
    assert first.peer_id != second.peer_id
    peers = (await second.state())["room"]["peers"]
    assert [p["participant_id"] for p in peers].count(person["id"]) == 2


async def test_malformed_messages_get_errors_and_the_connection_carries_on(room: Meeting) -> None:
    host = await room.join("group_call_host")
    guest = await room.join()
    for raw in ["{bad", "[1,2]", '"text"', '{"id": 1}', '{"id": 2, "type": 5}',
                '{"id": {"x": 1}, "type": "ping"}', '{"id": 3, "type": "ping", "data": [1]}']:
        await host.send_raw(raw)
        error = await host.wait_for("error")
        assert error["code"] == "BAD_MESSAGE" and error["message"]
    await host.send_raw(b"\xff\xfe")
    assert (await host.wait_for("error"))["code"] == "BAD_MESSAGE"
    with pytest.raises(RealtimeError) as unknown:
        await host.request("teleport")
    assert unknown.value.code == "UNKNOWN_TYPE"
    for bad in [{"peer_ids": []}, {"peer_ids": "x"}, {"peer_ids": [guest.peer_id], "extra": 1}]:
        with pytest.raises(RealtimeError) as invalid:
            await host.request("host.kick", **bad)
        assert invalid.value.code == "INVALID"
    with pytest.raises(RealtimeError) as invalid:
        await host.request("self.media", audio="yes")
    assert invalid.value.code == "INVALID"
    await host.send_raw("x" * 70_000)
    assert (await host.wait_for("error"))["code"] == "BAD_MESSAGE"
    assert await host.ping() == {"pong": True}
    assert ids((await guest.state())["room"]["peers"]) == {host.peer_id, guest.peer_id}


async def _raw_join(url: str, first: str | bytes) -> tuple[dict, int | None]:
    async with websockets.connect(url) as ws:
        await ws.send(first)
        reply = orjson.loads(await ws.recv())
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        return reply, ws.close_code


async def test_join_refusals(room: Meeting) -> None:
    url = ws_url(room.server.url)
    reply, code = await _raw_join(url, orjson.dumps({"id": 1, "type": "join",
                                                     "data": {"token": "nope"}}))
    assert reply["error"]["code"] == "UNAUTHORIZED" and code == 4001
    reply, code = await _raw_join(url, orjson.dumps({"id": 1, "type": "ping"}))
    assert reply["error"]["code"] == "NOT_JOINED" and code == 4000
    reply, code = await _raw_join(url, "{garbage")
    assert reply["error"]["code"] == "BAD_MESSAGE"
    person = await room.participant()
    for version in (99, "1", True, 1.0):  # protocol.md: `1`; any other value is refused
        reply, code = await _raw_join(url, orjson.dumps(
            {"id": 1, "type": "join", "data": {"token": person["token"], "protocol": version}}))
        assert reply["error"]["code"] == "PROTOCOL_VERSION", version

    await room.admin.refresh_token(room.id, person["id"])
    with pytest.raises(RealtimeError) as old:
        await RealtimeClient.join(url, person["token"])
    assert old.value.code == "UNAUTHORIZED" and "newer" in old.value.message

    fresh = await room.participant()
    await room.admin.update_meeting(room.id, status="INACTIVE")
    with pytest.raises(RealtimeError) as inactive:
        await RealtimeClient.join(url, fresh["token"])
    assert inactive.value.code == "MEETING_INACTIVE"
    await room.admin.update_meeting(room.id, status="ACTIVE")
    peer = await room.connect(fresh["token"])
    assert peer.status == "joined"


async def test_resume_within_grace_is_invisible(room: Meeting) -> None:
    host = await room.join("group_call_host")
    person = await room.participant()
    guest = await room.connect(person["token"])
    await host.wait_for("peer.joined")
    await guest.close()
    await asyncio.sleep(0.5)
    back = await room.connect(person["token"], resume=guest.resume_info)
    assert back.peer_id == guest.peer_id and back.joined["resumed"] is True
    assert host.peer_id in ids(back.joined["room"]["peers"])
    await asyncio.sleep(2)  # past the 1.5 s grace: the resumed peer must still be there
    assert [name for name, _ in host.events if name in ("peer.left", "peer.joined")] == []
    assert guest.peer_id in ids((await host.state())["room"]["peers"])


async def test_resume_failures_and_grace_expiry(room: Meeting) -> None:
    host = await room.join("group_call_host")
    person = await room.participant()
    guest = await room.connect(person["token"])
    await host.wait_for("peer.joined")
    with pytest.raises(RealtimeError) as wrong:
        await room.connect(person["token"], resume={"peer_id": guest.peer_id,
                                                   "resume_token": "forged"})
    assert wrong.value.code == "RESUME_FAILED"
    await guest.close()
    left = await host.wait_for("peer.left", timeout=5)
    assert left == {"peer_id": guest.peer_id, "reason": "disconnected"}
    with pytest.raises(RealtimeError) as late:
        await room.connect(person["token"], resume=guest.resume_info)
    assert late.value.code == "RESUME_FAILED"
