"""The waiting room (reference §5.1): SKIP, ON_PRIVILEGED_USER_ENTRY, SKIP_ON_ACCEPT."""

import asyncio

import pytest

from salon.client import ApiError, RealtimeClient, RealtimeError
from tests.live import Meeting, ids


@pytest.fixture
async def lobby(room: Meeting) -> Meeting:
    await room.admin.create_preset(
        f"lobby_{room.id[:8]}", permissions={"waiting_room_type": "SKIP_ON_ACCEPT"})
    await room.admin.create_preset(
        f"await_host_{room.id[:8]}", permissions={"waiting_room_type": "ON_PRIVILEGED_USER_ENTRY"})
    return room


def lobby_preset(room: Meeting) -> str:
    return f"lobby_{room.id[:8]}"


def await_host_preset(room: Meeting) -> str:
    return f"await_host_{room.id[:8]}"


async def test_skip_joins_at_once(room: Meeting) -> None:
    peer = await room.join("group_call_participant")
    assert peer.status == "joined" and "room" in peer.joined


async def test_on_privileged_user_entry_waits_for_a_host(lobby: Meeting) -> None:
    early = await lobby.join(await_host_preset(lobby), name="Early")
    assert early.status == "waiting" and "room" not in early.joined
    plain = await lobby.join(name="Plain")  # a peer without accept_waiting_requests
    await asyncio.sleep(0.3)
    assert not early.drain("self.admitted")

    host = await lobby.join("group_call_host")
    admitted = await early.wait_for("self.admitted")
    assert admitted["self"]["status"] == "joined"
    assert ids(admitted["room"]["peers"]) >= {host.peer_id, plain.peer_id, early.peer_id}
    assert (await plain.wait_for("peer.joined",
                                 lambda d: d["peer"]["peer_id"] == early.peer_id))

    late = await lobby.join(await_host_preset(lobby), name="Late")
    assert late.status == "joined"  # a host is already here


async def test_skip_on_accept_admit_one_several_all(lobby: Meeting) -> None:
    host = await lobby.join("group_call_host")
    guest = await lobby.join(name="Guest")
    waiting = [await lobby.join(lobby_preset(lobby), name=f"W{i}") for i in range(4)]
    assert all(peer.status == "waiting" for peer in waiting)
    for peer in waiting:
        added = await host.wait_for("waitlist.added",
                                    lambda d, p=peer: d["peer"]["peer_id"] == p.peer_id)
        assert added["peer"]["name"].startswith("W")
    assert ids(await host.waiting()) == {p.peer_id for p in waiting}
    assert ids((await host.state())["room"]["waiting"]) == {p.peer_id for p in waiting}

    # A waiting peer sees nothing of the room, and the room does not see it.
    assert all("room" not in p.joined for p in waiting)
    assert "waiting" not in (await guest.state())["room"]
    assert not [e for e in guest.drain() if e.get("peer", {}).get("peer_id") in
                {p.peer_id for p in waiting}]
    with pytest.raises(RealtimeError) as not_yet:
        await waiting[0].set_media(audio=True)
    assert not_yet.value.code == "NOT_JOINED"
    with pytest.raises(RealtimeError):
        await waiting[0].broadcast("hello")
    with pytest.raises(RealtimeError) as blank:  # joined is checked before the content
        await waiting[0].send_text(" ")
    assert blank.value.code == "NOT_JOINED"

    await host.admit([waiting[0].peer_id])
    assert (await waiting[0].wait_for("self.admitted"))["self"]["status"] == "joined"
    await guest.wait_for("peer.joined", lambda d: d["peer"]["peer_id"] == waiting[0].peer_id)

    await host.admit([waiting[1].peer_id, waiting[2].peer_id])
    for peer in waiting[1:3]:
        await peer.wait_for("self.admitted")
    await host.admit()  # everyone left waiting
    await waiting[3].wait_for("self.admitted")
    assert await host.waiting() == []
    assert len((await guest.state())["room"]["peers"]) == 6


async def test_reject_closes_the_waiting_peer(lobby: Meeting) -> None:
    host = await lobby.join("group_call_host")
    waiting = await lobby.join(lobby_preset(lobby))
    await host.wait_for("waitlist.added")
    await host.reject([waiting.peer_id])
    await waiting.wait_for("self.rejected")
    await asyncio.wait_for(waiting.closed.wait(), 5)
    assert waiting.close_code == 4004
    removed = await host.wait_for("waitlist.removed")
    assert removed == {"peer_id": waiting.peer_id, "reason": "rejected"}
    assert await host.waiting() == []


async def test_only_privileged_peers_manage_the_waiting_room(lobby: Meeting) -> None:
    guest = await lobby.join(name="Guest")
    host = await lobby.join("group_call_host")
    waiting = await lobby.join(lobby_preset(lobby))
    await host.wait_for("waitlist.added")
    for attempt in (guest.admit([waiting.peer_id]), guest.reject([waiting.peer_id]),
                    guest.waiting(), guest.admit()):
        with pytest.raises(RealtimeError) as denied:
            await attempt
        assert denied.value.code == "FORBIDDEN"
    assert ids(await host.waiting()) == {waiting.peer_id}
    assert waiting.drain("self.admitted") == []
    with pytest.raises(RealtimeError) as unknown:
        await host.admit(["no-such-peer"])
    assert unknown.value.code == "NOT_FOUND"
    with pytest.raises(RealtimeError) as joined_peer:
        await host.admit([guest.peer_id])
    assert joined_peer.value.code == "NOT_FOUND"


async def test_a_waiting_peer_that_leaves_is_removed(lobby: Meeting) -> None:
    host = await lobby.join("group_call_host")
    waiting = await lobby.join(lobby_preset(lobby))
    await host.wait_for("waitlist.added")
    await waiting.leave()
    assert (await host.wait_for("waitlist.removed"))["peer_id"] == waiting.peer_id


async def test_waiting_alone_starts_no_session(lobby: Meeting) -> None:
    waiting = await lobby.join(lobby_preset(lobby))
    assert isinstance(waiting, RealtimeClient)
    with pytest.raises(ApiError) as none:
        await lobby.admin.active_session(lobby.id)
    assert none.value.status == 404
