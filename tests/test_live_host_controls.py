"""Host controls over the realtime protocol and over REST, with every denial."""

import asyncio
import uuid

import pytest

from salon.client import ApiError, RealtimeError
from tests.live import Meeting, eventually, ids


async def test_kick_and_its_denial(room: Meeting) -> None:
    host = await room.join("group_call_host")
    guest = await room.join()
    other = await room.join()
    with pytest.raises(RealtimeError) as denied:
        await guest.kick([other.peer_id])
    assert denied.value.code == "FORBIDDEN"
    assert ids((await host.state())["room"]["peers"]) >= {other.peer_id}

    await host.kick([other.peer_id])
    assert (await other.wait_for("self.kicked"))["by_peer_id"] == host.peer_id
    await asyncio.wait_for(other.closed.wait(), 5)
    assert other.close_code == 4003
    assert (await guest.wait_for("peer.left"))["reason"] == "kicked"


async def test_disable_media_and_denials(room: Meeting) -> None:
    host = await room.join("group_call_host")
    guest = await room.join()
    other = await room.join()
    await guest.set_media(audio=True, video=True, screenshare=True)
    for kind in ("audio", "video", "screenshare"):
        with pytest.raises(RealtimeError) as denied:
            await other.disable_media([guest.peer_id], [kind])
        assert denied.value.code == "FORBIDDEN"
    assert (await guest.state())["self"]["video"] is True

    await host.disable_media([guest.peer_id], ["video", "screenshare"])
    disabled = await guest.wait_for("media.disabled")
    assert disabled["kinds"] == ["video", "screenshare"] and disabled["locked"] is False
    seen = await other.wait_for("peer.updated", lambda d: not d["peer"]["video"])
    assert seen["peer"]["peer_id"] == guest.peer_id and seen["peer"]["audio"] is True
    await guest.set_media(video=True)  # a plain disable lets the peer turn it back on


async def test_mute_all_leaves_salons_bots_alone(room: Meeting) -> None:
    """A recorder or transcriber (hidden, recorder preset) is neither counted nor told."""
    bot_preset = f"bot_{uuid.uuid4().hex[:8]}"
    await room.admin.create_preset(bot_preset, permissions={
        "hidden_participant": True, "is_recorder": True, "recorder_type": "RECORDER"})
    host = await room.join("group_call_host")
    guest = await room.join()
    bot = await room.join(bot_preset, name="Recorder")
    assert (await host.mute_all(allow_unmute=True))["count"] == 1
    assert (await host.request("host.disable_all_video"))["count"] == 1
    await guest.wait_for("media.disabled")
    await asyncio.sleep(0.2)
    assert bot.drain("media.disabled") == []


async def test_a_host_finds_none_of_salons_bots(room: Meeting) -> None:
    """A recorder's or transcriber's peer id is no host's to act on (it is in no list;
    stopping a recording is `can_record`'s): every host command answers NOT_FOUND and
    the bot stays. A hidden person is a host's to remove."""
    bot_preset, ghost_preset = f"bot_{uuid.uuid4().hex[:8]}", f"ghost_{uuid.uuid4().hex[:8]}"
    await room.admin.create_preset(bot_preset, permissions={
        "hidden_participant": True, "is_recorder": True, "recorder_type": "RECORDER"})
    await room.admin.create_preset(ghost_preset, permissions={"hidden_participant": True})
    host = await room.join("group_call_host")
    bot = await room.join(bot_preset, name="Recorder")
    ghost = await room.join(ghost_preset, name="Lurker")
    for kind, data in (("host.kick", {}), ("host.disable_media", {"kinds": ["audio"]}),
                       ("host.allow_media", {"kinds": ["audio"]}),
                       ("host.update_permissions", {"patch": {"can_spotlight": True}}),
                       ("stage.grant", {}), ("media.stats", None)):
        with pytest.raises(RealtimeError) as refused:
            if data is None:
                await host.request(kind, peer_id=bot.peer_id)
            else:
                await host.request(kind, peer_ids=[bot.peer_id], **data)
        assert refused.value.code == "NOT_FOUND", kind
    assert not bot.closed.is_set()
    await host.kick([ghost.peer_id])
    await asyncio.wait_for(ghost.closed.wait(), 5)


async def test_mute_all_without_unmute_locks_until_allowed(room: Meeting) -> None:
    host = await room.join("group_call_host")
    guests = [await room.join() for _ in range(3)]
    for guest in guests:
        await guest.set_media(audio=True)
    await host.set_media(audio=True)
    with pytest.raises(RealtimeError):
        await guests[0].mute_all()
    reply = await host.mute_all(allow_unmute=False)
    assert reply["count"] == 3
    for guest in guests:
        await guest.wait_for("media.disabled", lambda d: d["locked"])
        with pytest.raises(RealtimeError) as locked:
            await guest.set_media(audio=True)
        assert locked.value.code == "FORBIDDEN" and "host" in locked.value.message
    assert (await host.state())["self"]["audio"] is True  # the host muted the others

    with pytest.raises(RealtimeError):
        await guests[1].allow_media([guests[0].peer_id], ["audio"])
    await host.allow_media([guests[0].peer_id], ["audio"])
    await guests[0].set_media(audio=True)
    with pytest.raises(RealtimeError):
        await guests[1].set_media(audio=True)

    await host.mute_all(allow_unmute=True)
    await guests[0].wait_for("media.disabled", lambda d: not d["locked"])
    await guests[0].set_media(audio=True)


async def test_live_permission_updates(room: Meeting) -> None:
    host = await room.join("group_call_host")
    guest = await room.join()
    other = await room.join()
    with pytest.raises(RealtimeError):
        await guest.pin(other.peer_id)
    with pytest.raises(RealtimeError) as denied:
        await guest.update_permissions([guest.peer_id], {"pin_participant": True})
    assert denied.value.code == "FORBIDDEN"

    await host.update_permissions([guest.peer_id], {"pin_participant": True,
                                                    "media": {"video": {"can_produce":
                                                                        "NOT_ALLOWED"}}})
    update = await guest.wait_for("permissions.updated")
    assert update["patch"]["pin_participant"] is True
    me = (await guest.wait_for("self.updated"))["self"]
    assert me["permissions"]["pin_participant"] is True and me["can_publish"]["video"] is False
    await guest.pin(other.peer_id)
    with pytest.raises(RealtimeError):
        await guest.set_media(video=True)

    with pytest.raises(RealtimeError) as invalid:
        await host.update_permissions([guest.peer_id], {"waiting_room_type": "LOBBY"})
    assert invalid.value.code == "INVALID"
    with pytest.raises(RealtimeError) as invalid:
        await host.update_permissions([guest.peer_id], {"no_such_permission": True})
    assert invalid.value.code == "INVALID"


async def test_broadcast_to_everyone_participants_and_presets(room: Meeting) -> None:
    host = await room.join("group_call_host")
    guest = await room.join()
    viewer = await room.join("webinar_viewer")
    reply = await host.broadcast("reaction", {"emoji": "👏"})
    assert reply["delivered_to"] == 2
    for peer in (guest, viewer):
        message = await peer.wait_for("broadcast")
        assert message["type"] == "reaction" and message["payload"] == {"emoji": "👏"}
        assert message["from_peer_id"] == host.peer_id
    assert host.drain("broadcast") == []

    guest_participant = (await guest.state())["self"]["participant_id"]
    await host.broadcast("to-one", 1, participant_ids=[guest_participant])
    assert (await guest.wait_for("broadcast"))["type"] == "to-one"
    await host.broadcast("to-viewers", 2, preset_names=["webinar_viewer"])
    assert (await viewer.wait_for("broadcast"))["type"] == "to-viewers"
    await asyncio.sleep(0.2)
    assert [m["type"] for m in guest.drain("broadcast")] == []
    assert [m["type"] for m in viewer.drain("broadcast")] == []

    results = await asyncio.gather(*(guest.broadcast("spam", i) for i in range(12)),
                                   return_exceptions=True)
    limited = [r for r in results if isinstance(r, RealtimeError)]
    assert limited and all(r.code == "RATE_LIMITED" for r in limited)
    assert len(results) - len(limited) <= 6


async def test_kick_all_over_the_protocol_ends_the_session(room: Meeting) -> None:
    guest = await room.join()
    host = await room.join("group_call_host")
    with pytest.raises(RealtimeError):
        await guest.kick_all()
    session_id = host.joined["room"]["session_id"]
    reply = await host.kick_all()
    assert reply["kicked_participants_count"] == 2
    for peer in (guest, host):
        ended = await peer.wait_for("room.ended")
        assert ended["reason"] == "HOST_ENDED_MEETING"
        await asyncio.wait_for(peer.closed.wait(), 5)
        assert peer.close_code == 4005
    session = await eventually(lambda: _ended(room, session_id))
    assert session["status"] == "ENDED"


async def _ended(room: Meeting, session_id: str) -> dict | None:
    session = await room.admin.session(session_id)
    return session if session["status"] == "ENDED" else None


async def test_rest_controls(room: Meeting) -> None:
    with pytest.raises(ApiError) as none:
        await room.admin.active_session(room.id)
    assert none.value.status == 404
    with pytest.raises(ApiError) as none:
        await room.admin.kick_all(room.id)
    assert none.value.status == 404

    host_p = await room.participant("group_call_host")
    guest_p = await room.participant()
    other_p = await room.participant()
    host = await room.connect(host_p["token"])
    guest = await room.connect(guest_p["token"])
    other = await room.connect(other_p["token"])
    for peer in (host, guest, other):
        await peer.set_media(audio=True)

    muted = await room.admin.mute(room.id, participant_ids=[guest_p["id"]])
    assert muted["action"] == "mute"
    assert [p["id"] for p in muted["participants"]] == [guest_p["id"]]
    await guest.wait_for("media.disabled")

    reply = await room.admin.mute_all(room.id, allow_unmute=False)
    assert reply == {"action": "mute-all", "muted_participants_count": 3}
    with pytest.raises(RealtimeError):
        await other.set_media(audio=True)

    kicked = await room.admin.kick(room.id, custom_participant_ids=[other_p["custom_participant_id"]])
    assert [p["id"] for p in kicked["participants"]] == [other_p["id"]]
    await other.wait_for("self.kicked")

    with pytest.raises(ApiError) as empty:
        await room.admin.kick(room.id)
    assert empty.value.status == 400
    with pytest.raises(ApiError) as bad:
        await room.admin.call("POST", f"/meetings/{room.id}/active-session/mute-all", json={})
    assert bad.value.status == 400

    ended = await room.admin.kick_all(room.id)
    assert ended == {"action": "kick-all", "kicked_participants_count": 2}
    await host.wait_for("room.ended")
    with pytest.raises(ApiError):
        await room.admin.active_session(room.id)


async def test_rest_kicks_are_on_record_when_they_answer(room: Meeting) -> None:
    """Read-your-writes: the session and its participants read as kicked the moment the
    REST call answers, not 100–200 ms later when the room's records were saved."""
    host = await room.join("group_call_host")
    guest_p = await room.participant()
    await room.connect(guest_p["token"])
    session_id = (await room.admin.active_session(room.id))["id"]

    await room.admin.kick(room.id, participant_ids=[guest_p["id"]])
    people = (await room.admin.session_participants(session_id))["participants"]
    guest = next(p for p in people if p["custom_participant_id"] == guest_p["custom_participant_id"])
    assert guest["left_at"] is not None

    await room.admin.kick_all(room.id)
    session = await room.admin.session(session_id)
    assert session["status"] == "ENDED"
    assert session["live_participants"] == 0 and "ended_at" in session
    await host.wait_for("room.ended")
