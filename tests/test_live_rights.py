"""Who may act in a live session as rights change under it: visibility fixed at join,
deleted participants losing their peers, refreshed tokens keeping them."""


import asyncio

import pytest
import websockets

from salon.client import RealtimeError
from tests.live import Meeting


async def test_hidden_participant_cannot_change_during_a_session(room: Meeting) -> None:
    host = await room.join("group_call_host")
    guest = await room.join()
    watcher = await room.join()
    for hidden in (True, False):
        with pytest.raises(RealtimeError) as refused:
            await host.update_permissions([guest.peer_id], {"hidden_participant": hidden})
        assert refused.value.code == "INVALID"
        assert "hidden_participant" in refused.value.message
    assert (await guest.state())["self"]["hidden"] is False

    # Nobody was left with a ghost: the guest is still seen, and seen to leave.
    await guest.leave()
    left = await watcher.wait_for("peer.left", lambda d: d["peer_id"] == guest.peer_id)
    assert left["reason"] == "left"
    assert guest.peer_id not in {p["peer_id"] for p in (await host.state())["room"]["peers"]}



async def test_deleting_a_participant_removes_its_live_peers(room: Meeting) -> None:
    host = await room.join("group_call_host")
    doomed = await room.participant("group_call_host")
    tabs = [await room.connect(doomed["token"]) for _ in range(2)]  # two peers, one person

    await room.admin.delete_participant(room.id, doomed["id"])
    for tab in tabs:
        assert (await tab.wait_for("self.kicked"))["by_peer_id"] is None
        await asyncio.wait_for(tab.closed.wait(), 5)
        assert tab.close_code == 4003
        left = await host.wait_for("peer.left", lambda d, t=tab: d["peer_id"] == t.peer_id)
        assert left["reason"] == "kicked"
        with pytest.raises((ConnectionError, websockets.ConnectionClosed)):
            await tab.request("host.kick_all")  # it can no longer act
    assert {p["peer_id"] for p in (await host.state())["room"]["peers"]} == {host.peer_id}


async def test_deleting_a_participant_removes_its_waiting_peer(room: Meeting) -> None:
    preset = f"lobby_{room.id[:8]}"
    await room.admin.create_preset(preset, permissions={"waiting_room_type": "SKIP_ON_ACCEPT"})
    host = await room.join("group_call_host")
    doomed = await room.participant(preset)
    waiting = await room.connect(doomed["token"])
    assert waiting.status == "waiting"
    await host.wait_for("waitlist.added")

    await room.admin.delete_participant(room.id, doomed["id"])
    assert (await waiting.wait_for("self.kicked"))["by_peer_id"] is None
    await asyncio.wait_for(waiting.closed.wait(), 5)
    removed = await host.wait_for("waitlist.removed")
    assert removed == {"peer_id": waiting.peer_id, "reason": "kicked"}
    assert (await host.state())["room"]["waiting"] == []


async def test_refreshing_a_token_keeps_live_peers(room: Meeting) -> None:
    host = await room.join("group_call_host")
    person = await room.participant()
    peer = await room.connect(person["token"])

    await room.admin.refresh_token(room.id, person["id"])
    assert (await peer.state())["status"] == "joined"  # still acting on the old join
    await peer.broadcast("still-here")
    assert (await host.wait_for("broadcast"))["from_peer_id"] == peer.peer_id
    assert not peer.drain("self.kicked") and not peer.closed.is_set()
