"""Raised hands over the realtime protocol: raising, the order hosts see, lowering by
the peer and by a host, every denial, bad input, and hands lowered by leaving and by
going on stage (docs/protocol.md "Raised hands and reactions")."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from salon.client import RealtimeError
from salon.core.presets import Permissions
from salon.core.room import Peer, Room, hands
from tests.live import Meeting


def _hands(state: dict) -> dict[str, str | None]:
    return {p["peer_id"]: p["hand_raised_at"] for p in state["room"]["peers"]}


async def test_raise_is_seen_by_others_and_self_and_raising_again_keeps_the_time(
        room: Meeting) -> None:
    host = await room.join("group_call_host")
    guest = await room.join()
    assert guest.joined["self"]["hand_raised_at"] is None

    reply = await guest.raise_hand()
    raised_at = reply["hand_raised_at"]
    assert raised_at and raised_at.endswith("Z")
    seen = await host.wait_for("peer.updated", lambda d: d["peer"]["peer_id"] == guest.peer_id)
    assert seen["peer"]["hand_raised_at"] == raised_at
    me = await guest.wait_for("self.updated")
    assert me["self"]["hand_raised_at"] == raised_at

    await asyncio.sleep(0.01)
    assert (await guest.raise_hand())["hand_raised_at"] == raised_at  # keeps its place
    await asyncio.sleep(0.2)
    assert host.drain("peer.updated") == []  # and nobody hears of it again

    late = await room.join("group_call_host")  # a late joiner sees the hand
    assert _hands(late.joined)[guest.peer_id] == raised_at

    assert (await guest.lower_hand())["hand_raised_at"] is None
    seen = await host.wait_for("peer.updated", lambda d: d["peer"]["peer_id"] == guest.peer_id)
    assert seen["peer"]["hand_raised_at"] is None
    assert (await guest.lower_hand())["hand_raised_at"] is None  # lowering twice: no error


async def test_hosts_see_the_raise_order_even_within_one_millisecond(room: Meeting) -> None:
    host = await room.join("group_call_host")
    guests = [await room.join() for _ in range(3)]
    for guest in (guests[2], guests[0], guests[1]):
        await guest.raise_hand()
    state = _hands(await host.state())
    order = [pid for _, pid in sorted((t, pid) for pid, t in state.items() if t)]
    assert order == [guests[2].peer_id, guests[0].peer_id, guests[1].peer_id]

    # All at once: the room still stamps distinct times, in the order it took them.
    await host.lower_hands()
    replies = await asyncio.gather(*(g.raise_hand() for g in guests))
    assert len({r["hand_raised_at"] for r in replies}) == 3


def test_raise_times_are_distinct_and_increasing_in_the_room() -> None:
    room = Room("m", "t")
    now = datetime(2026, 12, 5, 12, 0, 0, 123456, tzinfo=UTC)
    peers = []
    for n in range(3):
        peer = Peer(f"p{n}", f"u{n}", f"c{n}", f"P{n}", None, "x", "GROUP_CALL", Permissions())
        room.connect(peer, now, admit=True)
        peers.append(peer)
    for peer in peers:
        hands.set_hand(room, peer.peer_id, True, now)  # the same microsecond for all
    stamps = [p.hand_raised_at for p in peers]
    assert stamps[0] == now.replace(microsecond=123000)
    assert stamps[1] == stamps[0] + timedelta(milliseconds=1)
    assert stamps[2] == stamps[1] + timedelta(milliseconds=1)
    # A clock that steps back still queues behind the hands already up.
    hands.set_hand(room, "p0", False, now)
    hands.set_hand(room, "p0", True, now - timedelta(seconds=5))
    assert peers[0].hand_raised_at == stamps[2] + timedelta(milliseconds=1)


async def test_a_host_lowers_one_hand_or_all_and_a_guest_may_not(room: Meeting) -> None:
    host = await room.join("group_call_host")
    guests = [await room.join() for _ in range(3)]
    for guest in guests:
        await guest.raise_hand()

    with pytest.raises(RealtimeError) as denied:
        await guests[0].lower_hands([guests[1].peer_id])
    assert denied.value.code == "FORBIDDEN" and "disable_participant_audio" in denied.value.message
    with pytest.raises(RealtimeError) as denied:
        await guests[0].lower_hands()
    assert denied.value.code == "FORBIDDEN"
    state = _hands(await host.state())
    assert all(state[g.peer_id] for g in guests)  # nothing was lowered

    reply = await host.lower_hands([guests[1].peer_id])
    assert reply["lowered"] == [guests[1].peer_id]
    assert (await guests[1].wait_for("hand.lowered"))["by_peer_id"] == host.peer_id
    me = await guests[1].wait_for("self.updated", lambda d: d["self"]["hand_raised_at"] is None)
    assert me["self"]["peer_id"] == guests[1].peer_id
    assert guests[0].drain("hand.lowered") == []

    # A hand already down is no error: it is just not in `lowered`.
    assert (await host.lower_hands([guests[1].peer_id]))["lowered"] == []
    reply = await host.lower_hands()
    assert sorted(reply["lowered"]) == sorted([guests[0].peer_id, guests[2].peer_id])
    for guest in (guests[0], guests[2]):
        assert (await guest.wait_for("hand.lowered"))["by_peer_id"] == host.peer_id
    assert not any(_hands(await host.state()).values())

    with pytest.raises(RealtimeError) as unknown:
        await host.lower_hands(["no-such-peer"])
    assert unknown.value.code == "NOT_FOUND"


async def test_malformed_hand_requests_are_refused_and_the_connection_carries_on(
        room: Meeting) -> None:
    host = await room.join("group_call_host")
    guest = await room.join()
    for data in ({}, {"raised": "yes"}, {"raised": 1}, {"raised": True, "colour": "red"}):
        with pytest.raises(RealtimeError) as bad:
            await guest.request("self.hand", **data)
        assert bad.value.code == "INVALID"
    for data in ({}, {"all": True, "peer_ids": [guest.peer_id]}, {"peer_ids": []},
                 {"all": False}, {"peer_ids": "x"}):
        with pytest.raises(RealtimeError) as bad:
            await host.request("host.lower_hands", **data)
        assert bad.value.code == "INVALID", data
    assert (await guest.raise_hand())["hand_raised_at"]
    assert (await guest.ping())["pong"] is True


async def hidden_and_waiting(room: Meeting) -> tuple[Any, Any]:
    """A hidden peer and one still in the waiting room (a host is joined, so it waits)."""
    hidden = f"hidden_{room.id[:8]}"
    await room.admin.create_preset(hidden, permissions={"hidden_participant": True})
    lobby = f"lobby_{room.id[:8]}"
    await room.admin.create_preset(lobby, permissions={"waiting_room_type": "SKIP_ON_ACCEPT"})
    await room.join("group_call_host")
    ghost = await room.join(hidden)
    waiting = await room.join(lobby)
    assert waiting.joined["status"] == "waiting"
    return ghost, waiting


async def test_hidden_and_waiting_peers_cannot_raise_a_hand(room: Meeting) -> None:
    ghost, waiting = await hidden_and_waiting(room)
    with pytest.raises(RealtimeError) as refused:
        await ghost.raise_hand()
    assert refused.value.code == "FORBIDDEN"
    with pytest.raises(RealtimeError) as early:
        await waiting.raise_hand()
    assert early.value.code == "NOT_JOINED"


async def test_a_hand_goes_down_when_its_peer_leaves(room: Meeting) -> None:
    host = await room.join("group_call_host")
    guest = await room.join()
    stays = await room.join()
    await guest.raise_hand()
    await stays.raise_hand()
    await guest.leave()
    await host.wait_for("peer.left", lambda d: d["peer_id"] == guest.peer_id)
    state = _hands(await host.state())
    assert guest.peer_id not in state and state[stays.peer_id]
    assert (await host.lower_hands())["lowered"] == [stays.peer_id]


async def test_going_on_stage_lowers_the_hand(room: Meeting) -> None:
    presenter = await room.join("webinar_presenter")
    viewer = await room.join("webinar_viewer")
    await viewer.raise_hand()
    await viewer.stage("request")
    await presenter.stage("grant", [viewer.peer_id])
    await viewer.wait_for("stage.granted")
    assert (await viewer.state())["self"]["hand_raised_at"]  # accepted, not yet up
    await viewer.stage("join")
    seen = await presenter.wait_for(
        "peer.updated", lambda d: d["peer"]["peer_id"] == viewer.peer_id
        and d["peer"]["stage_status"] == "ON_STAGE")
    assert seen["peer"]["hand_raised_at"] is None
    assert (await viewer.state())["self"]["hand_raised_at"] is None


async def test_a_flood_of_hand_toggles_is_rate_limited(room: Meeting) -> None:
    guest = await room.join()
    refused = None
    for n in range(15):
        try:
            await guest.request("self.hand", raised=n % 2 == 0)
        except RealtimeError as error:
            refused = error
            break
    assert refused is not None and refused.code == "RATE_LIMITED"
    assert refused.retry_after_ms and refused.retry_after_ms > 0
