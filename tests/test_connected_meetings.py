"""Connected meetings (breakout rooms) with real clients: rooms, moves, host tools, REST."""

import asyncio
import uuid

import pytest

from salon.client import RealtimeClient, RealtimeError
from tests.live import Meeting, eventually, ids


def _rooms(listing: dict) -> dict[str, set[str]]:
    """meeting id -> peer ids in it, parent included."""
    every = [listing["parent_meeting"], *listing["meetings"]]
    return {m["id"]: {p["peer_id"] for p in m["participants"]} for m in every}


async def _moved(peer: RealtimeClient, to: str) -> dict:
    await peer.wait_for("meeting.changing", lambda d: d["to_meeting_id"] == to)
    changed = await peer.wait_for("meeting.changed", lambda d: d["meeting_id"] == to)
    assert peer.peer_id == changed["peer_id"] and peer.meeting_id == to
    return changed


async def test_three_rooms_twelve_peers_round_robin(room: Meeting) -> None:
    host = await room.join("group_call_host")
    guests = [await room.join() for _ in range(12)]
    created = await host.create_connected(["Red", "Green", "Blue"])
    assert [m["title"] for m in created] == ["Red", "Green", "Blue"]
    children = [m["id"] for m in created]

    reply = await host.assign("round_robin")
    assert {k: len(v) for k, v in reply["assignments"].items()} == dict.fromkeys(children, 4)
    for index, guest in enumerate(guests):
        await _moved(guest, children[index % 3])
    # each room is a meeting of its own: the peers there see each other, nobody else
    for child in children:
        members = [g for g in guests if g.meeting_id == child]
        assert len(members) == 4
        state = await members[0].state()
        assert ids(state["room"]["peers"]) == {m.peer_id for m in members}
        assert state["room"]["meeting"]["id"] == child

    def settled(listing: dict) -> bool:
        rooms = _rooms(listing)
        return all(len(rooms[c]) == 4 for c in children) and rooms[room.id] == {host.peer_id}
    await eventually(lambda: _listed(host, settled))
    update = await host.wait_for("connected_meetings.updated", settled)
    assert [m["title"] for m in update["meetings"]] == ["Red", "Green", "Blue"]
    # the host saw the others leave the parent because they moved
    left = host.drain("peer.left")
    assert len(left) == 12 and {d["reason"] for d in left} == {"moved"}


async def _listed(peer: RealtimeClient, check) -> bool:
    return check(await peer.connected_meetings())


async def _preset(room: Meeting, **connected: bool) -> str:
    name = f"cm_{uuid.uuid4().hex[:10]}"
    await room.admin.create_preset(name, permissions={"connected_meetings": connected})
    return name


async def test_self_switching_allowed_and_denied(room: Meeting) -> None:
    host = await room.join("group_call_host")
    a, b = await host.create_connected(["A", "B"])
    switcher = await room.join()  # group_call_participant: may switch both ways
    one_way = await room.join(await _preset(room, can_switch_connected_meetings=True))
    stuck = await room.join(await _preset(room))

    await switcher.switch_meeting(a["id"])
    await _moved(switcher, a["id"])
    await switcher.switch_meeting(b["id"])  # child to child
    await _moved(switcher, b["id"])
    with pytest.raises(RealtimeError) as same:
        await switcher.switch_meeting(b["id"])
    assert same.value.code == "CONFLICT"
    with pytest.raises(RealtimeError) as unknown:
        await switcher.switch_meeting(room.id.replace(room.id[:8], "00000000"))
    assert unknown.value.code == "NOT_FOUND"
    await switcher.switch_meeting(room.id)
    await _moved(switcher, room.id)

    await one_way.switch_meeting(a["id"])
    await _moved(one_way, a["id"])
    before = one_way.peer_id
    with pytest.raises(RealtimeError) as denied:
        await one_way.switch_meeting(room.id)
    assert denied.value.code == "FORBIDDEN" and "can_switch_to_parent_meeting" in denied.value.message
    assert one_way.peer_id == before and one_way.meeting_id == a["id"]

    with pytest.raises(RealtimeError) as denied:
        await stuck.switch_meeting(a["id"])
    assert denied.value.code == "FORBIDDEN"
    with pytest.raises(RealtimeError) as denied:  # rights before the target is judged
        await stuck.switch_meeting(room.id.replace(room.id[:8], "00000000"))
    assert denied.value.code == "FORBIDDEN"
    with pytest.raises(RealtimeError) as denied:
        await stuck.connected_meetings()
    assert denied.value.code == "FORBIDDEN"
    assert (await stuck.state())["room"]["meeting"]["id"] == room.id
    assert not stuck.drain("meeting.changing")
    listing = await host.connected_meetings()
    assert stuck.peer_id in _rooms(listing)[room.id]
    assert one_way.peer_id in _rooms(listing)[a["id"]]


async def test_every_host_tool_denied_without_full_access(room: Meeting) -> None:
    host = await room.join("group_call_host")
    (child,) = await host.create_connected(["Only"])
    guest = await room.join()  # may switch, but has no Full Access
    other = await room.join()
    attempts = {
        "connected.create": {"meetings": [{"title": "x"}]},
        "connected.update": {"meetings": [{"id": child["id"], "title": "renamed"}]},
        "connected.delete": {"meeting_ids": [child["id"]]},
        "connected.move": {"to_meeting_id": child["id"], "peer_ids": [other.peer_id]},
        "connected.assign": {"mode": "round_robin"},
        "connected.broadcast": {"message": "hi"},
        "connected.close_all": {},
        "connected.timer": {"close_in_secs": 5},
    }
    for kind, data in attempts.items():
        with pytest.raises(RealtimeError) as denied:
            await guest.request(kind, **data)
        assert denied.value.code == "FORBIDDEN", kind
        assert "can_alter_connected_meetings" in denied.value.message
    await asyncio.sleep(0.3)
    listing = await host.connected_meetings()
    assert [(m["id"], m["title"]) for m in listing["meetings"]] == [(child["id"], "Only")]
    assert listing["timer"] is None
    assert _rooms(listing)[room.id] == {host.peer_id, guest.peer_id, other.peer_id}
    assert not other.drain("meeting.changing") and not other.drain("connected_meetings.broadcast")


async def test_bad_requests_change_nothing(room: Meeting) -> None:
    host = await room.join("group_call_host")
    (child,) = await host.create_connected(["Only"])
    guest = await room.join()
    for kind, data, code in [
        ("connected.move", {"to_meeting_id": child["id"], "peer_ids": ["nobody"]}, "NOT_FOUND"),
        ("connected.move", {"to_meeting_id": child["id"], "participant_ids": [
            guest.joined["self"]["participant_id"], "nobody"]}, "NOT_FOUND"),
        ("connected.move", {"to_meeting_id": "nowhere", "peer_ids": [guest.peer_id]},
         "NOT_FOUND"),
        ("connected.move", {"to_meeting_id": child["id"]}, "INVALID"),
        ("connected.move", {"to_meeting_id": child["id"], "peer_ids": [guest.peer_id],
                            "preset_name": "no such preset"}, "INVALID"),
        ("connected.create", {"meetings": []}, "INVALID"),
        ("connected.create", {"meetings": [{"title": "x\u0000"}]}, "INVALID"),
        ("connected.update", {"meetings": [{"id": "nope", "title": "x"}]}, "NOT_FOUND"),
        ("connected.delete", {"meeting_ids": ["nope"]}, "NOT_FOUND"),
        ("connected.assign", {"mode": "manual"}, "INVALID"),
        ("connected.assign", {"mode": "sideways"}, "INVALID"),
        ("connected.timer", {"close_in_secs": 0}, "INVALID"),
        ("connected.switch", {"to_meeting_id": 7}, "INVALID"),
    ]:
        with pytest.raises(RealtimeError) as refused:
            await host.request(kind, **data)
        assert refused.value.code == code, (kind, data, refused.value)
    listing = await host.connected_meetings()
    assert [m["title"] for m in listing["meetings"]] == ["Only"]
    assert guest.meeting_id == room.id and not guest.drain("meeting.changing")


async def test_moves_keep_media_and_take_another_preset(room: Meeting) -> None:
    host = await room.join("group_call_host")
    (child,) = await host.create_connected(["Side room"])
    guest = await room.join(name="Grace")
    await guest.set_media(audio=True, video=True)
    await host.move_to(child["id"], [guest.peer_id])
    changed = await _moved(guest, child["id"])
    me = changed["self"]
    assert (me["audio"], me["video"], me["name"]) == (True, True, "Grace")
    assert changed["token"] and changed["resume_token"] and changed["status"] == "joined"
    assert changed["by_peer_id"] == host.peer_id and "media" in changed

    # another preset: a webinar viewer is off stage, so its mic and camera go off
    await host.move_to(room.id, participant_ids=[guest.joined["self"]["custom_participant_id"]],
                       preset_name="webinar_viewer")
    back = await _moved(guest, room.id)
    assert back["self"]["preset_name"] == "webinar_viewer"
    assert (back["self"]["audio"], back["self"]["video"]) == (False, False)

    # the token of `meeting.changed` joins (or resumes) the new meeting
    await guest.close()
    again = await room.connect(guest.token, resume=guest.resume_info)
    assert again.peer_id == guest.peer_id and again.joined["room"]["meeting"]["id"] == room.id


async def test_moves_during_chat_lose_and_misroute_nothing(room: Meeting) -> None:
    host = await room.join("group_call_host")
    (child,) = await host.create_connected(["Chat room"])
    parent_watch = await room.join()
    talker = await room.join()
    custom = talker.joined["self"]["custom_participant_id"]
    await host.move_to(child["id"], [parent_watch.peer_id])  # someone to listen there
    child_watch = parent_watch
    await _moved(child_watch, child["id"])
    parent_watch = await room.join()
    parent_session = (await parent_watch.state())["room"]["session_id"]
    child_session = (await child_watch.state())["room"]["session_id"]
    assert parent_session != child_session

    async def chatter() -> list[dict]:
        sent = []
        for n in range(40):
            sent.append(await talker.send_text(f"message {n}"))
            await asyncio.sleep(0.005)
        return sent

    async def mover() -> None:
        for to in (child["id"], room.id, child["id"]):
            await asyncio.sleep(0.05)
            await host.move_to(to, participant_ids=[custom])
            await talker.wait_for("meeting.changed", lambda d, to=to: d["meeting_id"] == to)

    sent, _ = await asyncio.gather(chatter(), mover())
    assert len(sent) == 40
    where = {m["id"]: m["session_id"] for m in sent}
    assert set(where.values()) == {parent_session, child_session}  # it did move meanwhile
    await asyncio.sleep(0.3)
    heard_parent = {d["message"]["id"] for d in parent_watch.drain("chat.message")}
    heard_child = {d["message"]["id"] for d in child_watch.drain("chat.message")}
    assert heard_parent == {i for i, s in where.items() if s == parent_session}
    assert heard_child == {i for i, s in where.items() if s == child_session}


async def test_close_all_delete_and_broadcast(room: Meeting) -> None:
    host = await room.join("group_call_host")
    rooms = await host.create_connected(["1", "2", "3"])
    guests = [await room.join() for _ in range(6)]
    await host.assign("manual", assignments={
        rooms[i % 3]["id"]: [g.peer_id for g in guests[i::3]] for i in range(3)})
    for i, guest in enumerate(guests):
        await _moved(guest, rooms[i % 3]["id"])

    reply = await host.broadcast_rooms("Five minutes left", {"kind": "notice"})
    assert reply["delivered"] == 6
    for guest in guests:
        got = await guest.wait_for("connected_meetings.broadcast")
        assert got["message"] == "Five minutes left" and got["from_peer_id"] == host.peer_id

    await host.delete_connected([rooms[0]["id"]])  # its people go back to the parent
    for guest in guests[0::3]:
        await _moved(guest, room.id)
    listing = await host.connected_meetings()
    assert [m["id"] for m in listing["meetings"]] == [rooms[1]["id"], rooms[2]["id"]]

    reply = await host.close_rooms()
    assert len(reply["moving"]) == 4
    for guest in guests:
        if guest.meeting_id != room.id:
            await _moved(guest, room.id)
    await eventually(lambda: _listed(host, lambda listing: _rooms(listing)[room.id] == {
        host.peer_id, *(g.peer_id for g in guests)}))
    meetings = await room.admin.page("/meetings", search=rooms[0]["id"])
    assert meetings["data"][0]["status"] == "INACTIVE"  # deleted rooms stay readable


async def test_closing_the_rooms_leaves_salons_bots_where_they_are(room: Meeting) -> None:
    """A recorder or transcriber (a hidden recorder-preset peer) belongs to its room's
    session: closing the rooms moves the people only."""
    bot_preset = f"bot_{uuid.uuid4().hex[:8]}"
    await room.admin.create_preset(bot_preset, permissions={
        "hidden_participant": True, "is_recorder": True, "recorder_type": "RECORDER"})
    host = await room.join("group_call_host")
    (child,) = await host.create_connected(["Recorded"])
    guest = await room.join()
    await host.move_to(child["id"], [guest.peer_id])
    await _moved(guest, child["id"])
    seat = await room.admin.add_participant(child["id"], f"rec-{uuid.uuid4().hex[:6]}",
                                            bot_preset, name="Recorder")
    bot = await room.connect(seat["token"])
    assert bot.meeting_id == child["id"]
    in_child = guest.peer_id  # the guest's client takes its next id as the move arrives
    reply = await host.close_rooms()
    assert reply["moving"] == [in_child]
    await _moved(guest, room.id)
    await asyncio.sleep(0.2)
    assert bot.meeting_id == child["id"] and bot.drain("meeting.changing") == []


async def test_timer_warns_then_closes_every_room(room: Meeting) -> None:
    host = await room.join("group_call_host")
    (child,) = await host.create_connected(["Timed"])
    guest = await room.join()
    await host.move_to(child["id"], [guest.peer_id])
    await _moved(guest, child["id"])
    set_at = asyncio.get_running_loop().time()
    await host.room_timer(1.5, warn_secs=1)
    assert (await guest.wait_for("connected_meetings.timer"))["warn_secs"] == 1
    assert host.drain("connected_meetings.timer") == []  # the setter has its reply
    closing = await guest.wait_for("connected_meetings.closing", timeout=3)
    assert 0 < closing["in_secs"] <= 1.0
    await _moved(guest, room.id)
    assert asyncio.get_running_loop().time() - set_at >= 1.4
    assert (await host.connected_meetings())["timer"] is None

    await host.room_timer(30)
    assert (await host.connected_meetings())["timer"]["in_secs"] > 25
    assert (await host.room_timer(None))["cancelled"] is True
    assert (await host.connected_meetings())["timer"] is None


async def test_breakout_sessions_and_consolidated_minutes(room: Meeting) -> None:
    host = await room.join("group_call_host")
    (child,) = await host.create_connected(["Minutes"])
    guest = await room.join()
    custom = guest.joined["self"]["custom_participant_id"]
    parent_session = (await guest.state())["room"]["session_id"]
    await asyncio.sleep(0.3)
    await host.move_to(child["id"], [guest.peer_id])
    await _moved(guest, child["id"])
    child_session = (await guest.state())["room"]["session_id"]
    await asyncio.sleep(0.6)
    await host.move_to(room.id, [guest.peer_id])
    await _moved(guest, room.id)
    await asyncio.sleep(0.3)
    await guest.leave()
    await host.leave()

    async def recorded() -> dict:
        session = await room.admin.session(parent_session, include_breakout_rooms="true")
        breakouts = session.get("breakout_rooms", [])
        return session if breakouts and breakouts[0]["id"] == child_session else {}
    session = await eventually(recorded)
    assert session["breakout_rooms"][0]["associated_id"] == child["id"]

    async def durations(view: str) -> list[dict]:
        rows = (await room.admin.session_participants(parent_session, view=view,
                                                      per_page=100))["participants"]
        return [r for r in rows if r["custom_participant_id"] == custom]
    raw_parent = await eventually(lambda: _all_left(durations("raw"), 2))
    raw_child = (await room.admin.session_participants(child_session))["participants"]
    consolidated = await eventually(lambda: _all_left(durations("consolidated"), 1))
    total = sum(r["duration"] for r in raw_parent) + raw_child[0]["duration"]
    assert raw_child[0]["duration"] >= 0.6 / 60 * 0.9
    assert consolidated[0]["duration"] == pytest.approx(total, abs=1e-3)


async def _all_left(rows, count: int):
    rows = await rows
    return rows if len(rows) == count and all(r["left_at"] for r in rows) else None


async def test_rest_crud_moves_and_errors(room: Meeting) -> None:
    admin = room.admin
    created = await admin.create_connected(room.id, ["Alpha", None])
    alpha, untitled = created[0]["id"], created[1]["id"]
    renamed = await admin.rename_connected(room.id, untitled, "Beta")
    assert renamed == {"id": untitled, "title": "Beta"}
    listing = await admin.connected_meetings(room.id)
    assert [(m["id"], m["title"]) for m in listing["meetings"]] == [(alpha, "Alpha"),
                                                                    (untitled, "Beta")]
    assert listing["parent_meeting"]["id"] == room.id
    # children are meetings: M1 lists them, M3 reads them
    assert (await admin.call("GET", f"/meetings/{alpha}"))["title"] == "Alpha"

    guest = await room.join()
    in_parent = guest.peer_id
    moved = await admin.move_connected(room.id, alpha, participant_ids=[
        guest.joined["self"]["custom_participant_id"]])
    assert moved["moved"] == [in_parent]  # the peer that left; it has a new id there
    await _moved(guest, alpha)
    in_alpha = guest.peer_id
    assert in_alpha != in_parent
    deleted = await admin.delete_connected(room.id, alpha)
    assert deleted["moved"] == [in_alpha]  # its people went back to the parent
    await _moved(guest, room.id)
    got = await admin.broadcast_connected(room.id, "hello all")
    assert got["delivered"] == 1
    assert (await guest.wait_for("connected_meetings.broadcast"))["from_peer_id"] is None

    base = f"/meetings/{room.id}/connected_meetings"
    http = admin.http
    for method, path, body, status in [
        ("GET", f"/meetings/{uuid.uuid4()}/connected_meetings", None, 404),
        ("PATCH", f"{base}/{uuid.uuid4()}", {"title": "x"}, 404),
        ("DELETE", f"{base}/{alpha}", None, 404),  # already deleted
        ("POST", f"/meetings/{untitled}/connected_meetings", {"meetings": [{}]}, 409),
        ("POST", base, {"meetings": []}, 400),
        ("POST", base, {"meetings": [{"title": 5}]}, 400),
        ("POST", base, [1, 2], 400),
        ("POST", f"{base}/move", {"to_meeting_id": untitled}, 400),
        ("POST", f"{base}/move", {"to_meeting_id": untitled, "peer_ids": ["nobody"]}, 404),
        ("POST", f"{base}/move", {"to_meeting_id": untitled, "participant_ids": ["nobody"]},
         404),
        ("POST", f"{base}/move", {"to_meeting_id": untitled, "participant_ids": [
            guest.joined["self"]["custom_participant_id"], "nobody", "nor-me"]}, 404),
        ("POST", f"{base}/move", {"to_meeting_id": untitled, "peer_ids": [guest.peer_id],
                                  "preset_name": "nope"}, 400),
        ("POST", f"{base}/broadcast", {}, 400),
        ("POST", f"{base}/assign", {"mode": "manual"}, 400),
        ("POST", f"{base}/assign", {"mode": "round_robin", "meeting_ids": ["nowhere"]}, 404),
        ("PUT", f"{base}/timer", {"close_in_secs": 0}, 400),
    ]:
        response = await http.request(method, path, json=body)
        assert response.status_code == status, (method, path, response.text)
        envelope = response.json()
        assert envelope["success"] is False and envelope["error"]["code"] == status
    assert guest.meeting_id == room.id and not guest.drain("meeting.changing")
    unknown = await http.post(f"{base}/move", json={"to_meeting_id": untitled,
                                                     "participant_ids": ["nobody", "nor-me"]})
    assert unknown.json()["error"] == {"code": 404, "message": (
        "No peer of these participant_ids is joined in the meeting or its rooms: "
        "nobody, nor-me.")}
    unauthorized = await http.get(base, headers={"Authorization": "Bearer salon_nope"})
    assert unauthorized.status_code == 401 and unauthorized.json()["success"] is False


async def test_move_into_an_inactive_room_fails_and_the_peer_stays(room: Meeting) -> None:
    host = await room.join("group_call_host")
    (child,) = await host.create_connected(["Locked"])
    await room.admin.update_meeting(child["id"], status="INACTIVE")
    guest = await room.join()
    before = guest.peer_id
    await host.move_to(child["id"], [guest.peer_id])
    failed = await guest.wait_for("meeting.change_failed")
    assert failed["to_meeting_id"] == child["id"]
    assert guest.peer_id == before and (await guest.state())["room"]["meeting"]["id"] == room.id
    assert guest.peer_id in _rooms(await host.connected_meetings())[room.id]


async def test_rest_assigns_and_times_the_rooms(room: Meeting) -> None:
    admin = room.admin
    rooms = [m["id"] for m in await admin.create_connected(room.id, ["One", "Two"])]
    host = await room.join("group_call_host")
    guests = [await room.join() for _ in range(4)]
    base = f"/meetings/{room.id}/connected_meetings"
    dealt = await admin.call("POST", f"{base}/assign", json={"mode": "round_robin"})
    assert {r: len(p) for r, p in dealt["assignments"].items()} == {rooms[0]: 2, rooms[1]: 2}
    for guest in guests:
        await guest.wait_for("meeting.changed")
    places = _rooms(await host.connected_meetings())
    assert len(places[rooms[0]]) == 2 and len(places[rooms[1]]) == 2
    assert host.peer_id in places[room.id]  # hosts are not dealt out
    by_hand = await admin.call("POST", f"{base}/assign", json={
        "mode": "manual", "assignments": {rooms[1]: [guests[0].peer_id]}})
    assert list(by_hand["assignments"]) == [rooms[1]]
    timer = await admin.call("PUT", f"{base}/timer", json={"close_in_secs": 600,
                                                            "warn_secs": 30})
    assert timer["in_secs"] == 600 and timer["by_peer_id"] is None
    assert (await guests[1].wait_for("connected_meetings.timer"))["in_secs"] == 600
    assert (await admin.call("DELETE", f"{base}/timer")) == {"cancelled": True}
    assert (await admin.call("DELETE", f"{base}/timer")) == {"cancelled": False}
